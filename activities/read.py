"""Read: an object's content, inline in the response (JSON, text or base64)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from s3_connector.connector.activity import SourceActivity
from s3_connector.connector.documents import INLINE_LIMIT, Document, inline_content
from s3_connector.connector.errors import InvalidInput

from .common import CONTENT_READ_PERMISSIONS, OBJECT_WRITES
from .get_object import (
    FetchedResponse,
    ObjectReadSettings,
    content_field,
    content_format_field,
    fetch_object,
    fetched_properties,
)


class ReadResponse(FetchedResponse):
    """The object read, its content inline."""

    content = content_field(required=True)
    content_format = content_format_field(required=True)


class Read(SourceActivity):
    id = "read"
    name = "Read"
    description = (
        "Reads an object into the response (source): `content` is the parsed JSON for JSON "
        "types, text for text types, base64 otherwise. Up to 16 MiB (use a range, or "
        "get_object, for more)."
    )
    content = "none"
    Settings = ObjectReadSettings
    writes = OBJECT_WRITES
    Response = ReadResponse
    permissions = CONTENT_READ_PERMISSIONS

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        response, body, region = fetch_object(self.connection, settings)
        try:
            properties = fetched_properties(
                settings["bucket"], settings["key"], response, body, region
            )
            size = properties["size"]
            if size is not None and size > INLINE_LIMIT:
                raise InvalidInput(
                    f"the object is {size} bytes, over the "
                    f"{INLINE_LIMIT // (1024 * 1024)} MiB inline limit of read; "
                    "read part of it with range, or use get_object",
                    field="range" if settings.get("range") else "key",
                )
            inline = inline_content(Document(properties, body))
        finally:
            body.close()
        yield Document({**properties, **inline})
