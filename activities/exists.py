"""Exists: whether an object (or one version of it) exists: found, not_found or forbidden."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import RAISE, fields, validate

from s3_connector.connector.documents import Document

from .common import (
    READ_PERMISSIONS,
    LocationResponse,
    ObjectSettings,
    object_properties,
    sse_c_key_field,
)
from .probing import BucketCheckingActivity, HeadAnswer, probe_settings, refused_version_id

STATES = ("found", "not_found", "forbidden")
REASONS = ("no_such_key", "no_such_version", "delete_marker", "no_such_bucket", "access_denied")


class ExistsSettings(ObjectSettings):
    sse_c_key = sse_c_key_field(
        "Key (base64 of 32 bytes) of an SSE-C object. Optional: without it, an SSE-C object "
        "still reports found (S3 answers 400, which means it exists)."
    )


class ExistsResponse(LocationResponse):
    version_id = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The version checked: the one asked for, else the object's "
            "current version (or the delete marker's) when S3 names it"
        },
    )
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    exists = fields.Boolean(
        required=True, metadata={"description": "true only when state is found"}
    )
    delete_marker = fields.Boolean(required=True)
    reason = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(REASONS),
        metadata={"description": "Why the state is not_found or forbidden; null when found"},
    )

    class Meta:
        unknown = RAISE


class Exists(BucketCheckingActivity):
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
    Settings = ExistsSettings
    Response = ExistsResponse
    permissions = (*READ_PERMISSIONS, {"action": "s3:ListBucket", "resource": "bucket"})

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        bucket, key = settings["bucket"], settings["key"]
        version_id = settings.get("version_id")
        answer = probe_settings(self.connection, settings)
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
            refused = refused_version_id(self.connection, bucket, key, answer, version_id)
            if refused:
                raise refused
            return "found", None
        if answer.status == 403:
            return "forbidden", "access_denied"
        if answer.delete_marker or answer.status == 405:
            return "not_found", "delete_marker"
        if self.buckets.missing(bucket, answer.region):
            return "not_found", "no_such_bucket"
        return "not_found", "no_such_version" if version_id else "no_such_key"
