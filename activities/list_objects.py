"""List Objects: a listing of up to 100,000 objects, paged and streamed, resumable exactly."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from marshmallow import fields, validate

from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.fields import describe
from s3_connector.connector.streaming_json import Deferred

from .common import BucketSettings, etag, timestamp

MAX_RESULTS = 100_000
PAGE_SIZE = 1000


class ListObjectsSettings(BucketSettings):
    prefix = fields.String(
        load_default="",
        validate=validate.Length(max=1024),
        metadata=describe(
            "Prefix", "Only keys that start with this prefix.", group="listing", dynamic=True
        ),
    )
    delimiter = fields.String(
        validate=validate.Length(min=1, max=16),
        metadata=describe(
            "Delimiter",
            "Groups keys that contain it after the prefix into common prefixes (e.g. /).",
            group="listing",
        ),
    )
    max_results = fields.Integer(
        load_default=MAX_RESULTS,
        validate=validate.Range(min=1, max=MAX_RESULTS),
        metadata=describe(
            "Maximum results",
            "Most entries to return (objects and common prefixes, as S3 counts them). "
            "A longer listing is truncated and can be resumed from next_continuation_token.",
            group="listing",
        ),
    )
    start_after = fields.String(
        validate=validate.Length(min=1, max=1024),
        metadata=describe(
            "Start after",
            "List keys after this key (ignored with a continuation token).",
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


class _Listing:
    """Pages through ListObjectsV2; what is known only at the end is kept here."""

    def __init__(self, activity: ListObjects, settings: dict[str, Any]):
        self.activity = activity
        self.settings = settings
        self.common_prefixes: list[str] = []
        self.truncated = False
        self.next_token: str | None = None
        self.region: str | None = None

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """The objects of each ListObjectsV2 page, until the listing or max_results ends."""
        s = self.settings
        bucket = s["bucket"]
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": s["prefix"]}
        for name, param in (
            ("delimiter", "Delimiter"),
            ("start_after", "StartAfter"),
            ("continuation_token", "ContinuationToken"),
        ):
            if s.get(name):
                request[param] = s[name]
        remaining = s["max_results"]
        while remaining > 0:
            size = min(PAGE_SIZE, remaining)
            page, self.region = self.activity.connection.regions.call(
                bucket,
                s.get("region"),
                lambda client, size=size: client.list_objects_v2(MaxKeys=size, **request),
                name="ListObjectsV2",
                target=f"s3://{bucket}/{s['prefix']}",
            )
            contents = page.get("Contents", [])
            prefixes = [entry["Prefix"] for entry in page.get("CommonPrefixes", [])]
            self.common_prefixes.extend(prefixes)
            remaining -= len(contents) + len(prefixes)
            token = page.get("NextContinuationToken")
            self.truncated = bool(page.get("IsTruncated")) and bool(token)
            self.next_token = token if self.truncated else None
            yield [_entry(item) for item in contents]
            if not self.truncated:
                return
            request["ContinuationToken"] = token
            request.pop("StartAfter", None)


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": item["Key"],
        "size": item.get("Size"),
        "etag": etag(item.get("ETag")),
        "last_modified": timestamp(item.get("LastModified")),
        "storage_class": item.get("StorageClass", "STANDARD"),
    }


class ListObjects(TargetActivity):
    id = "list_objects"
    name = "List Objects"
    description = (
        "Lists up to 100,000 objects of a bucket. A target, as in the reference connector: "
        "it takes a request document and returns one listing document, paged through "
        "ListObjectsV2 and streamed; a truncated listing resumes exactly from "
        "next_continuation_token."
    )
    Settings = ListObjectsSettings
    writes = ("bucket", "prefix", "region")
    response = {
        "type": "object",
        "properties": {
            "bucket": {"type": "string"},
            "prefix": {"type": "string"},
            "objects": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string"},
                        "size": {"type": "integer"},
                        "etag": {"type": "string"},
                        "last_modified": {"type": "string"},
                        "storage_class": {"type": "string"},
                    },
                    "required": ["key", "size", "etag", "last_modified", "storage_class"],
                },
            },
            "common_prefixes": {"type": "array", "items": {"type": "string"}},
            "truncated": {"type": "boolean"},
            "next_continuation_token": {"type": ["string", "null"]},
            "region": {"type": "string"},
        },
        "required": [
            "bucket",
            "objects",
            "common_prefixes",
            "truncated",
            "next_continuation_token",
        ],
    }
    permissions = ({"action": "s3:ListBucket", "resource": "bucket"},)

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        listing = _Listing(self, settings)
        pages = listing.pages()
        first = next(pages)
        objects = (entry for page in itertools.chain([first], pages) for entry in page)
        yield Document(
            {
                "bucket": settings["bucket"],
                "prefix": settings["prefix"],
                "objects": objects,
                "common_prefixes": Deferred(lambda: listing.common_prefixes),
                "truncated": Deferred(lambda: listing.truncated),
                "next_continuation_token": Deferred(lambda: listing.next_token),
                "region": Deferred(lambda: listing.region),
            }
        )
