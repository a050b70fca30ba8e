"""List Prefixes: the common prefixes ("folders") under a prefix, paged, streamed, resumable."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from marshmallow import fields, validate

from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.fields import describe
from s3_connector.connector.streaming_json import Deferred

from . import continuation
from .common import BucketSettings

MAX_RESULTS = 100_000
PAGE_SIZE = 1000


class ListPrefixesSettings(BucketSettings):
    prefix = fields.String(
        load_default="",
        validate=validate.Length(max=1024),
        metadata=describe(
            "Prefix",
            "List the prefixes under this one (e.g. inbox/); the whole bucket when empty.",
            group="listing",
            dynamic=True,
        ),
    )
    delimiter = fields.String(
        load_default="/",
        validate=validate.Length(min=1, max=16),
        metadata=describe(
            "Delimiter",
            "What ends a prefix: keys are grouped up to the first delimiter after the prefix.",
            group="listing",
        ),
    )
    max_results = fields.Integer(
        load_default=MAX_RESULTS,
        validate=validate.Range(min=1, max=MAX_RESULTS),
        metadata=describe(
            "Maximum results",
            "Most prefixes to return. A longer listing is truncated and can be resumed from "
            "next_continuation_token.",
            group="listing",
        ),
    )
    continuation_token = fields.String(
        validate=validate.Length(min=1),
        metadata=describe(
            "Continuation token",
            "next_continuation_token of a truncated listing, to resume it exactly.",
            group="listing",
            dynamic=True,
        ),
    )


class _PrefixListing:
    """Pages through ListObjectsV2 with a delimiter, keeping only the common prefixes; what
    is known only at the end is kept here."""

    def __init__(self, connection: Any, settings: dict[str, Any]):
        self.connection = connection
        self.settings = settings
        self.truncated = False
        self.next_token: str | None = None
        self.region: str | None = None

    def pages(self) -> Iterator[list[str]]:
        """The common prefixes of each page, until the listing or max_results ends. A stop
        inside a page hands on a token that resumes after the last prefix returned."""
        s = self.settings
        bucket = s["bucket"]
        request: dict[str, Any] = {
            "Bucket": bucket,
            "Prefix": s["prefix"],
            "Delimiter": s["delimiter"],
            **continuation.request_params(s.get("continuation_token")),
        }
        remaining = s["max_results"]
        while True:
            page, self.region = self.connection.regions.call(
                bucket,
                s.get("region"),
                lambda client: client.list_objects_v2(MaxKeys=PAGE_SIZE, **request),
                name="ListObjectsV2",
                target=f"s3://{bucket}/{s['prefix']}",
            )
            prefixes = [entry["Prefix"] for entry in page.get("CommonPrefixes", [])]
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if len(prefixes) > remaining:
                prefixes = prefixes[:remaining]
                self.truncated = True
                self.next_token = continuation.after_entry(prefixes[-1], is_prefix=True)
                yield prefixes
                return
            remaining -= len(prefixes)
            self.truncated = token is not None
            self.next_token = token
            yield prefixes
            if token is None or remaining == 0:
                return
            request.pop("StartAfter", None)
            request["ContinuationToken"] = token


class ListPrefixes(TargetActivity):
    id = "list_prefixes"
    name = "List Prefixes"
    description = (
        "Lists the common prefixes (folders) under a prefix, up to 100,000. A target, like "
        "List Objects: it takes a request document and returns one listing document, paged "
        "through ListObjectsV2 with a delimiter and streamed; a truncated listing resumes "
        "exactly from next_continuation_token."
    )
    Settings = ListPrefixesSettings
    writes = ("bucket", "prefix", "region")
    response = {
        "type": "object",
        "properties": {
            "bucket": {"type": "string"},
            "prefix": {"type": "string"},
            "delimiter": {"type": "string"},
            "prefixes": {"type": "array", "items": {"type": "string"}},
            "truncated": {"type": "boolean"},
            "next_continuation_token": {"type": ["string", "null"]},
            "region": {"type": "string"},
        },
        "required": [
            "bucket",
            "prefix",
            "delimiter",
            "prefixes",
            "truncated",
            "next_continuation_token",
        ],
    }
    permissions = ({"action": "s3:ListBucket", "resource": "bucket"},)

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        listing = _PrefixListing(self.connection, settings)
        pages = listing.pages()
        first = next(pages)
        prefixes = (prefix for page in itertools.chain([first], pages) for prefix in page)
        yield Document(
            {
                "bucket": settings["bucket"],
                "prefix": settings["prefix"],
                "delimiter": settings["delimiter"],
                "prefixes": prefixes,
                "truncated": Deferred(lambda: listing.truncated),
                "next_continuation_token": Deferred(lambda: listing.next_token),
                "region": Deferred(lambda: listing.region),
            }
        )
