"""Move Object: copy an object, check the copy against the source, then delete the source."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from marshmallow import fields, validate

from s3_connector.connector.activity import ResponseSchema, Shape
from s3_connector.connector.documents import READ_CHUNK, Document
from s3_connector.connector.errors import (
    ConnectorError,
    IntegrityError,
    InvalidInput,
    PreconditionFailed,
)
from s3_connector.connector.fields import describe
from s3_connector.connector.integrity import plain_etag

from .common import CHECKSUM_ALGORITHMS, object_properties
from .copying import (
    COPY_CONFIG,
    COPY_PERMISSIONS,
    Copied,
    CopyingActivity,
    CopyObjectSettings,
    CopyResponse,
    Destination,
    Source,
    copy_object,
    copy_properties,
    destination,
    destination_args,
    read_source,
)
from .delete_object import FOUND_BY_STATUS, NOT_DRY_RUN
from .probing import head_object, probe_object

VERIFY_METHODS = ("checksum", "etag", "sha256")


class MoveObjectSettings(CopyObjectSettings):
    dry_run = fields.Boolean(
        load_default=False,
        metadata=describe(
            "Dry run",
            "Say what the move would do, and copy and delete nothing: only HeadObject is sent, "
            "to the source and to the destination. A move the destination would refuse "
            "(overwrite false and the key exists) fails as the move would.",
            group="options",
        ),
    )


class MoveCopyStepResponse(ResponseSchema):
    etag = fields.String()
    version_id = fields.String(allow_none=True)
    multipart = fields.Boolean()


class MoveVerifyStepResponse(ResponseSchema):
    """What `verify` returns."""

    method = fields.String(
        validate=validate.OneOf(VERIFY_METHODS),
        metadata={
            "description": "checksum: the same full-object checksum on both; etag: plain MD5 "
            "ETags; sha256: both objects read and hashed"
        },
    )
    algorithm = fields.String(
        allow_none=True, metadata={"description": "The checksum algorithm, for method checksum"}
    )
    size = fields.Integer()


class MoveDeleteStepResponse(ResponseSchema):
    """What `delete_source` returns."""

    version_id = fields.String(
        allow_none=True,
        metadata={"description": "The version deleted, or the delete marker S3 created"},
    )
    delete_marker = fields.Boolean()


class MoveStepsResponse(ResponseSchema):
    copy = fields.Nested(MoveCopyStepResponse, required=True)
    verify = fields.Nested(MoveVerifyStepResponse, required=True)
    delete = fields.Nested(MoveDeleteStepResponse, required=True)


class MoveObjectResponse(CopyResponse):
    steps = fields.Nested(
        MoveStepsResponse, required=True, metadata={"description": "What each step did"}
    )
    dry_run = fields.Boolean(
        required=True, metadata={"description": "Nothing was moved: a dry run"}
    )
    destination_exists = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "Dry run: whether the destination key exists (the move would "
            "replace it); null when S3 answered 403, so it cannot tell"
        },
    )
    multipart = fields.Boolean(
        metadata={"description": "Dry run: whether the copy would be made in parts"}
    )

    shapes = (
        Shape(
            "the move",
            required=(
                "bucket",
                "key",
                "folder",
                "file_name",
                "region",
                "version_id",
                "etag",
                "size",
                "content_type",
                "source",
                "steps",
                "dry_run",
            ),
            absent=("destination_exists",),
        ),
        Shape(
            "a dry run (dry_run)",
            required=(
                "bucket",
                "key",
                "folder",
                "file_name",
                "region",
                "size",
                "content_type",
                "source",
                "dry_run",
                "destination_exists",
                "multipart",
            ),
            absent=("steps",),
        ),
    )


class MoveObject(CopyingActivity):
    id = "move_object"
    name = "Move Object"
    description = (
        "Moves an object (target): copies it inside S3 as Copy Object does, checks that the "
        "copy matches the source (size, then checksum, ETag or the SHA-256 of both), then "
        "deletes the source. When the copy or the check fails, the source is kept. A move "
        "onto itself (same bucket and key) is refused. With dry_run, nothing is copied or "
        "deleted: the response says what the move would do."
    )
    Settings = MoveObjectSettings
    Response = MoveObjectResponse
    permissions = (
        *COPY_PERMISSIONS,
        {"action": "s3:DeleteObject", "resource": "object", "when": NOT_DRY_RUN},
        {
            "action": "s3:DeleteObjectVersion",
            "resource": "object",
            "when": {"allMatch": [{"field": "version_id", "isSet": True}, NOT_DRY_RUN]},
        },
    )

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        target = destination(settings)
        if (target.bucket, target.key) == (settings["bucket"], settings["key"]):
            raise InvalidInput(
                "must differ from the source key when the destination is the source bucket: "
                "a move onto itself would delete the object",
                field="destination_key",
            )
        if settings.get("dry_run"):
            yield Document(self._plan(settings, target))
            return
        kept = f"the source s3://{settings['bucket']}/{settings['key']} was kept"
        try:
            source = read_source(self.connection, settings)
            copied = copy_object(self.connection, source, target, settings)
        except ConnectorError as exc:
            raise _step_failed("copy", kept, exc) from exc
        left = f"{kept}; the copy {target.target} was left in place"
        try:
            verified = verify(self.connection, source, target, copied)
        except ConnectorError as exc:
            raise _step_failed("verify", left, exc) from exc
        try:
            deleted = delete_source(self.connection, source, settings.get("version_id"))
        except ConnectorError as exc:
            raise _step_failed("delete", left, exc) from exc
        steps = {
            "copy": {
                "etag": copied.etag,
                "version_id": copied.version_id,
                "multipart": copied.multipart,
            },
            "verify": verified,
            "delete": deleted,
        }
        yield Document(
            {**copy_properties(source, target, copied), "steps": steps, "dry_run": False}
        )

    def _plan(self, settings: dict[str, Any], target: Destination) -> dict[str, Any]:
        """What the move would do (dry_run): HeadObject of the source (which must be readable,
        as for the move) and of the destination; nothing is copied or deleted."""
        source = read_source(self.connection, settings)
        answer = probe_object(self.connection, target.bucket, target.key, region=target.region)
        exists = FOUND_BY_STATUS.get(answer.status)
        if exists and not settings.get("overwrite", True):
            raise PreconditionFailed(
                f"dry run: the destination {target.target} exists and overwrite is false, so "
                "the move would be refused; nothing was moved",
                field="destination_key",
                request_id=answer.request_id,
            )
        return object_properties(
            target.bucket,
            target.key,
            answer.region,
            size=source.size,
            content_type=destination_args(source, settings)["ContentType"],
            source=source.properties(),
            dry_run=True,
            destination_exists=exists,
            multipart=source.size >= COPY_CONFIG.multipart_threshold,
        )


def _step_failed(step: str, kept: str, exc: ConnectorError) -> ConnectorError:
    """The failed step's error, of the same class and request id, saying the source was kept."""
    return type(exc)(
        f"move step {step} failed, {kept}: {exc.message}",
        field=exc.field,
        request_id=exc.request_id,
    )


