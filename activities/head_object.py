"""Head Object: an object's properties without its content; and the HeadObject probe that
Exists and Delete Object share, which reads S3's answer from its status and headers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import (
    AccessDenied,
    ConnectorError,
    InvalidInput,
    NotFound,
    from_client_error,
)

from .common import (
    LOCATION_SCHEMA,
    OBJECT_DESCRIPTION_SCHEMA,
    ObjectSettings,
    object_description,
    object_properties,
    sse_c_key_field,
    sse_params,
)

ANSWERED = frozenset({400, 403, 404, 405})
"""HeadObject statuses that answer the question rather than fail the call. HEAD responses
have no body, so the status and the headers are all S3 says."""


@dataclass
class HeadAnswer:
    """What HeadObject answered: the status, the response (200) or the error (4xx)."""

    status: int
    region: str
    response: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    error: ClientError | None = None

    @property
    def delete_marker(self) -> bool:
        """S3 sends `x-amz-delete-marker: true` with the 404 for a key whose latest version
        is a delete marker, and with the 405 for a version id that names one."""
        return self.headers.get("x-amz-delete-marker") == "true"

    @property
    def version_id(self) -> str | None:
        return self.response.get("VersionId") or self.headers.get("x-amz-version-id")

    @property
    def request_id(self) -> str | None:
        meta = self.error.response.get("ResponseMetadata", {}) if self.error else {}
        return meta.get("RequestId") or self.headers.get("x-amz-request-id")

    def failure(self, operation: str, target: str) -> ConnectorError:
        """The error in the connector's taxonomy, with S3's request id."""
        assert self.error is not None
        return from_client_error(self.error, operation=operation, target=target)


def probe_object(
    connection: Any,
    bucket: str,
    key: str,
    *,
    region: str | None = None,
    version_id: str | None = None,
    sse: dict[str, str] | None = None,
    checksums: bool = False,
) -> HeadAnswer:
    """HeadObject in the bucket's region. 200, 400, 403, 404 and 405 are returned as answers;
    other failures (5xx after retries, network) raise ConnectorErrors."""
    request: dict[str, Any] = {"Bucket": bucket, "Key": key, **(sse or {})}
    if checksums:
        request["ChecksumMode"] = "ENABLED"
    if version_id:
        request["VersionId"] = version_id

    def head(client: Any) -> tuple[int, dict[str, Any], dict[str, str], ClientError | None]:
        try:
            response = client.head_object(**request)
        except ClientError as exc:
            meta = exc.response.get("ResponseMetadata", {})
            status = meta.get("HTTPStatusCode")
            if status not in ANSWERED:
                raise
            return status, {}, dict(meta.get("HTTPHeaders", {})), exc
        return 200, response, dict(response["ResponseMetadata"].get("HTTPHeaders", {})), None

    (status, response, headers, error), region_used = connection.regions.call(
        bucket, region, head, name="HeadObject", target=f"s3://{bucket}/{key}"
    )
    return HeadAnswer(status, region_used, response, headers, error)


def bad_version_id(
    connection: Any, bucket: str, key: str, answer: HeadAnswer, version_id: str | None
) -> str | None:
    """Why HeadObject answered 400, when it may be the version id: S3 answers 400 both to a
    malformed (or, in an unversioned bucket, any) version id and to an SSE-C object asked
    without its key. A HEAD has no body, so a ranged GetObject is sent to read S3's error
    code: S3's message when the version id is at fault, else None (an encryption problem)."""
    if not version_id or "x-amz-server-side-encryption-customer-algorithm" in answer.headers:
        return None

    def get(client: Any) -> str | None:
        try:
            response = client.get_object(
                Bucket=bucket, Key=key, VersionId=version_id, Range="bytes=0-0"
            )
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500) >= 500:
                raise
            error = exc.response.get("Error", {})
            message = error.get("Message") or ""
            if error.get("Code") == "InvalidArgument" and "version" in message.lower():
                return message
            return None
        response["Body"].close()
        return None

    message, _ = connection.regions.call(
        bucket, answer.region, get, name="GetObject", target=f"s3://{bucket}/{key}"
    )
    return message


class HeadObjectSettings(ObjectSettings):
    sse_c_key = sse_c_key_field(
        "Key (base64 of 32 bytes) the object was encrypted with, for SSE-C objects."
    )


HEADER_PROPERTIES = {
    "content_encoding": "ContentEncoding",
    "content_disposition": "ContentDisposition",
    "cache_control": "CacheControl",
}


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
    writes = ("bucket", "key", "folder", "file_name", "content_type", "version_id", "region")
    response = {
        "type": "object",
        "properties": {
            **LOCATION_SCHEMA,
            **OBJECT_DESCRIPTION_SCHEMA,
            "content_encoding": {"type": ["string", "null"]},
            "content_disposition": {"type": ["string", "null"]},
            "cache_control": {"type": ["string", "null"]},
        },
        "required": [
            *LOCATION_SCHEMA,
            *OBJECT_DESCRIPTION_SCHEMA,
            *HEADER_PROPERTIES,
        ],
        "additionalProperties": False,
    }
    permissions = (
        {"action": "s3:GetObject", "resource": "object"},
        {"action": "s3:GetObjectVersion", "resource": "object", "when": "version_id"},
    )

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        bucket, key = settings["bucket"], settings["key"]
        version_id = settings.get("version_id")
        answer = probe_object(
            self.connection,
            bucket,
            key,
            region=settings.get("region"),
            version_id=version_id,
            sse=sse_params(settings),
            checksums=True,
        )
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
            message = bad_version_id(self.connection, bucket, key, answer, version_id)
            if message:
                return InvalidInput(
                    f"S3 refused the version id: {message}",
                    field="version_id",
                    request_id=request_id,
                )
            if settings.get("sse_c_key"):
                hint = "the object is not encrypted with SSE-C; leave sse_c_key empty"
            else:
                hint = "the object is encrypted with SSE-C and needs its key"
            return InvalidInput(
                f"{hint}; {error.message}", field="sse_c_key", request_id=request_id
            )
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
