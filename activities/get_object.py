"""Get Object: read an object into a document whose content streams from S3."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from marshmallow import ValidationError, fields, validate

from s3_connector.connector.activity import ResponseSchema, SourceActivity
from s3_connector.connector.documents import READ_CHUNK, Document
from s3_connector.connector.downloads import ObjectReader
from s3_connector.connector.errors import translate
from s3_connector.connector.fields import FullMatch, InputRules, ValueRules, describe

from .common import (
    CONTENT_READ_PERMISSIONS,
    OBJECT_WRITES,
    READ_SSE_C_KEY,
    ObjectSettings,
    etag,
    needs_sse_c_key,
    split_key,
    sse_c_key_field,
    sse_c_refusal,
    sse_params,
    timestamp,
)

RANGE_PATTERN = r"^bytes=(?:[0-9]+-[0-9]*|-[0-9]+)$"
RANGE_RULE = "must be one byte range: bytes=0-1023, bytes=100- or bytes=-500"
RANGE_ORDER_RULE = f"{RANGE_RULE}; its first byte must not be after its last"
RANGE_SUFFIX_RULE = f"{RANGE_RULE}; a suffix range must be at least 1 byte"


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
            raise ValidationError(RANGE_ORDER_RULE)
        if not first and _position(last) == (1, "0"):
            raise ValidationError(RANGE_SUFFIX_RULE)
        return value

    def value_rules(self, rules: InputRules) -> ValueRules:
        described = super().value_rules(rules)
        return ValueRules(
            described.schema,
            described.messages,
            (RANGE_ORDER_RULE, RANGE_SUFFIX_RULE),
        )


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
    request: dict[str, Any] = {"Key": key, **sse_params(settings)}
    if settings.get("version_id"):
        request["VersionId"] = settings["version_id"]
    if settings.get("range"):
        request["Range"] = settings["range"]
    plane = connection.data_plane

    def get(region: str) -> tuple[dict[str, Any], ObjectReader]:
        try:
            return plane.get_object(bucket, request, region=region, target=target)
        except Exception as exc:
            if settings.get("sse_c_key") or not needs_sse_c_key(exc):
                raise
            error = translate(exc, operation="GetObject", target=target)
            raise sse_c_refusal(
                error,
                field="sse_c_key",
                hint="the object is encrypted with SSE-C and needs its key",
            ) from None

    (response, body), region = connection.regions.run(
        bucket, settings.get("region"), get, name="GetObject", target=target
    )
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


INLINE_FORMATS = ("json", "text", "base64")
"""The forms of `documents.inline_content`'s `content`, as `content_format` names them."""


def content_field(**kwargs: Any) -> fields.Raw:
    """`documents.inline_content`'s `content`, for response schemas."""
    return fields.Raw(metadata={"description": "Inline content: JSON, text or base64"}, **kwargs)


def content_format_field(**kwargs: Any) -> fields.String:
    """`documents.inline_content`'s `content_format`, for response schemas."""
    return fields.String(validate=validate.OneOf(INLINE_FORMATS), **kwargs)


class FetchedResponse(ResponseSchema):
    """`fetched_properties`, for response schemas."""

    bucket = fields.String(required=True)
    key = fields.String(required=True)
    folder = fields.String()
    file_name = fields.String()
    size = fields.Integer(required=True)
    content_type = fields.String(required=True)
    etag = fields.String(required=True)
    version_id = fields.String(allow_none=True)
    last_modified = fields.String(required=True)
    metadata = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    region = fields.String()
    content_range = fields.String(allow_none=True)
    verified = fields.String(
        required=True,
        metadata={
            "description": "How the content is verified as it is read: a checksum S3 declared "
            "(CRC32C, SHA256, MD5 of a plain ETag, ...; -composite and -multipart for per-part "
            "forms), or `size` when S3 declared none (ranges, some encrypted objects)."
        },
    )


class GetObjectResponse(FetchedResponse):
    """The object read; its content inline when there is no output document."""

    content = content_field()
    content_format = content_format_field()


class ObjectReadSettings(ObjectSettings):
    """An object to read (Get Object, Read): which one, which bytes, and its SSE-C key."""

    range = range_field()
    sse_c_key = sse_c_key_field(READ_SSE_C_KEY)


class GetObject(SourceActivity):
    id = "get_object"
    name = "Get Object"
    description = (
        "Reads an object (source). The content streams into the output document; "
        "without an output document, the response carries it inline as `content`."
    )
    Settings = ObjectReadSettings
    writes = OBJECT_WRITES
    Response = GetObjectResponse
    permissions = CONTENT_READ_PERMISSIONS

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        response, body, region = fetch_object(self.connection, settings)
        properties = fetched_properties(settings["bucket"], settings["key"], response, body, region)
        yield Document(properties, io.BufferedReader(body, READ_CHUNK))
