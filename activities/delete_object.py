"""Delete Object: delete an object or one version of it; deleting a missing key succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import RAISE, fields, validate

from s3_connector.connector.documents import Document
from s3_connector.connector.errors import InvalidInput, NotFound
from s3_connector.connector.fields import describe

from .common import (
    READ_PERMISSIONS,
    LocationResponse,
    ObjectSettings,
    object_properties,
    version_id_field,
)
from .probing import BucketCheckingActivity, probe_settings

FOUND_BY_STATUS: dict[int, bool | None] = {200: True, 400: True, 403: None, 404: False, 405: True}
"""Whether the object (or version) existed, by HeadObject's status: 400 is an SSE-C object
asked without its key, 405 a version id that names a delete marker, 403 cannot tell."""


NOT_DRY_RUN = {"field": "dry_run", "equals": False}


class DeleteObjectSettings(ObjectSettings):
    version_id = version_id_field(
        "Version to delete for good, in a versioned bucket. When empty, a versioned bucket "
        "keeps the versions and adds a delete marker."
    )
    dry_run = fields.Boolean(
        load_default=False,
        metadata=describe(
            "Dry run",
            "Say whether the object (or version) would be deleted, and delete nothing: only "
            "HeadObject is sent (and HeadBucket for a missing key).",
            group="options",
        ),
    )


class DeleteObjectResponse(LocationResponse):
    version_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The version deleted, or the delete marker S3 created"},
    )
    delete_marker = fields.Boolean(
        required=True,
        metadata={
            "description": "The delete created a delete marker (versioned bucket, no "
            "version_id) or removed one (version_id names a delete marker)"
        },
    )
    found = fields.Boolean(
        required=True,
        allow_none=True,
        metadata={
            "description": "Whether the object or version existed; null when S3 "
            "answered 403 to HeadObject, so it cannot tell"
        },
    )
    deleted = fields.Boolean(required=True)
    dry_run = fields.Boolean(
        required=True, metadata={"description": "Nothing was deleted: a dry run"}
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(["deleted", "not_found", "would_delete"]),
        metadata={"description": "would_delete: a dry run found what a delete would remove"},
    )

    class Meta:
        unknown = RAISE


class DeleteObject(BucketCheckingActivity):
    id = "delete_object"
    name = "Delete Object"
    description = (
        "Deletes an object, or with version_id that version for good (target). Idempotent: "
        "deleting a missing key succeeds with status not_found. A HeadObject first tells "
        "whether the object existed (hence s3:GetObject); for a missing key no DeleteObject is "
        "sent, since in a versioned bucket it would add a needless delete marker. Without "
        "s3:ListBucket, S3 answers 403 rather than 404 for a missing key: found is then null "
        "and the delete is sent anyway. A missing bucket is an error (not_found). With "
        "dry_run, nothing is deleted: the response says what would be (status would_delete "
        "or not_found)."
    )
    Settings = DeleteObjectSettings
    Response = DeleteObjectResponse
    permissions = (
        {
            "action": "s3:DeleteObject",
            "resource": "object",
            "when": NOT_DRY_RUN,
        },
        {
            "action": "s3:DeleteObjectVersion",
            "resource": "object",
            "when": {"allMatch": [{"field": "version_id", "isSet": True}, NOT_DRY_RUN]},
        },
        *READ_PERMISSIONS,
        {"action": "s3:ListBucket", "resource": "bucket"},
    )

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        bucket, key = settings["bucket"], settings["key"]
        version_id = settings.get("version_id")
        dry_run = settings.get("dry_run", False)
        target = f"s3://{bucket}/{key}"
        answer = probe_settings(self.connection, settings)
        found = FOUND_BY_STATUS[answer.status]
        if found is False and (not version_id or dry_run):
            if self.buckets.missing(bucket, answer.region):
                raise NotFound(
                    f"DeleteObject {target} failed: the bucket does not exist (HeadObject and "
                    "HeadBucket answered 404)",
                    field="bucket",
                    request_id=answer.request_id,
                )
            yield self._response(
                bucket, key, answer.region, version_id, False, False, False, dry_run
            )
            return
        if dry_run:
            # What the delete would remove: the version asked for, else the current one (in a
            # versioned bucket, S3 would add a delete marker instead; no request tells which
            # without s3:GetBucketVersioning, so delete_marker stays false).
            yield self._response(
                bucket,
                key,
                answer.region,
                version_id or answer.version_id,
                answer.delete_marker,
                found,
                False,
                True,
            )
            return
        request: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            request["VersionId"] = version_id
        try:
            response, region = self.connection.regions.call(
                bucket,
                answer.region,
                lambda client: client.delete_object(**request),
                name="DeleteObject",
                target=target,
            )
        except InvalidInput as exc:
            if not version_id or exc.field:
                raise
            raise InvalidInput(exc.message, field="version_id", request_id=exc.request_id) from None
        delete_marker = bool(response.get("DeleteMarker"))
        if found is False and not delete_marker:
            # S3 deletes nothing for a version id it does not know, and answers 204 anyway.
            yield self._response(bucket, key, region, version_id, False, False, False)
            return
        yield self._response(
            bucket,
            key,
            region,
            response.get("VersionId") or version_id,
            delete_marker,
            True if found is False else found,
            True,
        )

    @staticmethod
    def _response(
        bucket: str,
        key: str,
        region: str,
        version_id: str | None,
        delete_marker: bool,
        found: bool | None,
        deleted: bool,
        dry_run: bool = False,
    ) -> Document:
        if dry_run:
            status = "would_delete" if found is not False else "not_found"
        else:
            status = "deleted" if deleted else "not_found"
        return Document(
            object_properties(
                bucket,
                key,
                region,
                version_id=version_id,
                delete_marker=delete_marker,
                found=found,
                deleted=deleted,
                dry_run=dry_run,
                status=status,
            )
        )
