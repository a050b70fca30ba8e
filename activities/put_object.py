"""Put Object: store each incoming document as an S3 object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from s3_connector.connector.activity import TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.transfers import prepare_body

from .common import BucketSettings, sse_c_key_field
from .storing import (
    METADATA_LIMIT,
    STORAGE_CLASSES,
    STORED_PROPERTIES,
    STORED_REQUIRED,
    STORED_WRITES,
    content_type_field,
    file_name_field,
    folder_field,
    guess_content_type,
    location_key_field,
    metadata_field,
    object_key,
    overwrite_field,
    storage_class_field,
    store_object,
)

__all__ = ["METADATA_LIMIT", "STORAGE_CLASSES", "PutObject", "PutObjectSettings", "object_key"]


class PutObjectSettings(BucketSettings):
    key = location_key_field(
        "Object key. When empty, the key is `folder`/`file_name`, and the file name "
        "falls back to the document's file name."
    )
    folder = folder_field()
    file_name = file_name_field(
        "Last part of the key, when no key is given. Defaults to the document's file name."
    )
    content_type = content_type_field("Media type of the object; guessed from the key when empty.")
    metadata = metadata_field()
    storage_class = storage_class_field()
    overwrite = overwrite_field(default=True)
    sse_c_key = sse_c_key_field(
        "Customer-provided key (base64 of 32 bytes) to encrypt the object with SSE-C (AES256). "
        "The same key is needed to read it."
    )


class PutObject(TargetActivity):
    id = "put_object"
    name = "Put Object"
    description = (
        "Stores each incoming document as an object (target). Large content is streamed "
        "in 8 MiB parts; with overwrite false the write is an atomic conditional create."
    )
    content = "consumes"
    concurrent = True
    Settings = PutObjectSettings
    reads = ("file_name",)
    writes = STORED_WRITES
    response = {
        "type": "object",
        "properties": STORED_PROPERTIES,
        "required": STORED_REQUIRED,
    }
    permissions = ({"action": "s3:PutObject", "resource": "object"},)

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        key = object_key(settings)
        content_type = settings.get("content_type") or guess_content_type(key)
        with document.open() as stream:
            body = prepare_body(stream, document.size, document.path)
            stored = store_object(self.connection, settings, key, body, content_type)
        yield Document(stored)
