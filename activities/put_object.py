"""Put Object: store each incoming document as an S3 object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from s3_connector.connector.cancellation import Sent, Then
from s3_connector.connector.documents import Document
from s3_connector.connector.uploads import PART_SIZE, prepare_body

from .common import sse_c_key_field
from .storing import (
    METADATA_LIMIT,
    STORAGE_CLASSES,
    WRITE_SSE_C_KEY,
    LocatedSettings,
    StoringActivity,
    begin_store_object,
    content_type_field,
    guess_content_type,
    metadata_field,
    object_key,
    overwrite_field,
    storage_class_field,
    store_object,
)

__all__ = ["METADATA_LIMIT", "STORAGE_CLASSES", "PutObject", "PutObjectSettings", "object_key"]


class PutObjectSettings(LocatedSettings):
    content_type = content_type_field("Media type of the object; guessed from the key when empty.")
    metadata = metadata_field()
    storage_class = storage_class_field()
    overwrite = overwrite_field(default=True)
    sse_c_key = sse_c_key_field(WRITE_SSE_C_KEY)


class PutObject(StoringActivity):
    id = "put_object"
    name = "Put Object"
    description = (
        "Stores each incoming document as an object (target). Large content is streamed "
        "in 8 MiB parts; with overwrite false the write is an atomic conditional create."
    )
    content = "consumes"
    Settings = PutObjectSettings
    reads = ("file_name",)

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        key = object_key(settings)
        content_type = settings.get("content_type") or guess_content_type(key)
        with document.open() as stream:
            body = prepare_body(stream, document.size, document.path)
            stored = store_object(self.connection, settings, key, body, content_type)
        yield Document(stored)

    def start(self, document: Document, settings: dict[str, Any]) -> Sent[list[Document]] | None:
        """Content of at most one part, bytes or a file (`Document.read_whole`), is sent as
        one PutObject without waiting, when the data plane can."""
        if not hasattr(self.connection.data_plane, "begin_put_object"):
            return None
        body = document.read_whole(PART_SIZE)
        if body is None:
            return None  # a stream, or more than a part: `run` streams it
        key = object_key(settings)
        content_type = settings.get("content_type") or guess_content_type(key)
        started = begin_store_object(self.connection, settings, key, body, content_type)
        return Then(started, lambda stored: [Document(stored)])
