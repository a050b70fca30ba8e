"""Object Checksum: hashes an object's content as it streams from S3."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from marshmallow import fields, validate

from s3_connector.activities.common import (
    LocationResponse,
    ObjectSettings,
    object_properties,
    sse_c_key_field,
    sse_params,
)
from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.fields import describe

CHUNK = 1024 * 1024


class ObjectChecksumSettings(ObjectSettings):
    algorithm = fields.String(
        load_default="sha256",
        validate=validate.OneOf(["sha256", "sha1", "md5"]),
        metadata=describe("Algorithm", "Hash algorithm.", group="options"),
    )
    sse_c_key = sse_c_key_field("Key (base64 of 32 bytes) of an SSE-C object.")


class ObjectChecksumResponse(LocationResponse):
    algorithm = fields.String(required=True)
    digest = fields.String(required=True)
    size = fields.Integer(required=True)


class ObjectChecksum(TargetActivity):
    id = "object_checksum"
    name = "Object Checksum"
    description = "Hashes an object's content, streamed from S3, without storing it."
    concurrent = True
    Settings = ObjectChecksumSettings
    writes = ("bucket", "key", "folder", "file_name", "region")
    Response = ObjectChecksumResponse
    permissions = (
        {"action": "s3:GetObject", "resource": "object"},
        {"action": "s3:GetObjectVersion", "resource": "object", "when": "version_id"},
    )

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        bucket, key = settings["bucket"], settings["key"]
        request = {"Bucket": bucket, "Key": key, **sse_params(settings)}
        if settings.get("version_id"):
            request["VersionId"] = settings["version_id"]
        response, region = self.connection.regions.call(
            bucket,
            settings.get("region"),
            lambda client: client.get_object(**request),
            name="GetObject",
            target=f"s3://{bucket}/{key}",
        )
        digest, size = hashlib.new(settings["algorithm"]), 0
        for chunk in response["Body"].iter_chunks(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        yield Document(
            object_properties(
                bucket,
                key,
                region,
                algorithm=settings["algorithm"],
                digest=digest.hexdigest(),
                size=size,
            )
        )
