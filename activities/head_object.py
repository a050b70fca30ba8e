"""Head Object: an object's properties without its content."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import RAISE, fields

from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import AccessDenied, ConnectorError, NotFound

from .common import (
    OBJECT_WRITES,
    READ_PERMISSIONS,
    READ_SSE_C_KEY,
    LocationResponse,
    ObjectDescriptionResponse,
    ObjectSettings,
    object_description,
    object_properties,
    sse_c_key_field,
    sse_c_refusal,
)
from .probing import HeadAnswer, probe_settings, refused_version_id


class HeadObjectSettings(ObjectSettings):
    sse_c_key = sse_c_key_field(READ_SSE_C_KEY)


HEADER_PROPERTIES = {
    "content_encoding": "ContentEncoding",
    "content_disposition": "ContentDisposition",
    "cache_control": "CacheControl",
}


class HeadObjectResponse(ObjectDescriptionResponse, LocationResponse):
    """The location, `object_description` and HEADER_PROPERTIES (the location first: fields
    of the last base come first)."""

    content_encoding = fields.String(required=True, allow_none=True)
    content_disposition = fields.String(required=True, allow_none=True)
    cache_control = fields.String(required=True, allow_none=True)

    class Meta:
        unknown = RAISE


class HeadObject(TargetActivity):
    id = "head_object"
    name = "Head Object"
    description = (
        "Returns an object's properties without its content (HeadObject, with checksums): "
        "size, type, ETag, version, dates, storage class, metadata, checksum and encryption. "
        "A missing object is not_found; an SSE-C object needs its key."
    )
    concurrent = True
    Settings = HeadObjectSettings
    writes = OBJECT_WRITES
    Response = HeadObjectResponse
    permissions = READ_PERMISSIONS

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        bucket, key = settings["bucket"], settings["key"]
        answer = probe_settings(self.connection, settings, checksums=True)
        if answer.status != 200:
            raise self._failure(answer, bucket, key, settings)
        response = answer.response
        yield Document(
            object_properties(
                bucket,
                key,
                answer.region,
                **object_description(response),
                **{name: response.get(header) for name, header in HEADER_PROPERTIES.items()},
            )
        )

    def _failure(
        self, answer: HeadAnswer, bucket: str, key: str, settings: dict[str, Any]
    ) -> ConnectorError:
        target = f"s3://{bucket}/{key}"
        version_id = settings.get("version_id")
        error = answer.failure("HeadObject", target)
        request_id = error.request_id
        if answer.status == 400:
            refused = refused_version_id(self.connection, bucket, key, answer, version_id)
            if refused:
                return refused
            if settings.get("sse_c_key"):
                hint = "the object is not encrypted with SSE-C; leave sse_c_key empty"
            else:
                hint = "the object is encrypted with SSE-C and needs its key"
            return sse_c_refusal(error, field="sse_c_key", hint=hint)
        if answer.status == 405 or (answer.status == 404 and answer.delete_marker):
            which = f"version {version_id}" if answer.status == 405 else "the latest version"
            return NotFound(
                f"{which} of {target} is a delete marker; {error.message}", request_id=request_id
            )
        if answer.status == 403 and settings.get("sse_c_key"):
            return AccessDenied(
                f"{error.message}; with sse_c_key set, S3 also answers 403 when the key is not "
                "the one the object was encrypted with",
                request_id=request_id,
            )
        return error
