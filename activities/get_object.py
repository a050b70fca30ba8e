"""Get Object: read an object into a document whose content streams from S3."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from marshmallow import ValidationError, fields

from s3_connector.connector.activity import SourceActivity
from s3_connector.connector.documents import READ_CHUNK, Document
from s3_connector.connector.downloads import ObjectReader, open_verified
from s3_connector.connector.errors import from_client_error
from s3_connector.connector.fields import FullMatch, ObjectKey, describe

from .common import (
    OBJECT_WRITES,
    READ_PERMISSIONS,
    READ_SSE_C_KEY,
    BucketSettings,
    etag,
    needs_sse_c_key,
    split_key,
    sse_c_key_field,
    sse_c_refusal,
    sse_params,
    timestamp,
    version_id_field,
)

RANGE_PATTERN = r"^bytes=(?:[0-9]+-[0-9]*|-[0-9]+)$"
RANGE_RULE = "must be one byte range: bytes=0-1023, bytes=100- or bytes=-500"


def _position(digits: str) -> tuple[int, str]:
    """A byte position, comparable without int() (which refuses very long numbers)."""
    digits = digits.lstrip("0") or "0"
    return len(digits), digits


class _ByteRange(FullMatch):
    """One HTTP byte range, well formed and ordered: bytes=5-2 and bytes=-0 are refused, as
    S3 would ignore the first (sending the whole object) and refuse the second."""

    def __call__(self, value: Any) -> Any:
        super().__call__(value)
        first, _, last = value.removeprefix("bytes=").partition("-")
        if first and last and _position(first) > _position(last):
            raise ValidationError(f"{RANGE_RULE}; its first byte must not be after its last")
        if not first and _position(last) == (1, "0"):
            raise ValidationError(f"{RANGE_RULE}; a suffix range must be at least 1 byte")
        return value


def range_field() -> fields.String:
    return fields.String(
        validate=_ByteRange(RANGE_PATTERN, error=RANGE_RULE),
        metadata=describe(
            "Range",
            "Part of the object to read, as an HTTP byte range: bytes=first-last.",
            group="options",
        ),
    )


def fetch_object(
    connection: Any, settings: dict[str, Any]
) -> tuple[dict[str, Any], ObjectReader, str]:
    """GetObject of `settings`' bucket, key, version, range and SSE-C key: (response, its
    verified and resumable content, region). An SSE-C object read without its key is refused
    naming `sse_c_key`."""
    bucket, key = settings["bucket"], settings["key"]
    target = f"s3://{bucket}/{key}"
    request: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "ChecksumMode": "ENABLED",
        **sse_params(settings),
    }
    if settings.get("version_id"):
        request["VersionId"] = settings["version_id"]
    if settings.get("range"):
        request["Range"] = settings["range"]

    def get(client: Any) -> dict[str, Any]:
        try:
            return client.get_object(**request)
        except ClientError as exc:
            if settings.get("sse_c_key") or not needs_sse_c_key(exc):
                raise
            error = from_client_error(exc, operation="GetObject", target=target)
            raise sse_c_refusal(
                error,
                field="sse_c_key",
                hint="the object is encrypted with SSE-C and needs its key",
            ) from None

    response, region = connection.regions.call(
        bucket, settings.get("region"), get, name="GetObject", target=target
    )
    try:
        body = open_verified(connection, bucket, region, request, response, target=target)
    except BaseException:
        response["Body"].close()
        raise
    return response, body, region


def fetched_properties(
    bucket: str, key: str, response: dict[str, Any], body: ObjectReader, region: str
) -> dict[str, Any]:
    """The response properties of a GetObject response (its body aside)."""
    return {
        "bucket": bucket,
        "key": key,
        **split_key(key),
        "size": response.get("ContentLength"),
        "content_type": response.get("ContentType") or "application/octet-stream",
        "etag": etag(response.get("ETag")),
        "version_id": response.get("VersionId"),
        "last_modified": timestamp(response.get("LastModified")),
        "metadata": response.get("Metadata", {}),
        "region": region,
        "content_range": response.get("ContentRange"),
        "verified": body.verification,
    }


FETCHED_PROPERTIES = {
    "bucket": {"type": "string"},
    "key": {"type": "string"},
    "folder": {"type": "string"},
    "file_name": {"type": "string"},
    "size": {"type": "integer"},
    "content_type": {"type": "string"},
    "etag": {"type": "string"},
    "version_id": {"type": ["string", "null"]},
    "last_modified": {"type": "string"},
    "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
    "region": {"type": "string"},
    "content_range": {"type": ["string", "null"]},
    "verified": {
        "type": "string",
        "description": "How the content is verified as it is read: a checksum S3 declared "
        "(CRC32C, SHA256, MD5 of a plain ETag, ...; -composite and -multipart for per-part "
        "forms), or `size` when S3 declared none (ranges, some encrypted objects).",
    },
}
"""JSON Schema of `fetched_properties`."""
FETCHED_REQUIRED = [
    "bucket",
    "key",
    "size",
    "content_type",
    "etag",
    "last_modified",
    "metadata",
    "verified",
]
INLINE_PROPERTIES = {
    "content": {"description": "Inline content: JSON, text or base64"},
    "content_format": {"enum": ["json", "text", "base64"]},
}
"""JSON Schema of `documents.inline_content`'s properties."""


class GetObjectSettings(BucketSettings):
    key = ObjectKey(
        required=True,
        metadata=describe("Key", "Key of the object to read.", group="object", dynamic=True),
    )
    version_id = version_id_field("Version to read, in a versioned bucket; the latest when empty.")
    range = range_field()
    sse_c_key = sse_c_key_field(READ_SSE_C_KEY)


class GetObject(SourceActivity):
    id = "get_object"
    name = "Get Object"
    description = (
        "Reads an object (source). The content streams into the output document; "
        "without an output document, the response carries it inline as `content`."
    )
    Settings = GetObjectSettings
    writes = OBJECT_WRITES
    response = {
        "type": "object",
        "properties": {**FETCHED_PROPERTIES, **INLINE_PROPERTIES},
        "required": FETCHED_REQUIRED,
    }
    permissions = READ_PERMISSIONS

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        response, body, region = fetch_object(self.connection, settings)
        properties = fetched_properties(settings["bucket"], settings["key"], response, body, region)
        yield Document(properties, io.BufferedReader(body, READ_CHUNK))
