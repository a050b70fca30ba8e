"""Presigned Link: a time-limited URL that downloads or uploads one object without credentials."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from marshmallow import fields, validate

from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.conditions import when
from s3_connector.connector.documents import Document
from s3_connector.connector.fields import ObjectKey, WholeNumber, describe

from .common import (
    LOCATION_WRITES,
    BucketSettings,
    LocationResponse,
    object_properties,
    version_id_field,
)
from .storing import content_type_field

METHODS = ("GET", "PUT")
MAX_EXPIRES_IN = 7 * 24 * 3600
"""SigV4 presigned URLs last at most 7 days."""
EXPIRES_RULE = f"must be 1 to {MAX_EXPIRES_IN} seconds (7 days)"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


class PresignSettings(BucketSettings):
    key = ObjectKey(
        required=True,
        metadata=describe(
            "Key", "Key of the object the link reads or writes.", group="object", dynamic=True
        ),
    )
    version_id = version_id_field(
        "Version the link reads, in a versioned bucket; the latest when empty. GET only.",
        condition=when("method", "GET"),
    )
    method = fields.String(
        load_default="GET",
        validate=validate.OneOf(METHODS),
        metadata=describe(
            "Method",
            "GET: a link that downloads the object. PUT: a link that uploads it (replacing "
            "any object under the key).",
            group="options",
            labels={"GET": "GET (download link)", "PUT": "PUT (upload link)"},
        ),
    )
    expires_in = WholeNumber(
        load_default=3600,
        validate=validate.Range(min=1, max=MAX_EXPIRES_IN, error=EXPIRES_RULE),
        metadata=describe(
            "Expires in (s)",
            "Seconds the link works, 1 to 604800 (7 days). A link signed with temporary "
            "credentials stops working when they expire, if that is sooner.",
            group="options",
        ),
    )
    content_type = content_type_field(
        "PUT only: media type signed into the link. The uploader must send the same "
        "Content-Type header, and the object is stored with it.",
        group="options",
        dynamic=False,
        condition=when("method", "PUT"),
    )


def expiry(url: str, expires_in: int) -> datetime:
    """When the link expires: its signing time (X-Amz-Date) plus `expires_in`."""
    values = parse_qs(urlsplit(url).query).get("X-Amz-Date")
    try:
        signed = datetime.strptime(values[0], _AMZ_DATE).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        signed = datetime.now(UTC).replace(microsecond=0)
    return signed + timedelta(seconds=expires_in)


class PresignResponse(LocationResponse):
    folder = fields.String()
    file_name = fields.String()
    version_id = fields.String(allow_none=True)
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    url = fields.String(
        required=True, metadata={"description": "The presigned URL; a secret until it expires"}
    )
    expires_in = fields.Integer(required=True)
    expires_at = fields.String(required=True, metadata={"description": "ISO 8601, UTC"})
    headers = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "Headers the caller must send with the request"},
    )


class PresignedLink(TargetActivity):
    id = "presign"
    name = "Presigned Link"
    description = (
        "Creates a time-limited URL (SigV4, at most 7 days) that downloads (GET) or uploads "
        "(PUT) one object without credentials (target). Anyone holding the link can use it, "
        "with the connection's permissions. SSE-C objects are not supported: their key "
        "would have to travel with the link, in headers, and leak."
    )
    concurrent = True
    Settings = PresignSettings
    writes = LOCATION_WRITES
    Response = PresignResponse
    permissions = (
        {"action": "s3:GetObject", "resource": "object", "when": when("method", "GET")},
        {"action": "s3:PutObject", "resource": "object", "when": when("method", "PUT")},
        {"action": "s3:GetObjectVersion", "resource": "object", "when": "version_id"},
    )

    def _signer(self, client: Any) -> Any:
        """The client to sign with. On AWS, with the `auto` addressing style, botocore signs
        links for the legacy global endpoint (bucket.s3.amazonaws.com), which newer regions
        refuse; a client with the `virtual` style signs for the bucket's regional endpoint
        (and falls back to path style for bucket names with dots)."""
        style = (client.meta.config.s3 or {}).get("addressing_style", "auto")
        if self.connection.endpoint_url or style != "auto":
            return client
        return self.connection.client(client.meta.region_name, addressing_style="virtual")

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        bucket, key, method = settings["bucket"], settings["key"], settings["method"]
        expires_in = settings["expires_in"]
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        headers: dict[str, str] = {}
        if settings.get("version_id"):
            params["VersionId"] = settings["version_id"]
        if settings.get("content_type"):
            params["ContentType"] = headers["Content-Type"] = settings["content_type"]
        url, region = self.connection.regions.call(
            bucket,
            settings.get("region"),
            lambda client: self._signer(client).generate_presigned_url(
                "get_object" if method == "GET" else "put_object",
                Params=params,
                ExpiresIn=expires_in,
                HttpMethod=method,
            ),
            name="Presign",
            target=f"s3://{bucket}/{key}",
        )
        yield Document(
            object_properties(
                bucket,
                key,
                region,
                version_id=settings.get("version_id"),
                method=method,
                url=url,
                expires_in=expires_in,
                expires_at=expiry(url, expires_in).isoformat(),
                headers=headers,
            )
        )
