"""Fields and helpers that several activities share."""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.exceptions import ClientError
from marshmallow import fields, validate

from s3_connector.connector.activity import ResponseSchema
from s3_connector.connector.errors import ConnectorError, InvalidInput
from s3_connector.connector.fields import (
    BucketName,
    FullMatch,
    ObjectKey,
    RegionName,
    SseCustomerKeyField,
    describe,
)
from s3_connector.connector.integrity import CHECKSUM_ALGORITHMS
from s3_connector.connector.settings import SettingsSchema
from s3_connector.connector.uploads import etag

__all__ = ["CHECKSUM_ALGORITHMS", "etag"]


BUCKET_CHOICES = {"activity": "list_buckets", "items": "buckets", "value": "name", "label": "name"}
"""A bucket picker's choices: List Buckets' `buckets`, by name."""


class BucketSettings(SettingsSchema):
    """The bucket an activity works on, and an optional region override."""

    bucket = BucketName(
        required=True,
        metadata=describe(
            "Bucket",
            "Bucket name. A document's `bucket` property overrides it (dynamic bucket).",
            group="location",
            dynamic=True,
            placeholder="my-bucket",
            examples=["my-bucket"],
            choices_from=BUCKET_CHOICES,
        ),
    )
    region = RegionName(
        metadata=describe(
            "Region",
            "Region of the bucket. Leave empty to detect it; a document's `region` "
            "property overrides it.",
            group="location",
            dynamic=True,
            placeholder="detected from the bucket",
            examples=["eu-west-1"],
        ),
    )


OBJECT_WRITES = ("bucket", "key", "folder", "file_name", "content_type", "version_id", "region")
"""The properties an activity that emits one object's document writes: where it is, and what."""
LOCATION_WRITES = ("bucket", "key", "folder", "file_name", "version_id", "region")
"""The properties of an object's location, for an activity that says nothing of its content."""
PREFIX_WRITES = ("bucket", "prefix", "region")
"""The properties an activity about a prefix of a bucket writes."""

READ_SSE_C_KEY = "Key (base64 of 32 bytes) the object was encrypted with, for SSE-C objects."
"""The description of the SSE-C key of an activity that reads an object."""
READ_PERMISSIONS = (
    {"action": "s3:GetObject", "resource": "object"},
    {"action": "s3:GetObjectVersion", "resource": "object", "when": "version_id"},
)
"""IAM actions to read an object (GetObject or HeadObject), or with version_id a version."""
CONTENT_READ_PERMISSIONS = (
    *READ_PERMISSIONS,
    {"action": "s3:GetObjectAttributes", "resource": "object"},
    {"action": "s3:GetObjectVersionAttributes", "resource": "object", "when": "version_id"},
)
"""READ_PERMISSIONS, and what the content's verification asks: a multipart object's part sizes
(GetObjectAttributes), without which its composite checksum or multipart ETag cannot be
checked and the content is verified by its size only."""


def sse_c_key_field(description: str, label: str = "SSE-C key") -> SseCustomerKeyField:
    return SseCustomerKeyField(metadata=describe(label, description, group="encryption"))


def sse_params(settings: dict[str, Any], name: str = "sse_c_key") -> dict[str, str]:
    key = settings.get(name)
    return key.request_params() if key else {}


def split_key(key: str) -> dict[str, str]:
    """The `folder` and `file_name` document properties of an object key."""
    folder, file_name = posixpath.split(key)
    return {"folder": folder, "file_name": file_name}


def timestamp(value: datetime | str | None) -> str | None:
    """ISO 8601; a listing page's timestamps come as such strings already."""
    if isinstance(value, str) or not value:
        return value or None
    return value.isoformat()


def object_url(connection: Any, bucket: str, key: str, region: str) -> str:
    """The object's URL in the connection's addressing style (set, or from the AWS config
    chain), on its endpoint or S3's regional one (no credentials in it)."""
    endpoint = (connection.endpoint_url or aws_endpoint(region)).rstrip("/")
    style = connection.addressing_style
    quoted = quote(key, safe="/~")
    parts = urlsplit(endpoint)
    is_aws = parts.hostname and parts.hostname.endswith(".amazonaws.com")
    if style == "path" or "." in bucket or (style == "auto" and not is_aws):
        return f"{endpoint}/{bucket}/{quoted}"
    return f"{parts.scheme}://{bucket}.{parts.netloc}/{quoted}"


