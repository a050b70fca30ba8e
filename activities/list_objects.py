"""List Objects: a listing of up to 100,000 objects, paged and streamed, resumable exactly."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from marshmallow import fields, validate

from s3_connector.connector.activity import ResponseSchema, Shape, TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import ConnectorError
from s3_connector.connector.fields import KeyText, describe
from s3_connector.connector.streaming_json import Deferred

from . import continuation
from .common import (
    BucketSettings,
    ChecksumResponse,
    LocationResponse,
    etag,
    object_description,
    object_properties,
    sse_c_key_field,
    sse_params,
    timestamp,
)
from .listing import (
    Listing,
    continuation_token_field,
    fetched_first,
    list_pages,
    max_results_field,
    next_token,
)
from .probing import head_object

METADATA_WORKERS = 16
"""HeadObject calls in flight at once for include_metadata."""
EMIT_LISTING, EMIT_OBJECTS = "listing", "objects"


class ListObjectsSettings(BucketSettings):
    prefix = KeyText(
        load_default="",
        max_length=1024,
        metadata=describe(
            "Prefix", "Only keys that start with this prefix.", group="listing", dynamic=True
        ),
    )
    recurse = fields.Boolean(
        load_default=True,
        metadata=describe(
            "Recurse",
            "List every key under the prefix. When false, list one level: deeper keys are "
            "grouped into common_prefixes by the delimiter (/ unless set).",
            group="listing",
        ),
    )
    delimiter = KeyText(
        min_length=1,
        max_length=16,
        metadata=describe(
            "Delimiter",
            "Groups keys that contain it after the prefix into common prefixes (e.g. /).",
            group="listing",
        ),
    )
    filter = KeyText(
        max_bytes=None,
        min_length=1,
        max_length=1024,
        metadata=describe(
            "Filter",
            "A glob (* ? [abc]) on the object's name, the part of the key after the last /; "
            "on the whole key when the pattern contains /.",
            group="listing",
        ),
    )
    case_sensitive = fields.Boolean(
        load_default=False,
        metadata=describe(
            "Case sensitive", "Whether the filter tells upper from lower case.", group="listing"
        ),
    )
    max_results = max_results_field(
        "Most entries to return: objects that pass the filter, and common prefixes. "
        "A longer listing is truncated and can be resumed from next_continuation_token."
    )
    start_after = KeyText(
        min_length=1,
        max_length=1024,
        metadata=describe(
            "Start after",
            "List keys after this key (ignored with a continuation token).",
            group="listing",
        ),
    )
    continuation_token = continuation_token_field()
    include_metadata = fields.Boolean(
        load_default=False,
        metadata=describe(
            "Include metadata",
            "Add each object's content type, user metadata, version and checksum "
            f"(one HeadObject per object, {METADATA_WORKERS} at a time).",
            group="options",
        ),
    )
    emit = fields.String(
        load_default=EMIT_LISTING,
        validate=validate.OneOf([EMIT_LISTING, EMIT_OBJECTS]),
        metadata=describe(
            "Emit",
            "listing: one response document holding the listing. objects: one response "
            "document per object, carrying its bucket, key, folder, file_name and region, "
            "ready for the next activity (e.g. Get Object); the last one says whether the "
            "listing was truncated.",
            group="options",
            labels={"listing": "One listing document", "objects": "One document per object"},
        ),
    )
    sse_c_key = sse_c_key_field(
        "Key (base64 of 32 bytes) for reading the metadata of SSE-C objects (include_metadata)."
    )


def name_matcher(settings: dict[str, Any]) -> Callable[[str], bool]:
    """Whether a key passes the filter: a glob on the name, or on the key if it has a /."""
    pattern = settings.get("filter")
    if not pattern:
        return lambda key: True
    on_key = "/" in pattern
    if not settings["case_sensitive"]:
        pattern = pattern.casefold()

    def matches(key: str) -> bool:
        subject = key if on_key else key.rsplit("/", 1)[-1]
        if not settings["case_sensitive"]:
            subject = subject.casefold()
        return fnmatch.fnmatchcase(subject, pattern)

    return matches


class _Listing(Listing):
    """Pages through ListObjectsV2, keeping the common prefixes for the end of the response."""

    def __init__(self, connection: Any, settings: dict[str, Any]):
        super().__init__(connection, settings)
        self.matches = name_matcher(settings)
        self.common_prefixes: list[str] = []

    def _request(self) -> dict[str, Any]:
        s = self.settings
        request: dict[str, Any] = {"Bucket": s["bucket"], "Prefix": s["prefix"]}
        delimiter = s.get("delimiter") or (None if s["recurse"] else "/")
        if delimiter:
            request["Delimiter"] = delimiter
        if s.get("continuation_token"):
            request.update(continuation.request_params(s["continuation_token"]))
        elif s.get("start_after"):
            request["StartAfter"] = s["start_after"]
        return request

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """The objects of each page (after the filter), until the listing or max_results
        ends. A page is cut short when max_results falls inside it; the continuation token
        then resumes right after the last entry returned."""
        remaining = self.settings["max_results"]
        filtered = bool(self.settings.get("filter"))
        last, last_is_prefix = "", False

        def wanted() -> int:
            return remaining

        for page, region in list_pages(
            self.connection,
            self._request(),
            region=self.settings.get("region"),
            wanted=None if filtered else wanted,
            prefetch=True,
        ):
            self.region = region
            entries: list[tuple[str, Any]] = [
                (item["Key"], item) for item in page.get("Contents", [])
            ]
            if page.get("CommonPrefixes"):
                entries += [(entry["Prefix"], None) for entry in page["CommonPrefixes"]]
                entries.sort(key=lambda pair: continuation.sort_key(pair[0]))
            objects: list[dict[str, Any]] = []
            for name, item in entries:
                if item is not None and not self.matches(name):
                    continue
                if remaining == 0:
                    self.truncated = True
                    self.next_token = continuation.after_entry(last, is_prefix=last_is_prefix)
                    yield objects
                    return
                if item is None:
                    self.common_prefixes.append(name)
                else:
                    objects.append(_entry(item))
                last, last_is_prefix = name, item is None
                remaining -= 1
            self.next_token = next_token(page)
            self.truncated = self.next_token is not None
            yield objects
            if not self.truncated or remaining == 0:
                return


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": item["Key"],
        "size": item.get("Size"),
        "etag": etag(item.get("ETag")),
        "last_modified": timestamp(item.get("LastModified")),
        "storage_class": item.get("StorageClass", "STANDARD"),
    }


class ListedEntryResponse(ResponseSchema):
    """`_entry`'s properties."""

    key = fields.String(required=True)
    size = fields.Integer(required=True)
    etag = fields.String(required=True)
    last_modified = fields.String(required=True)
    storage_class = fields.String(required=True)


