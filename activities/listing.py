"""Paging through ListObjectsV2: what List Objects, List Prefixes and Purge share.

Pages are asked for one at a time, as the consumer reads them, so a listing streams and a
purge deletes one page's keys before it lists the next. A listing that may stop before S3's
last page keeps where it stopped in a `Listing`, whose end (truncated, the token that resumes
it, the region) the response carries as deferred properties.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from marshmallow import ValidationError, fields, validate

from s3_connector.connector import cancellation
from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.fields import (
    MAX_KEY_BYTES,
    InputRules,
    ValueRules,
    WholeNumber,
    check_text,
    describe,
)
from s3_connector.connector.streaming_json import Deferred

from . import continuation

MAX_RESULTS = 100_000
"""The most entries one listing returns; a longer one is truncated and resumable."""
PAGE_SIZE = 10_000
"""The most keys a ListObjectsV2 request asks for. Amazon S3 returns at most 1,000 whatever
is asked (a server may return fewer keys than asked, never more); SeaweedFS returns what is
asked: 100,000 keys listed by `s3c run list_objects` in 1.74 to 1.76 s with 10,000, 2.09 to
2.28 s with 1,000 (2026-12-04, loopback, 2 runs each)."""

T = TypeVar("T")


def max_results_field(description: str, maximum: int = MAX_RESULTS) -> WholeNumber:
    return WholeNumber(
        load_default=maximum,
        validate=validate.Range(min=1, max=maximum),
        metadata=describe("Maximum results", description, group="listing"),
    )


TOKEN_RULE = "must be a next_continuation_token: printable ASCII, no spaces"


class TokenRules(validate.Validator):
    """A token is printable ASCII (S3's are base64); one this connector issued must decode to
    a key that `check_text` accepts (control characters only where the connection allows)."""

    def __call__(self, token: str) -> str:
        if _TOKEN.fullmatch(token) is None:
            raise ValidationError(TOKEN_RULE)
        try:
            start_after = continuation.request_params(token).get("StartAfter")
        except InvalidInput as exc:
            raise ValidationError(exc.message) from None
        if start_after is not None:
            check_text(start_after, max_bytes=MAX_KEY_BYTES + 4)
        return token

    def value_rules(self, rules: InputRules) -> ValueRules:
        return ValueRules(
            {"pattern": f"^{_TOKEN.pattern}$"},
            {"pattern": TOKEN_RULE},
            ("a token this connector issued must hold a valid key",),
        )


_TOKEN = re.compile(r"[!-~]+")


def continuation_token_field() -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1), TokenRules()],
        metadata=describe(
            "Continuation token",
            "next_continuation_token of a truncated listing, to resume it exactly.",
            group="listing",
            dynamic=True,
        ),
    )


def next_token(page: dict[str, Any]) -> str | None:
    """S3's token for the page after `page`; None when `page` ends the listing."""
    return (page.get("NextContinuationToken") or None) if page.get("IsTruncated") else None


def list_pages(
    connection: Any,
    request: dict[str, Any],
    *,
    region: str | None,
    wanted: Callable[[], int] | None = None,
    prefetch: bool = False,
) -> Iterator[tuple[dict[str, Any], str]]:
    """The ListObjectsV2 pages of `request` (Bucket, Prefix and any other parameter), each with
    the region it was listed in, until S3's last page. `wanted()` is how many keys the
    consumer still wants, so a page asks for no more than that. Each page after the first
    resumes from S3's token (a StartAfter of the first request is then dropped).

    With `prefetch`, while the consumer reads a page the next one is already being fetched,
    sized to what the consumer will still want once it has taken all of this one (the
    page's KeyCount, else the size asked for, tells how many it holds). So the requests are
    the ones a page-by-page listing makes, and a consumer that stops early costs at most one
    page it did not read. Without it (Purge: a page's keys are deleted before the next is
    listed), a page is requested only when the consumer asks for it."""
    request = dict(request)
    bucket = request["Bucket"]
    target = f"s3://{bucket}/{request.get('Prefix', '')}"
    plane = connection.data_plane

    def fetch(ask: dict[str, Any], size: int) -> tuple[dict[str, Any], str]:
        return connection.regions.run(
            bucket,
            region,
            lambda region: plane.list_page({**ask, "MaxKeys": size}, region=region),
            name="ListObjectsV2",
            target=target,
        )

    with ThreadPoolExecutor(1, thread_name_prefix="s3c-list") as prefetcher:
        upcoming: Future[tuple[dict[str, Any], str]] | None = None
        size = following = PAGE_SIZE
        try:
            while True:
                if upcoming is None:
                    size = PAGE_SIZE if wanted is None else min(PAGE_SIZE, wanted())
                    page, page_region = fetch(request, size)
                else:
                    page, page_region = upcoming.result()
                    upcoming, size = None, following
                token = next_token(page)
                if token is not None:
                    request.pop("StartAfter", None)
                    request["ContinuationToken"] = token
                    following = _following_size(page, size, wanted)
                    if prefetch and following > 0:
                        upcoming = cancellation.submit(prefetcher, fetch, dict(request), following)
                yield page, page_region
                if token is None:
                    return
        finally:
            if upcoming is not None:
                upcoming.cancel()


def _following_size(page: Mapping[str, Any], size: int, wanted: Callable[[], int] | None) -> int:
    """What the page after `page` is to ask for, once the consumer has taken all of `page`:
    `PAGE_SIZE`, or less when the consumer then wants less. How many entries `page` holds is
    its KeyCount (read without parsing a CRT page), or at most `size`, what was asked."""
    if wanted is None:
        return PAGE_SIZE
    held = page.get("KeyCount")
    if not isinstance(held, int) or isinstance(held, bool) or not 0 <= held <= size:
        held = size
    return min(PAGE_SIZE, wanted() - held)


def fetched_first(items: Iterator[T]) -> Iterator[T]:
    """`items` with the first one fetched now, so that a failure (a missing bucket, a
    refused token) is raised before any output rather than while the response streams."""
    first = next(items)
    return itertools.chain([first], items)


class Listing:
    """Where a listing stands, and what is known only at its end."""

    def __init__(self, connection: Any, settings: dict[str, Any]):
        self.connection = connection
        self.settings = settings
        self.truncated = False
        self.next_token: str | None = None
        self.region: str | None = None

    def ending(self) -> dict[str, Deferred]:
        """The response properties known once the listing has been read to its end."""
        return {
            "truncated": Deferred(lambda: self.truncated),
            "next_continuation_token": Deferred(lambda: self.next_token),
            "region": Deferred(lambda: self.region),
        }
