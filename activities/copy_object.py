"""Copy Object: copy an object inside S3 (server-side), to another key, bucket or region."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import fields

from s3_connector.connector.documents import Document

from .copying import (
    COPY_PERMISSIONS,
    CopyingActivity,
    CopyResponse,
    copy_object,
    copy_properties,
    destination,
    read_source,
)


class CopyObjectResponse(CopyResponse):
    multipart = fields.Boolean(
        required=True,
        metadata={"description": "The object was copied in parts (UploadPartCopy)"},
    )


class CopyObject(CopyingActivity):
    id = "copy_object"
    name = "Copy Object"
    description = (
        "Copies an object inside S3, without downloading it (target): to another key, bucket "
        "or region, by default onto the same key of the same bucket. The copy keeps the "
        "source's content type, metadata and headers unless they are replaced; objects of "
        "5 GiB and more are copied in parts. With overwrite false the write is an atomic "
        "conditional create."
    )
    Response = CopyObjectResponse
    permissions = COPY_PERMISSIONS

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        source = read_source(self.connection, settings)
        target = destination(settings)
        copied = copy_object(self.connection, source, target, settings)
        yield Document({**copy_properties(source, target, copied), "multipart": copied.multipart})