def verify(connection: Any, source: Source, target: Destination, copied: Copied) -> dict:
    """Check the copy against the source: the sizes, then the strongest evidence both share
    (a full-object checksum of the same algorithm, plain ETags, else the SHA-256 of both)."""
    head, _ = head_object(
        connection,
        target.bucket,
        target.key,
        region=copied.region,
        version_id=copied.version_id,
        sse=target.sse,
    )
    size = head.get("ContentLength")
    if size != source.size:
        raise IntegrityError(
            f"the copy {target.target} has {size} bytes, the source {source.target} {source.size}"
        )
    checksums = _full_object_checksums(source.head), _full_object_checksums(head)
    for algorithm in CHECKSUM_ALGORITHMS:
        if algorithm in checksums[0] and algorithm in checksums[1]:
            if checksums[0][algorithm] != checksums[1][algorithm]:
                raise IntegrityError(
                    f"the {algorithm} checksum of the copy {target.target} differs from the "
                    f"source's"
                )
            return {"method": "checksum", "algorithm": algorithm, "size": size}
    etags = _plain_etag(source.head), _plain_etag(head)
    if etags[0] and etags[1]:
        if etags[0] != etags[1]:
            raise IntegrityError(
                f"the ETag of the copy {target.target} ({etags[1]}) differs from the "
                f"source's ({etags[0]})"
            )
        return {"method": "etag", "algorithm": None, "size": size}
    source_digest = _sha256(
        connection,
        source.bucket,
        source.key,
        source.region,
        source.sse,
        version_id=source.version_id,
        if_match=None if source.version_id else source.head.get("ETag"),
    )
    copy_digest = _sha256(
        connection,
        target.bucket,
        target.key,
        copied.region,
        target.sse,
        version_id=copied.version_id,
        if_match=None if copied.version_id else head.get("ETag"),
    )
    if source_digest != copy_digest:
        raise IntegrityError(f"the SHA-256 of the copy {target.target} differs from the source's")
    return {"method": "sha256", "algorithm": None, "size": size}


