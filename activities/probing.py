"""Probing an object with HeadObject and reading S3's answer from its status and headers:
what Head Object, Exists, Delete Object and the copy's source check share. A HEAD response has
no body, so a 404 does not say whether the key or the bucket is missing (`BucketCheck` asks,
for the activities built on `BucketCheckingActivity`), and a 400 does not say whether the
version id or the SSE-C key is at fault (`refused_version_id` asks)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.errors import ConnectorError, InvalidInput, from_client_error

from .common import LOCATION_WRITES, head_request, sse_params

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
    request = head_request(bucket, key, version_id=version_id, sse=sse, checksums=checksums)

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


def head_object(
    connection: Any,
    bucket: str,
    key: str,
    *,
    region: str | None = None,
    version_id: str | None = None,
    sse: dict[str, str] | None = None,
) -> tuple[dict[str, Any], str]:
    """HeadObject with checksums, in the bucket's region: (response, region). Every
    failure, a 4xx answer included, raises a ConnectorError."""
    answer = probe_object(
        connection, bucket, key, region=region, version_id=version_id, sse=sse, checksums=True
    )
    if answer.error is not None:
        raise answer.failure("HeadObject", f"s3://{bucket}/{key}")
    return answer.response, answer.region


def probe_settings(
    connection: Any, settings: dict[str, Any], *, checksums: bool = False
) -> HeadAnswer:
    """`probe_object` of the settings' bucket, key, region, version id and SSE-C key."""
    return probe_object(
        connection,
        settings["bucket"],
        settings["key"],
        region=settings.get("region"),
        version_id=settings.get("version_id"),
        sse=sse_params(settings),
        checksums=checksums,
    )


def refused_version_id(
    connection: Any, bucket: str, key: str, answer: HeadAnswer, version_id: str | None
) -> InvalidInput | None:
    """Whether HeadObject's 400 is about the version id: S3 answers 400 both to a malformed
    (or, in an unversioned bucket, any) version id and to an SSE-C object asked without its
    key. A HEAD has no body, so a ranged GetObject is sent to read S3's error code: the error
    naming `version_id`, with S3's message, when the version id is at fault; else None (an
    encryption problem)."""
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
    if not message:
        return None
    return InvalidInput(
        f"S3 refused the version id: {message}", field="version_id", request_id=answer.request_id
    )


class BucketCheck:
    """Tells a missing bucket from a missing key after a 404 (a HEAD has no error code), with
    one HeadBucket per bucket: buckets seen to exist are remembered, and concurrent checks
    wait for the one under way."""

    def __init__(self, connection: Any):
        self.connection = connection
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def missing(self, bucket: str, region: str | None) -> bool:
        if bucket in self._known:
            return False
        with self._lock:
            if bucket in self._known:
                return False
            missing = self._head_bucket(bucket, region)
            if not missing:
                self._known.add(bucket)
            return missing

    def _head_bucket(self, bucket: str, region: str | None) -> bool:

        def head(client: Any) -> bool:
            try:
                client.head_bucket(Bucket=bucket)
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status == 404:
                    return True
                if status == 403:
                    return False
                raise
            return False

        missing, _ = self.connection.regions.call(
            bucket, region, head, name="HeadBucket", target=f"s3://{bucket}"
        )
        return missing


class BucketCheckingActivity(TargetActivity):
    """An activity that probes one object per document and, after a 404, asks `BucketCheck`
    whether the bucket is missing."""

    concurrent = True
    writes = LOCATION_WRITES

    def __init__(self, connection: Any):
        super().__init__(connection)
        self.buckets = BucketCheck(connection)
