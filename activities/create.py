"""Create: an empty object, or a folder marker when the key ends in a slash."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import fields

from s3_connector.connector.documents import Document
from s3_connector.connector.fields import ObjectKey, describe

from .common import BucketSettings, sse_c_key_field
from .storing import (
    WRITE_SSE_C_KEY,
    StoredResponse,
    StoringActivity,
    content_type_field,
    guess_content_type,
    metadata_field,
    overwrite_field,
    store_object,
)

FOLDER_CONTENT_TYPE = "application/x-directory"


class CreateSettings(BucketSettings):
    key = ObjectKey(
        required=True,
        metadata=describe(
            "Key",
            "Key of the object to create. A key that ends in / creates a folder marker: an "
            "empty object that consoles and tools show as a folder.",
            group="object",
            dynamic=True,
        ),
    )
    content_type = content_type_field(
        "Media type of the object; application/x-directory for a folder marker, else "
        "guessed from the key, when empty."
    )
    metadata = metadata_field()
    overwrite = overwrite_field(default=False)
    sse_c_key = sse_c_key_field(WRITE_SSE_C_KEY)


class CreateResponse(StoredResponse):
    folder_marker = fields.Boolean(
        required=True,
        metadata={"description": "The key ends in / and the object marks a folder"},
    )


class Create(StoringActivity):
    id = "create"
    name = "Create"
    description = (
        "Creates an empty object, or a folder marker when the key ends in / (target). "
        "By default the create is atomic and conditional and fails if the key exists."
    )
    Settings = CreateSettings
    Response = CreateResponse

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        key = settings["key"]
        folder_marker = key.endswith("/")
        content_type = settings.get("content_type") or (
            FOLDER_CONTENT_TYPE if folder_marker else guess_content_type(key)
        )
        stored = store_object(self.connection, settings, key, b"", content_type)
        yield Document({**stored, "folder_marker": folder_marker})
