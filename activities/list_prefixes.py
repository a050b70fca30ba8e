"""List Prefixes: the common prefixes ("folders") under a prefix, paged, streamed, resumable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import fields

from s3_connector.connector.activity import ResponseSchema, TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.fields import KeyText, describe

from . import continuation
from .common import PREFIX_WRITES, BucketSettings
from .listing import (
    Listing,
    continuation_token_field,
    fetched_first,
    list_pages,
    max_results_field,
    next_token,
)


class ListPrefixesSettings(BucketSettings):
    prefix = KeyText(
        load_default="",
        max_length=1024,
        metadata=describe(
            "Prefix",
            "List the prefixes under this one (e.g. inbox/); the whole bucket when empty.",
            group="listing",
            dynamic=True,
        ),
    )
    delimiter = KeyText(
        load_default="/",
        min_length=1,
        max_length=16,
        metadata=describe(
            "Delimiter",
            "What ends a prefix: keys are grouped up to the first delimiter after the prefix.",
            group="listing",
        ),
    )
    max_results = max_results_field(
        "Most prefixes to return. A longer listing is truncated and can be resumed from "
        "next_continuation_token."
    )
    continuation_token = continuation_token_field()


class _PrefixListing(Listing):
    """Pages through ListObjectsV2 with a delimiter, keeping only the common prefixes."""

    def pages(self) -> Iterator[list[str]]:
        """The common prefixes of each page, until the listing or max_results ends. A stop
        inside a page hands on a token that resumes after the last prefix returned."""
        s = self.settings
        request: dict[str, Any] = {
            "Bucket": s["bucket"],
            "Prefix": s["prefix"],
            "Delimiter": s["delimiter"],
            **continuation.request_params(s.get("continuation_token")),
        }
        remaining = s["max_results"]
        for page, region in list_pages(
            self.connection, request, region=s.get("region"), prefetch=True
        ):
            self.region = region
            prefixes = [entry["Prefix"] for entry in page.get("CommonPrefixes", [])]
            if len(prefixes) > remaining:
                prefixes = prefixes[:remaining]
                self.truncated = True
                self.next_token = continuation.after_entry(prefixes[-1], is_prefix=True)
                yield prefixes
                return
            remaining -= len(prefixes)
            self.next_token = next_token(page)
            self.truncated = self.next_token is not None
            yield prefixes
            if remaining == 0:
                return


class ListPrefixesResponse(ResponseSchema):
    bucket = fields.String(required=True)
    prefix = fields.String(required=True)
    delimiter = fields.String(required=True)
    prefixes = fields.List(fields.String(), required=True)
    truncated = fields.Boolean(required=True)
    next_continuation_token = fields.String(required=True, allow_none=True)
    region = fields.String()


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
    writes = PREFIX_WRITES
    Response = ListPrefixesResponse
    permissions = ({"action": "s3:ListBucket", "resource": "bucket"},)

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        listing = _PrefixListing(self.connection, settings)
        prefixes = (prefix for page in fetched_first(listing.pages()) for prefix in page)
        yield Document(
            {
                "bucket": settings["bucket"],
                "prefix": settings["prefix"],
                "delimiter": settings["delimiter"],
                "prefixes": prefixes,
                **listing.ending(),
            }
        )
