"""Copying one object inside S3: the path that Copy Object and Move Object share.

An object under 5 GiB is copied with one CopyObject request; a larger one with s3transfer's
multipart copy (CreateMultipartUpload, UploadPartCopy, CompleteMultipartUpload). Both paths
send the content type, user metadata and the Cache-Control, Content-Disposition,
Content-Encoding, Content-Language, Expires and website-redirect headers explicitly (metadata
directive REPLACE), taken from the source's HeadObject unless the settings replace them, so
the copy keeps them whichever path it takes.

The single request is sent directly rather than through s3transfer, which returns nothing:
CopyObject's response gives the version id and ETag of what was written. s3transfer does not
accept IfNoneMatch for a copy, so with overwrite false the write is made conditional this way:
CopyObject carries If-None-Match: * (S3 and SeaweedFS refuse it with 412 when the destination
key exists), and a multipart copy completes through the connection's create-only client, whose
CompleteMultipartUpload carries it. (Forcing every conditional copy through the multipart path
would drop the tags and fail on SeaweedFS for SSE-C sources: its UploadPartCopy answers
NotImplemented to the copy-source SSE-C headers.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from marshmallow import fields

from s3_connector.connector.activity import ResponseSchema, TargetActivity
from s3_connector.connector.errors import (
    ConnectorError,
    InvalidInput,
    PreconditionFailed,
    from_client_error,
    translate,
)
from s3_connector.connector.fields import (
    BucketName,
    ObjectKey,
    RegionName,
    describe,
)

from .common import (
    BUCKET_CHOICES,
    OBJECT_WRITES,
    LocationResponse,
    ObjectSettings,
    etag,
    needs_sse_c_key,
    object_properties,
    sse_c_key_field,
    sse_c_refusal,
    sse_params,
)
from .probing import probe_object
from .storing import (
    DEFAULT_CONTENT_TYPE,
    content_type_field,
    metadata_field,
    overwrite_field,
    storage_class_field,
)

MiB = 1024 * 1024
COPY_LIMIT = 5 * 1024 * MiB
"""CopyObject copies at most 5 GiB in one request; larger objects are copied in parts."""
PART_SIZE = 64 * MiB
COPY_CONFIG = TransferConfig(
    multipart_threshold=COPY_LIMIT,
    multipart_chunksize=PART_SIZE,
    max_concurrency=8,
    use_threads=True,
)
"""s3transfer's settings for a multipart copy: parts of 64 MiB (more for objects over
625 GiB, as S3 allows 10,000 parts), 8 UploadPartCopy requests at a time. An object is
copied in parts when its size reaches `multipart_threshold`."""

KEPT_HEADERS = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "Expires",
    "WebsiteRedirectLocation",
)
"""HeadObject's headers that a copy sends again, as REPLACE would otherwise drop them."""
ARCHIVED_CLASSES = ("GLACIER", "DEEP_ARCHIVE")


class CopyObjectSettings(ObjectSettings):
    """The source object (bucket, region, key, version), where its copy goes, and what the
    copy keeps or replaces."""

    destination_bucket = BucketName(
        metadata=describe(
            "Destination bucket",
            "Bucket to copy to; the source bucket when empty.",
            group="location",
            dynamic=True,
            choices_from=BUCKET_CHOICES,
        ),
    )
    destination_region = RegionName(
        metadata=describe(
            "Destination region",
            "Region of the destination bucket. Leave empty to detect it (the source region "
            "when the destination is the source bucket).",
            group="location",
            dynamic=True,
        ),
    )
    destination_key = ObjectKey(
        metadata=describe(
            "Destination key",
            "Key of the copy; the source key when empty.",
            group="object",
            dynamic=True,
        ),
    )
    content_type = content_type_field(
        "Media type of the copy; the source's when empty.", dynamic=False
    )
    metadata = metadata_field(
        "User metadata of the copy, an object of ASCII strings (x-amz-meta-* headers); "
        "when given it replaces the source's, else the copy keeps the source's."
    )
    storage_class = storage_class_field("Storage class of the copy; the source's when empty.")
    overwrite = overwrite_field(
        default=True,
        description="Replace an existing object at the destination. When false, the write is "
        "atomic and conditional (If-None-Match: *) and fails if the destination key exists.",
    )
    source_sse_c_key = sse_c_key_field(
        "Key (base64 of 32 bytes) the source object is encrypted with, for SSE-C sources.",
        label="Source SSE-C key",
    )
    sse_c_key = sse_c_key_field(
        "Key (base64 of 32 bytes) to encrypt the copy with SSE-C (AES256); the source SSE-C "
        "key when empty, so a copy of an SSE-C object stays encrypted. A key other than "
        "the source's rotates the key."
    )


