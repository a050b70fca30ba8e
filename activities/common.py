"""Fields and helpers that several activities share."""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from marshmallow import Schema

from s3_connector.connector.fields import (
    BucketName,
    RegionName,
    SseCustomerKeyField,
    describe,
)
from s3_connector.connector.transfers import etag

__all__ = ["etag"]


class BucketSettings(Schema):
    """The bucket an activity works on, and an optional region override."""

    bucket = BucketName(
        required=True,
        metadata=describe(
            "Bucket",
            "Bucket name. A document's `bucket` property overrides it (dynamic bucket).",
            group="location",
            dynamic=True,
        ),
    )
    region = RegionName(
        metadata=describe(
            "Region",
            "Region of the bucket. Leave empty to detect it; a document's `region` "
            "property overrides it.",
            group="location",
            dynamic=True,
        ),
    )


def sse_c_key_field(description: str) -> SseCustomerKeyField:
    return SseCustomerKeyField(
        metadata=describe("SSE-C key", description, group="encryption", secret=True)
    )


def sse_params(settings: dict[str, Any], name: str = "sse_c_key") -> dict[str, str]:
    key = settings.get(name)
    return key.request_params() if key else {}


def split_key(key: str) -> dict[str, str]:
    """The `folder` and `file_name` document properties of an object key."""
    folder, file_name = posixpath.split(key)
    return {"folder": folder, "file_name": file_name}


def timestamp(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def object_url(client: Any, bucket: str, key: str) -> str:
    """The object's URL, in the client's addressing style (no credentials in it)."""
    endpoint = client.meta.endpoint_url.rstrip("/")
    style = (client.meta.config.s3 or {}).get("addressing_style", "auto")
    quoted = quote(key, safe="/~")
    parts = urlsplit(endpoint)
    is_aws = parts.hostname and parts.hostname.endswith(".amazonaws.com")
    if style == "path" or "." in bucket or (style == "auto" and not is_aws):
        return f"{endpoint}/{bucket}/{quoted}"
    return f"{parts.scheme}://{bucket}.{parts.netloc}/{quoted}"