class ListedMetadataResponse(ResponseSchema):
    """What include_metadata adds to an entry: these properties of `object_description` (as
    `ObjectDescriptionResponse` declares them, but optional), or the HeadObject's error."""

    content_type = fields.String()
    metadata = fields.Dict(keys=fields.String(), values=fields.String())
    version_id = fields.String(allow_none=True)
    checksum = fields.Nested(ChecksumResponse, allow_none=True)
    sse_c = fields.Boolean()
    metadata_error = fields.String()


METADATA_PROPERTIES = tuple(ListedMetadataResponse().fields)
"""The properties `_with_metadata` takes from `object_description` (when it has them)."""


class ListedObjectResponse(ListedMetadataResponse, ListedEntryResponse):
    """An object of the listing (the fields of the last base come first)."""


class ListingResponse(ResponseSchema):
    """The listing document (emit=listing)."""

    bucket = fields.String(required=True)
    prefix = fields.String()
    objects = fields.List(fields.Nested(ListedObjectResponse), required=True)
    common_prefixes = fields.List(fields.String(), required=True)
    truncated = fields.Boolean(required=True)
    next_continuation_token = fields.String(required=True, allow_none=True)


class ListObjectsResponse(ListedObjectResponse, LocationResponse, ListingResponse):
    """A listing document, or with emit=objects one document per object: its location, its
    entry, and the listing's prefix, truncated and next_continuation_token."""

    shapes = (
        Shape(
            "the listing (emit=listing)",
            required=(
                "bucket",
                "objects",
                "common_prefixes",
                "truncated",
                "next_continuation_token",
            ),
            absent=("key",),
        ),
        Shape(
            "one object (emit=objects)",
            required=("bucket", "key", "folder", "file_name", "size", "truncated"),
            absent=("objects",),
        ),
    )


class ListObjects(TargetActivity):
    id = "list_objects"
    name = "List Objects"
    description = (
        "Lists up to 100,000 objects of a bucket. A target, as in the reference connector: "
        "it takes a request document and returns one listing document, paged through "
        "ListObjectsV2 and streamed; a truncated listing resumes exactly from "
        "next_continuation_token. With emit=objects it returns one document per object "
        "instead, ready for Get Object, Copy Object or Delete Object."
    )
    Settings = ListObjectsSettings
    writes = ("bucket", "key", "folder", "file_name", "prefix", "region")
    Response = ListObjectsResponse
    permissions = (
        {"action": "s3:ListBucket", "resource": "bucket"},
        {"action": "s3:GetObject", "resource": "object", "when": "include_metadata"},
    )

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        listing = _Listing(self.connection, settings)
        objects = self._with_metadata(fetched_first(listing.pages()), settings)
        if settings["emit"] == EMIT_OBJECTS:
            yield from self._object_documents(objects, listing)
            return
        yield Document(
            {
                "bucket": settings["bucket"],
                "prefix": settings["prefix"],
                "objects": (entry for page in objects for entry in page),
                "common_prefixes": Deferred(lambda: listing.common_prefixes),
                **listing.ending(),
            }
        )

    def _object_documents(
        self, pages: Iterator[list[dict[str, Any]]], listing: _Listing
    ) -> Iterator[Document]:
        settings = listing.settings
        entries = (entry for page in pages for entry in page)
        current = next(entries, None)
        while current is not None:
            following = next(entries, None)
            last = following is None
            yield Document(
                object_properties(
                    settings["bucket"],
                    current["key"],
                    listing.region,
                    prefix=settings["prefix"],
                    **{name: value for name, value in current.items() if name != "key"},
                    truncated=listing.truncated if last else False,
                    next_continuation_token=listing.next_token if last else None,
                )
            )
            current = following

    def _with_metadata(
        self, pages: Iterator[list[dict[str, Any]]], settings: dict[str, Any]
    ) -> Iterator[list[dict[str, Any]]]:
        if not settings["include_metadata"]:
            yield from pages
            return
        sse = sse_params(settings)

        def describe_entry(entry: dict[str, Any]) -> dict[str, Any]:
            try:
                head, _ = head_object(
                    self.connection,
                    settings["bucket"],
                    entry["key"],
                    region=settings.get("region"),
                    sse=sse,
                )
            except ConnectorError as exc:
                return {**entry, "metadata_error": str(exc)}
            described = object_description(head)
            return entry | {
                name: described[name] for name in METADATA_PROPERTIES if name in described
            }

        with ThreadPoolExecutor(METADATA_WORKERS, thread_name_prefix="s3c-head") as pool:
            for page in pages:
                yield list(pool.map(describe_entry, page))