@dataclass
class Source:
    """The source object as HeadObject described it, in its bucket's region."""

    bucket: str
    key: str
    region: str
    head: dict[str, Any] = field(repr=False)
    sse: dict[str, str] = field(repr=False)
    """SSECustomer* parameters that read the source (empty unless SSE-C)."""

    @property
    def target(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def version_id(self) -> str | None:
        return self.head.get("VersionId")

    @property
    def size(self) -> int:
        return self.head.get("ContentLength") or 0

    def copy_source(self) -> dict[str, str]:
        """CopySource, pinned to the version HeadObject reported."""
        source = {"Bucket": self.bucket, "Key": self.key}
        if self.version_id:
            source["VersionId"] = self.version_id
        return source

    def properties(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "region": self.region,
        }


@dataclass
class Destination:
    bucket: str
    key: str
    region: str | None
    """The region override; None to detect it."""
    sse: dict[str, str] = field(repr=False)
    """SSECustomer* parameters the copy is encrypted with (empty unless SSE-C)."""

    @property
    def target(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class Copied:
    """What a copy wrote."""

    region: str
    etag: str | None
    version_id: str | None
    size: int
    content_type: str
    multipart: bool


def destination(settings: dict[str, Any]) -> Destination:
    """Where the copy goes: by default the source bucket and key (as Mendix does)."""
    bucket = settings.get("destination_bucket") or settings["bucket"]
    region = settings.get("destination_region")
    if not region and bucket == settings["bucket"]:
        region = settings.get("region")
    key = settings.get("destination_key") or settings["key"]
    secret = settings.get("sse_c_key") or settings.get("source_sse_c_key")
    return Destination(bucket, key, region, secret.request_params() if secret else {})


def read_source(connection: Any, settings: dict[str, Any]) -> Source:
    """HeadObject of the source (the given version, with its SSE-C key)."""
    bucket, key = settings["bucket"], settings["key"]
    sse = sse_params(settings, "source_sse_c_key")
    answer = probe_object(
        connection,
        bucket,
        key,
        region=settings.get("region"),
        version_id=settings.get("version_id"),
        sse=sse,
        checksums=True,
    )
    if answer.error is not None:
        error = answer.failure("HeadObject", f"s3://{bucket}/{key}")
        if sse or not needs_sse_c_key(answer.error):
            raise error
        raise sse_c_refusal(
            error,
            field="source_sse_c_key",
            hint="the source object may be encrypted with SSE-C and need its key",
        )
    source = Source(bucket, key, answer.region, answer.response, sse)
    _check_readable(source)
    return source


def _check_readable(source: Source) -> None:
    """An archived object (Glacier, Deep Archive, Intelligent-Tiering archive tiers) must be
    restored before S3 copies it; say so rather than relay S3's InvalidObjectState."""
    head = source.head
    archived = head.get("StorageClass") in ARCHIVED_CLASSES or head.get("ArchiveStatus")
    if archived and 'ongoing-request="false"' not in (head.get("Restore") or ""):
        tier = head.get("ArchiveStatus") or head.get("StorageClass")
        raise InvalidInput(
            f"the source {source.target} is archived ({tier}); restore it before copying it",
            field="key",
        )


def destination_args(source: Source, settings: dict[str, Any]) -> dict[str, Any]:
    """What the copy is written with: the source's content type, metadata and headers, or the
    settings' replacements, the storage class and the destination's SSE-C key."""
    head = source.head
    args: dict[str, Any] = {
        "MetadataDirective": "REPLACE",
        "ContentType": settings.get("content_type")
        or head.get("ContentType")
        or DEFAULT_CONTENT_TYPE,
        "Metadata": settings["metadata"]
        if settings.get("metadata") is not None
        else head.get("Metadata", {}),
    }
    for name in KEPT_HEADERS:
        if head.get(name):
            args[name] = head[name]
    storage_class = settings.get("storage_class") or head.get("StorageClass")
    if storage_class:
        args["StorageClass"] = storage_class
    return args


def copy_object(
    connection: Any, source: Source, target: Destination, settings: dict[str, Any]
) -> Copied:
    """Copy the exact object `read_source` described to `target`."""
    args = destination_args(source, settings)
    copy_sse = {
        name.replace("SSECustomer", "CopySourceSSECustomer", 1): value
        for name, value in source.sse.items()
    }
    overwrite = settings.get("overwrite", True)
    multipart = source.size >= COPY_CONFIG.multipart_threshold
    # A version id pins the source; without one, its ETag does (S3 refuses with 412 a copy
    # of an object that changed since HeadObject described it).
    source_etag = None if source.version_id else source.head.get("ETag")
    source_client = connection.client(source.region)

    def single(client: Any) -> tuple[str | None, str | None]:
        request: dict[str, Any] = {
            "CopySource": source.copy_source(),
            "Bucket": target.bucket,
            "Key": target.key,
            **args,
            **copy_sse,
            **target.sse,
        }
        if source_etag:
            request["CopySourceIfMatch"] = source_etag
        if not overwrite:
            request["IfNoneMatch"] = "*"
        response = client.copy_object(**request)
        return response.get("CopyObjectResult", {}).get("ETag"), response.get("VersionId")

    def in_parts(client: Any) -> tuple[str | None, str | None]:
        extra = {**args, **copy_sse, **target.sse}
        if source_etag:
            extra["CopySourceIfMatch"] = source_etag
        client.copy(
            source.copy_source(),
            target.bucket,
            target.key,
            ExtraArgs=extra,
            SourceClient=source_client,
            Config=COPY_CONFIG,
        )
        head = client.head_object(Bucket=target.bucket, Key=target.key, **target.sse)
        return head.get("ETag"), head.get("VersionId")

    def run(client: Any) -> tuple[str | None, str | None]:
        try:
            return (in_parts if multipart else single)(client)
        except ClientError as exc:
            raise _copy_error(exc, source, target, overwrite) from None
        except (ConnectorError, BotoCoreError):
            raise
        except Exception as exc:  # s3transfer's own errors, e.g. S3CopyFailedError
            raise translate(exc, operation="Copy", target=target.target) from None

    (written_etag, version_id), region = connection.regions.call(
        target.bucket,
        target.region,
        run,
        name="UploadPartCopy" if multipart else "CopyObject",
        target=target.target,
        create_only=not overwrite,
    )
    return Copied(
        region=region,
        etag=etag(written_etag),
        version_id=version_id,
        size=source.size,
        content_type=args["ContentType"],
        multipart=multipart,
    )


def _copy_error(
    exc: ClientError, source: Source, target: Destination, overwrite: bool
) -> ConnectorError:
    """A failed copy in the taxonomy; a refused precondition says which one it was."""
    operation = getattr(exc, "operation_name", None) or "CopyObject"
    error = from_client_error(exc, operation=operation, target=target.target)
    if not isinstance(error, PreconditionFailed):
        return error
    code = exc.response.get("Error", {}).get("Code")
    if code == "ConditionalRequestConflict":
        reason = "another write to the destination was in progress; try again"
    elif operation == "CompleteMultipartUpload" or (
        operation == "CopyObject" and not overwrite and source.version_id
    ):
        reason = "the destination exists and overwrite is false"
    elif operation == "CopyObject" and not overwrite:
        reason = (
            "the destination exists and overwrite is false (or the source changed after "
            "it was read)"
        )
    else:
        reason = f"the source {source.target} changed after it was read"
    return PreconditionFailed(f"{error.message}: {reason}", request_id=error.request_id)


def copy_properties(source: Source, target: Destination, copied: Copied) -> dict[str, Any]:
    """The response properties of a copy: the destination, what was written, the source."""
    return object_properties(
        target.bucket,
        target.key,
        copied.region,
        version_id=copied.version_id,
        etag=copied.etag,
        size=copied.size,
        content_type=copied.content_type,
        source=source.properties(),
    )


class CopySourceResponse(ResponseSchema):
    """`Source.properties`, for response schemas."""

    bucket = fields.String(required=True)
    key = fields.String(required=True)
    version_id = fields.String(required=True, allow_none=True)
    region = fields.String(required=True)


class CopyResponse(LocationResponse):
    """`copy_properties`, for response schemas."""

    version_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Version of the copy, in a versioned destination bucket"},
    )
    etag = fields.String(required=True)
    size = fields.Integer(required=True)
    content_type = fields.String(required=True)
    source = fields.Nested(
        CopySourceResponse,
        required=True,
        metadata={"description": "The object copied: its bucket, key, exact version and region"},
    )


COPY_PERMISSIONS = (
    {"action": "s3:GetObject", "resource": "object"},
    {"action": "s3:GetObjectVersion", "resource": "object"},
    {"action": "s3:PutObject", "resource": "object"},
    {"action": "s3:AbortMultipartUpload", "resource": "object"},
)
"""s3:GetObjectVersion even without version_id: in a versioned bucket the copy names the
version it read."""


class CopyingActivity(TargetActivity):
    """An activity that copies one object per document with `copy_object`."""

    concurrent = True
    Settings = CopyObjectSettings
    writes = OBJECT_WRITES
