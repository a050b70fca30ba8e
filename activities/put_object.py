"""Put Object: store each incoming document as an S3 object."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from typing import Any

from marshmallow import ValidationError, fields, validate, validates

from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.fields import ObjectKey, StringMap, describe
from s3_connector.connector.transfers import prepare_body, upload

from .common import BucketSettings, object_url, split_key, sse_c_key_field, sse_params

STORAGE_CLASSES = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "EXPRESS_ONEZONE",
)
_METADATA_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_METADATA_VALUE = re.compile(r"^[\x20-\x7e]*$")
METADATA_LIMIT = 2048


class PutObjectSettings(BucketSettings):
    key = ObjectKey(
        metadata=describe(
            "Key",
            "Object key. When empty, the key is `folder`/`file_name`, and the file name "
            "falls back to the document's file name.",
            group="object",
            dynamic=True,
        )
    )
    folder = fields.String(
        validate=validate.Length(max=1023),
        metadata=describe(
            "Folder",
            "Key prefix the file name is put under, when no key is given.",
            group="object",
            dynamic=True,
        ),
    )
    file_name = fields.String(
        validate=validate.Length(min=1, max=1024),
        metadata=describe(
            "File name",
            "Last part of the key, when no key is given. Defaults to the document's file name.",
            group="object",
            dynamic=True,
        ),
    )
    content_type = fields.String(
        validate=validate.Regexp(
            r"^[\w.+-]+/[\w.+-]+(\s*;.*)?$", error="must be a media type such as text/plain"
        ),
        metadata=describe(
            "Content type",
            "Media type of the object; guessed from the key when empty.",
            group="object",
            dynamic=True,
        ),
    )
    metadata = StringMap(
        metadata=describe(
            "Metadata",
            "User metadata: an object of ASCII strings, stored as x-amz-meta-* headers.",
            group="object",
        )
    )
    storage_class = fields.String(
        validate=validate.OneOf(STORAGE_CLASSES),
        metadata=describe(
            "Storage class",
            "Storage class of the object; the bucket's default when empty.",
            group="options",
        ),
    )
    overwrite = fields.Boolean(
        load_default=True,
        metadata=describe(
            "Overwrite",
            "Replace an existing object. When false, the write is atomic and conditional "
            "(If-None-Match: *) and fails if the key exists.",
            group="options",
        ),
    )
    sse_c_key = sse_c_key_field(
        "Customer-provided key (base64 of 32 bytes) to encrypt the object with SSE-C (AES256). "
        "The same key is needed to read it."
    )

    @validates("metadata")
    def _check_metadata(self, value: dict[str, str], **_: Any) -> None:
        total = 0
        for name, item in value.items():
            if not _METADATA_NAME.match(name):
                raise ValidationError(f"name '{name}' must be a token of ASCII letters and digits")
            if not _METADATA_VALUE.match(item):
                raise ValidationError(f"value of '{name}' must be printable ASCII")
            total += len(name) + len(item)
        if total > METADATA_LIMIT:
            raise ValidationError(f"must be at most {METADATA_LIMIT} bytes in all")


def object_key(settings: dict[str, Any]) -> str:
    """The key: `key`, else `folder`/`file_name` (the file name from the document)."""
    if settings.get("key"):
        return settings["key"]
    file_name = settings.get("file_name")
    if not file_name:
        raise InvalidInput(
            "required: set key, or file_name, or send a document with a file name", field="key"
        )
    folder = (settings.get("folder") or "").strip("/")
    key = f"{folder}/{file_name}" if folder else file_name
    if len(key.encode("utf-8")) > 1024:
        raise InvalidInput("must be at most 1024 bytes", field="key")
    return key


class PutObject(TargetActivity):
    id = "put_object"
    name = "Put Object"
    description = (
        "Stores each incoming document as an object (target). Large content is streamed "
        "in 8 MiB parts; with overwrite false the write is an atomic conditional create."
    )
    content = "consumes"
    concurrent = True
    Settings = PutObjectSettings
    reads = ("file_name",)
    writes = ("bucket", "key", "folder", "file_name", "content_type", "version_id", "region")
    response = {
        "type": "object",
        "properties": {
            "bucket": {"type": "string"},
            "key": {"type": "string"},
            "folder": {"type": "string"},
            "file_name": {"type": "string"},
            "etag": {"type": "string"},
            "version_id": {"type": ["string", "null"]},
            "size": {"type": "integer"},
            "content_type": {"type": "string"},
            "region": {"type": "string"},
            "link": {"type": "string"},
        },
        "required": ["bucket", "key", "etag", "size", "region", "link"],
    }
    permissions = ({"action": "s3:PutObject", "resource": "object"},)

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        bucket = settings["bucket"]
        key = object_key(settings)
        content_type = (
            settings.get("content_type")
            or mimetypes.guess_type(key)[0]
            or "application/octet-stream"
        )
        extra: dict[str, Any] = {"ContentType": content_type, **sse_params(settings)}
        if settings.get("metadata"):
            extra["Metadata"] = settings["metadata"]
        if settings.get("storage_class"):
            extra["StorageClass"] = settings["storage_class"]
        with document.open() as stream:
            body = prepare_body(stream, document.size, document.path)

            def put(client: Any) -> dict[str, Any]:
                return {
                    **upload(client, body, bucket, key, extra),
                    "link": object_url(client, bucket, key),
                }

            stored, region = self.connection.regions.call(
                bucket,
                settings.get("region"),
                put,
                name="PutObject",
                target=f"s3://{bucket}/{key}",
                create_only=not settings["overwrite"],
            )
        yield Document(
            {
                "bucket": bucket,
                "key": key,
                **split_key(key),
                "etag": stored["etag"],
                "version_id": stored["version_id"],
                "size": stored["size"],
                "content_type": content_type,
                "region": region,
                "link": stored["link"],
            }
        )
