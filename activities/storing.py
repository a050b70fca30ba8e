"""Storing one object: the write path, fields and declarations that Put Object, Create and
Write share.

The fields here are factories, so each schema gets its own field instances and the
descriptors stay what the schemas declare; the location fields (`key`, else `folder` and
`file_name`) come as a schema to inherit from.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from typing import Any, TypeVar

from marshmallow import ValidationError, fields, validate, validates_schema

from s3_connector.connector.activity import ResponseSchema, TargetActivity
from s3_connector.connector.cancellation import Ready, Sent, Then
from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.fields import (
    MAX_KEY_BYTES,
    FullMatch,
    InputRules,
    KeyText,
    ObjectKey,
    StringMap,
    ValueRules,
    describe,
)
from s3_connector.connector.uploads import Body

from .common import OBJECT_WRITES, BucketSettings, object_url, split_key, sse_params

STORAGE_CLASS_LABELS = {
    "STANDARD": "Standard",
    "REDUCED_REDUNDANCY": "Reduced redundancy",
    "STANDARD_IA": "Standard-Infrequent Access",
    "ONEZONE_IA": "One Zone-Infrequent Access",
    "INTELLIGENT_TIERING": "Intelligent-Tiering",
    "GLACIER": "Glacier Flexible Retrieval",
    "DEEP_ARCHIVE": "Glacier Deep Archive",
    "GLACIER_IR": "Glacier Instant Retrieval",
    "EXPRESS_ONEZONE": "Express One Zone",
}
STORAGE_CLASSES = tuple(STORAGE_CLASS_LABELS)
_METADATA_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
_METADATA_VALUE = re.compile(r"[\x20-\x7e]*")
METADATA_LIMIT = 2048
MEDIA_TYPE_PATTERN = (
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(?:[ \t]*;[\t -~]*)?$"
)
"""type/subtype (RFC 6838 names), then parameters of printable ASCII (no line breaks)."""
DEFAULT_CONTENT_TYPE = "application/octet-stream"

T = TypeVar("T")


METADATA_NAME_RULE = "must be a token of ASCII letters and digits"
METADATA_VALUE_RULE = "must be printable ASCII"
METADATA_SIZE_RULE = f"must be at most {METADATA_LIMIT} bytes in all"


class MetadataRules(validate.Validator):
    """S3 user metadata: header-token names, printable ASCII values, 2 KB in all."""

    def __call__(self, value: dict[str, str]) -> dict[str, str]:
        total = 0
        for name, item in value.items():
            if not _METADATA_NAME.fullmatch(name):
                raise ValidationError(f"name {name!r} {METADATA_NAME_RULE}")
            if not _METADATA_VALUE.fullmatch(item):
                raise ValidationError(f"value of {name!r} {METADATA_VALUE_RULE}")
            total += len(name) + len(item)
        if total > METADATA_LIMIT:
            raise ValidationError(METADATA_SIZE_RULE)
        return value

    def value_rules(self, rules: InputRules) -> ValueRules:
        return ValueRules(
            {
                "propertyNames": {
                    "pattern": f"^{_METADATA_NAME.pattern}$",
                    "errorMessage": {"pattern": f"a name {METADATA_NAME_RULE}"},
                },
                "additionalProperties": {
                    "type": "string",
                    "pattern": f"^{_METADATA_VALUE.pattern}$",
                    "errorMessage": {"pattern": f"a value {METADATA_VALUE_RULE}"},
                },
            },
            runtime=(METADATA_SIZE_RULE,),
        )


def content_type_field(
    description: str, *, group: str = "object", dynamic: bool = True, condition: dict | None = None
) -> fields.String:
    return fields.String(
        validate=FullMatch(MEDIA_TYPE_PATTERN, error="must be a media type such as text/plain"),
        metadata=describe(
            "Content type", description, group=group, dynamic=dynamic, condition=condition
        ),
    )


def metadata_field(
    description: str = "User metadata: an object of ASCII strings, stored as x-amz-meta-* headers.",
) -> StringMap:
    return StringMap(
        validate=MetadataRules(),
        metadata=describe("Metadata", description, group="object"),
    )


def storage_class_field(
    description: str = "Storage class of the object; the bucket's default when empty.",
) -> fields.String:
    return fields.String(
        validate=validate.OneOf(STORAGE_CLASSES),
        metadata=describe(
            "Storage class", description, group="options", labels=STORAGE_CLASS_LABELS
        ),
    )


def overwrite_field(
    default: bool,
    description: str = "Replace an existing object. When false, the write is atomic and "
    "conditional (If-None-Match: *) and fails if the key exists.",
) -> fields.Boolean:
    return fields.Boolean(
        load_default=default,
        metadata=describe("Overwrite", description, group="options"),
    )


WRITE_SSE_C_KEY = (
    "Customer-provided key (base64 of 32 bytes) to encrypt the object with SSE-C (AES256). "
    "The same key is needed to read it."
)
"""The description of the SSE-C key of an activity that stores an object."""


class LocatedSettings(BucketSettings):
    """Where an object is stored: `key`, else `folder`/`file_name` (see `object_key`)."""

    runtime_rules = ("without key, folder and file_name make a key of at most 1024 bytes of UTF-8",)

    key = ObjectKey(
        metadata=describe(
            "Key",
            "Object key. When empty, the key is `folder`/`file_name`, and the file name "
            "falls back to the document's file name.",
            group="object",
            dynamic=True,
        )
    )
    folder = KeyText(
        max_bytes=MAX_KEY_BYTES - 1,
        max_length=MAX_KEY_BYTES - 1,
        metadata=describe(
            "Folder",
            "Key prefix the file name is put under, when no key is given.",
            group="object",
            dynamic=True,
        ),
    )
    file_name = KeyText(
        max_bytes=MAX_KEY_BYTES,
        min_length=1,
        max_length=MAX_KEY_BYTES,
        metadata=describe(
            "File name",
            "Last part of the key, when no key is given. Defaults to the document's file name.",
            group="object",
            dynamic=True,
        ),
    )

    @validates_schema
    def _check_joined_key(self, data: dict[str, Any], **_: Any) -> None:
        """The key that `folder` and `file_name` make is checked as the settings load, before
        any document runs (each part's characters are checked by its own field)."""
        if data.get("key") or not data.get("file_name"):
            return
        try:
            object_key(data)
        except InvalidInput as exc:
            raise ValidationError(exc.message, exc.field or "key") from None


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
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        joined = "the key folder/file_name" if folder else "the key"
        raise InvalidInput(
            f"{joined} must be at most {MAX_KEY_BYTES} bytes of UTF-8 (it is {size})",
            field="file_name",
        )
    return key


def guess_content_type(key: str) -> str:
    """The media type the key's extension suggests; application/octet-stream otherwise."""
    return mimetypes.guess_type(key)[0] or DEFAULT_CONTENT_TYPE


def store_object(
    connection: Any, settings: dict[str, Any], key: str, body: Body, content_type: str
) -> dict[str, Any]:
    """Store `body` (bytes, a stream or a file path, see `uploads.prepare_body`) as
    `settings["bucket"]`/`key` with the settings' metadata, storage class, SSE-C key and
    overwrite rule (false: an atomic conditional create); return the response properties."""
    put = connection.data_plane.put_object
    return _sent_put(
        connection,
        settings,
        key,
        content_type,
        lambda *args, **kwargs: Ready(lambda: put(*args, **kwargs)),
        body,
    ).result()


def begin_store_object(
    connection: Any, settings: dict[str, Any], key: str, body: bytes, content_type: str
) -> Sent[dict[str, Any]]:
    """`store_object` of content of at most one part, sent now and waited for by the
    result's `result()`, on a data plane that sends without waiting (`begin_put_object`:
    CRT)."""
    start = connection.data_plane.begin_put_object
    return _sent_put(connection, settings, key, content_type, start, body)


def _sent_put(
    connection: Any,
    settings: dict[str, Any],
    key: str,
    content_type: str,
    start: Callable[..., Sent[dict[str, Any]]],
    body: Any,
) -> Sent[dict[str, Any]]:
    """The PutObject of the settings, sent by `start` (a data plane's put, returning a
    `Sent`) in the bucket's region; its result is the response properties."""
    request = _PutRequest(connection, settings, key, content_type)
    started = connection.regions.begin(
        request.bucket,
        request.region,
        request.job(start, body),
        name="PutObject",
        target=request.target,
    )
    return Then(started, request.stored)


class _PutRequest:
    """A PutObject of the settings: its bucket, botocore-named headers and overwrite rule,
    and the response properties once stored."""

    def __init__(self, connection: Any, settings: dict[str, Any], key: str, content_type: str):
        self.connection, self.key, self.content_type = connection, key, content_type
        self.bucket = settings["bucket"]
        self.extra: dict[str, Any] = {"ContentType": content_type, **sse_params(settings)}
        if settings.get("metadata"):
            self.extra["Metadata"] = settings["metadata"]
        if settings.get("storage_class"):
            self.extra["StorageClass"] = settings["storage_class"]
        self.create_only = not settings.get("overwrite", True)
        self.region = settings.get("region")
        self.target = f"s3://{self.bucket}/{key}"

    def job(self, put: Callable[..., T], body: Any) -> Callable[[str], T]:
        """`put` of `body`, in a region."""
        return lambda region: put(
            self.bucket, self.key, body, self.extra, region=region, create_only=self.create_only
        )

    def stored(self, outcome: tuple[dict[str, Any], str]) -> dict[str, Any]:
        stored, region = outcome
        return {
            "bucket": self.bucket,
            "key": self.key,
            **split_key(self.key),
            "etag": stored["etag"],
            "version_id": stored["version_id"],
            "size": stored["size"],
            "content_type": self.content_type,
            "region": region,
            "link": object_url(self.connection, self.bucket, self.key, region),
        }


class StoredResponse(ResponseSchema):
    """`store_object`'s properties, for response schemas."""

    bucket = fields.String(required=True)
    key = fields.String(required=True)
    folder = fields.String()
    file_name = fields.String()
    etag = fields.String(required=True)
    version_id = fields.String(allow_none=True)
    size = fields.Integer(required=True)
    content_type = fields.String()
    region = fields.String(required=True)
    link = fields.String(required=True)


class StoringActivity(TargetActivity):
    """An activity that stores one object per document with `store_object`."""

    concurrent = True
    writes = OBJECT_WRITES
    Response = StoredResponse
    permissions = ({"action": "s3:PutObject", "resource": "object"},)