def aws_endpoint(region: str) -> str:
    """S3's regional endpoint for `region`, as botocore resolves it."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://s3.{region}.{suffix}"


def version_id_field(description: str, condition: dict | None = None) -> fields.String:
    return fields.String(
        validate=[
            validate.Length(min=1, max=1024),
            FullMatch(r"^[!-~]+$", error="must be a version ID: printable ASCII, no spaces"),
        ],
        metadata=describe(
            "Version ID", description, group="object", dynamic=True, condition=condition
        ),
    )


class ObjectSettings(BucketSettings):
    """One object: bucket, region override, key and optional version."""

    key = ObjectKey(
        required=True,
        metadata=describe("Key", "Key of the object.", group="object", dynamic=True),
    )
    version_id = version_id_field(
        "Version of the object, in a versioned bucket; the latest when empty."
    )


def object_properties(bucket: str, key: str, region: str | None, **extra: Any) -> dict[str, Any]:
    """The document properties that locate an object, the same in every activity."""
    return {"bucket": bucket, "key": key, **split_key(key), "region": region, **extra}


def checksum(response: dict[str, Any]) -> dict[str, str] | None:
    """The object's stored checksum (HeadObject/GetObject with ChecksumMode ENABLED)."""
    for algorithm in CHECKSUM_ALGORITHMS:
        value = response.get(f"Checksum{algorithm}")
        if value:
            return {
                "algorithm": algorithm,
                "value": value,
                "type": response.get("ChecksumType") or "FULL_OBJECT",
            }
    return None


def object_description(response: dict[str, Any]) -> dict[str, Any]:
    """What HeadObject says of an object, in the connector's property names."""
    return {
        "size": response.get("ContentLength"),
        "content_type": response.get("ContentType") or "application/octet-stream",
        "etag": etag(response.get("ETag")),
        "version_id": response.get("VersionId"),
        "last_modified": timestamp(response.get("LastModified")),
        "storage_class": response.get("StorageClass") or "STANDARD",
        "metadata": response.get("Metadata", {}),
        "checksum": checksum(response),
        "server_side_encryption": response.get("ServerSideEncryption"),
        "sse_c": bool(response.get("SSECustomerAlgorithm")),
    }


class ChecksumResponse(ResponseSchema):
    """`checksum`'s properties."""

    algorithm = fields.String(validate=validate.OneOf(CHECKSUM_ALGORITHMS))
    value = fields.String()
    type = fields.String()


class ObjectDescriptionResponse(ResponseSchema):
    """`object_description`'s properties, for response schemas."""

    size = fields.Integer(required=True)
    content_type = fields.String(required=True)
    etag = fields.String(required=True)
    version_id = fields.String(required=True, allow_none=True)
    last_modified = fields.String(required=True, allow_none=True)
    storage_class = fields.String(required=True)
    metadata = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    checksum = fields.Nested(ChecksumResponse, required=True, allow_none=True)
    server_side_encryption = fields.String(required=True, allow_none=True)
    sse_c = fields.Boolean(required=True)


class LocationResponse(ResponseSchema):
    """`object_properties`' location properties, for response schemas."""

    bucket = fields.String(required=True)
    key = fields.String(required=True)
    folder = fields.String(required=True)
    file_name = fields.String(required=True)
    region = fields.String(required=True, allow_none=True)


def head_request(
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    sse: dict[str, str] | None = None,
    checksums: bool = True,
) -> dict[str, Any]:
    """HeadObject's parameters: the object, its version, its SSE-C key, and checksums."""
    request: dict[str, Any] = {"Bucket": bucket, "Key": key, **(sse or {})}
    if checksums:
        request["ChecksumMode"] = "ENABLED"
    if version_id:
        request["VersionId"] = version_id
    return request


def needs_sse_c_key(exc: Exception) -> bool:
    """Whether S3 refused to read an object because it is encrypted with SSE-C and the
    request carries no key. S3 answers 400: Amazon S3 with InvalidRequest "The object was
    stored using a form of Server Side Encryption. The correct parameters must be provided
    to retrieve the object.", SeaweedFS with InvalidArgument "Requests specifying Server Side
    Encryption with Customer provided keys must provide the customer key.". A HEAD response
    has no body: its bare 400 says no more, and is taken for the same refusal. `exc` is a
    botocore ClientError or the CRT transport's CrtRequestError."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code")), str(error.get("Message") or "")
    else:
        status, code, message = (
            getattr(exc, "status", None),
            str(getattr(exc, "code", None)),
            str(getattr(exc, "message", "") or ""),
        )
    if status != 400:
        return False
    message = message.lower()
    return code == "400" or "encryption" in message or "customer" in message


def sse_c_refusal(error: ConnectorError, *, field: str, hint: str) -> InvalidInput:
    """S3's refusal of a read for want of an SSE-C key, naming the key's field."""
    return InvalidInput(f"{hint}; {error.message}", field=field, request_id=error.request_id)
