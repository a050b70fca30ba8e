"""Exists: whether an object (or one version of it) exists: found, not_found or forbidden."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import InvalidInput

from .common import LOCATION_SCHEMA, ObjectSettings, object_properties, sse_c_key_field, sse_params
from .head_object import HeadAnswer, bad_version_id, probe_object

STATES = ("found", "not_found", "forbidden")
REASONS = ("no_such_key", "no_such_version", "delete_marker", "no_such_bucket", "access_denied")


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


class ExistsSettings(ObjectSettings):
    sse_c_key = sse_c_key_field(
        "Key (base64 of 32 bytes) of an SSE-C object. Optional: without it, an SSE-C object "
        "still reports found (S3 answers 400, which means it exists)."
    )


class Exists(TargetActivity):
    id = "exists"
    name = "Exists"
    description = (
        "Tells whether an object exists (HeadObject), or with version_id that version: `state` "
        "is found, not_found or forbidden, and the activity succeeds in each state. A key "
        "whose latest version is a delete marker, or a version id that names one, is "
        "not_found with delete_marker true; a missing bucket is not_found with reason "
        "no_such_bucket. A 403 is forbidden, never not_found: S3 answers 403 for a missing "
        "key too when the caller lacks s3:ListBucket, so forbidden means it cannot tell."
    )
    concurrent = True
    Settings = ExistsSettings
    writes = ("bucket", "key", "folder", "file_name", "version_id", "region")
    response = {
        "type": "object",
        "properties": {
            **LOCATION_SCHEMA,
            "version_id": {
                "type": ["string", "null"],
                "description": "The version checked: the one asked for, else the object's "
                "current version (or the delete marker's) when S3 names it",
            },
            "state": {"enum": list(STATES)},
            "exists": {"type": "boolean", "description": "true only when state is found"},
            "delete_marker": {"type": "boolean"},
            "reason": {
                "enum": [None, *REASONS],
                "description": "Why the state is not_found or forbidden; null when found",
            },
        },
        "required": [*LOCATION_SCHEMA, "version_id", "state", "exists", "delete_marker", "reason"],
        "additionalProperties": False,
    }
    permissions = (
        {"action": "s3:GetObject", "resource": "object"},
        {"action": "s3:GetObjectVersion", "resource": "object", "when": "version_id"},
        {"action": "s3:ListBucket", "resource": "bucket"},
    )

    def __init__(self, connection: Any):
        super().__init__(connection)
        self.buckets = BucketCheck(connection)

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
        )
        state, reason = self._state(answer, bucket, key, version_id)
        yield Document(
            object_properties(
                bucket,
                key,
                answer.region,
                version_id=version_id or answer.version_id,
                state=state,
                exists=state == "found",
                delete_marker=reason == "delete_marker",
                reason=reason,
            )
        )

    def _state(
        self, answer: HeadAnswer, bucket: str, key: str, version_id: str | None
    ) -> tuple[str, str | None]:
        if answer.status == 200:
            return "found", None
        if answer.status == 400:
            message = bad_version_id(self.connection, bucket, key, answer, version_id)
            if message:
                raise InvalidInput(
                    f"S3 refused the version id: {message}",
                    field="version_id",
                    request_id=answer.request_id,
                )
            return "found", None
        if answer.status == 403:
            return "forbidden", "access_denied"
        if answer.delete_marker or answer.status == 405:
            return "not_found", "delete_marker"
        if self.buckets.missing(bucket, answer.region):
            return "not_found", "no_such_bucket"
        return "not_found", "no_such_version" if version_id else "no_such_key"