def _full_object_checksums(head: dict[str, Any]) -> dict[str, str]:
    """The checksums of the whole object (not composite checksums of parts), by algorithm."""
    if (head.get("ChecksumType") or "FULL_OBJECT") != "FULL_OBJECT":
        return {}
    found = {}
    for algorithm in CHECKSUM_ALGORITHMS:
        value = head.get(f"Checksum{algorithm}")
        if value and "-" not in value:
            found[algorithm] = value
    return found


def _plain_etag(head: dict[str, Any]) -> str | None:
    """The ETag, when it is the MD5 of the whole content (not of parts)."""
    value = plain_etag(head)
    return value if value and "-" not in value else None


def _sha256(
    connection: Any,
    bucket: str,
    key: str,
    region: str,
    sse: dict[str, str],
    *,
    version_id: str | None,
    if_match: str | None,
) -> str:
    """The SHA-256 of an object's content, read as a stream."""
    request: dict[str, Any] = {"Bucket": bucket, "Key": key, **sse}
    if version_id:
        request["VersionId"] = version_id
    if if_match:
        request["IfMatch"] = if_match

    def digest(client: Any) -> str:
        body = client.get_object(**request)["Body"]
        hasher = hashlib.sha256()
        with body:
            for chunk in body.iter_chunks(READ_CHUNK):
                hasher.update(chunk)
        return hasher.hexdigest()

    value, _ = connection.regions.call(
        bucket, region, digest, name="GetObject", target=f"s3://{bucket}/{key}"
    )
    return value


def delete_source(connection: Any, source: Source, version_id: str | None) -> dict[str, Any]:
    """Delete the given version, else the key (a delete marker in a versioned bucket). In an
    unversioned bucket the delete is conditional on the ETag that was copied, so an object
    written over the source meanwhile is not deleted."""
    request: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key}
    if version_id:
        request["VersionId"] = version_id
    elif source.version_id in (None, "null") and source.head.get("ETag"):
        request["IfMatch"] = source.head["ETag"]
    try:
        response, _ = connection.regions.call(
            source.bucket,
            source.region,
            lambda client: client.delete_object(**request),
            name="DeleteObject",
            target=source.target,
        )
    except PreconditionFailed as exc:
        raise PreconditionFailed(
            f"{exc.message}: the source changed after it was copied", request_id=exc.request_id
        ) from None
    return {
        "version_id": response.get("VersionId") or version_id,
        "delete_marker": bool(response.get("DeleteMarker")),
    }
