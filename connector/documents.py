"""Documents: the unit that flows through a process, a content stream plus properties."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

Content = bytes | os.PathLike | BinaryIO | None


class Document:
    """Properties (a dict) and optional content: bytes, a file path or a binary stream.
    `Document(properties, content)`, or `from_bytes`, `from_path` and `from_stream`.

    A file is opened only when read, and a stream is handed on as it is, so a document
    never needs its whole content in memory. A stream can be read once.

    `tracked` names the properties an activity wrote on the document it emitted: they say
    where the document came from (Boomi's tracked properties). Properties set by the process
    (the constructor, `with_properties`) are instructions for the next activity.
    """

    __slots__ = ("_content", "properties", "tracked")

    def __init__(
        self,
        properties: dict[str, Any] | None = None,
        content: Content = None,
        tracked: frozenset[str] = frozenset(),
    ):
        self.properties: dict[str, Any] = dict(properties or {})
        self._content = content
        self.tracked = tracked

    def with_properties(self, **values: Any) -> Document:
        """A document with the same content and these properties set by the process."""
        return Document({**self.properties, **values}, self._content, self.tracked - values.keys())

    def as_emitted(self) -> Document:
        """This document with all of its properties tracked, as an activity emits it."""
        self.tracked = frozenset(self.properties)
        return self

    @classmethod
    def from_bytes(cls, data: bytes, **properties: Any) -> Document:
        """A document whose content is `data`: `Document.from_bytes(b"id,total", key="a.csv")`."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"from_bytes takes bytes, not {type(data).__name__}")
        return cls(properties, bytes(data))

    @classmethod
    def from_path(
        cls, path: str | os.PathLike, file_name: str | None = None, **properties: Any
    ) -> Document:
        """A document whose content is the file at `path`, opened only when read; its
        `file_name` property is the file's name unless given."""
        path = Path(path)
        return cls({"file_name": file_name or path.name, **properties}, path)

    @classmethod
    def from_stream(cls, stream: BinaryIO, **properties: Any) -> Document:
        """A document whose content is a binary stream (a file object, a pipe, a socket's
        file): read once, as the activity runs, never held whole in memory."""
        if not callable(getattr(stream, "read", None)) or isinstance(stream, io.TextIOBase):
            raise TypeError(f"from_stream takes a binary stream, not {type(stream).__name__}")
        return cls(properties, stream)

    @property
    def has_content(self) -> bool:
        return self._content is not None

    @property
    def size(self) -> int | None:
        """Content length when known without reading it."""
        content = self._content
        if isinstance(content, bytes):
            return len(content)
        if isinstance(content, os.PathLike):
            return os.stat(content).st_size
        return None

    @property
    def path(self) -> Path | None:
        return Path(self._content) if isinstance(self._content, os.PathLike) else None

    def read_whole(self, limit: int) -> bytes | None:
        """The whole content when it is bytes, or a file, of at most `limit` bytes (as read
        now); None for more, or for a stream (which is left unread)."""
        content = self._content
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content if len(content) <= limit else None
        if not isinstance(content, os.PathLike):
            return None
        with open(content, "rb", buffering=0) as file:
            size = os.fstat(file.fileno()).st_size
            if size > limit:
                return None
            data = file.read(size + 1)  # one more byte: a file that grew since is caught
            if len(data) <= size:
                return data  # a short read of a regular file: its end
            while len(data) <= limit:
                more = file.read(limit + 1 - len(data))
                if not more:
                    return data
                data += more
        return None

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The content as a binary stream (an empty one when there is no content)."""
        content = self._content
        if content is None:
            yield io.BytesIO(b"")
        elif isinstance(content, bytes):
            yield io.BytesIO(content)
        elif isinstance(content, os.PathLike):
            with open(content, "rb") as stream:
                yield stream
        else:
            yield content

    def copy_to(self, sink: BinaryIO) -> None:
        """Write the content to `sink`. Content read from S3 is written as it arrives, without
        a pass through a buffer (its reader's `copy_to`), when nothing of it was read yet."""
        with self.open() as stream:
            raw = getattr(stream, "raw", stream)
            if hasattr(raw, "copy_to") and getattr(raw, "position", None) == 0:
                raw.copy_to(sink)
            else:
                shutil.copyfileobj(stream, sink, READ_CHUNK)

    def read(self) -> bytes:
        """All of the content; for small documents and tests only."""
        with self.open() as stream:
            return stream.read()

    def __repr__(self) -> str:
        kind = type(self._content).__name__ if self._content is not None else "none"
        return f"Document(properties={self.properties!r}, content={kind})"


INLINE_LIMIT = 16 * 1024 * 1024
READ_CHUNK = 1024 * 1024


def read_up_to(stream: BinaryIO, count: int) -> bytes:
    """Up to `count` bytes of `stream`: fewer only at its end, however short its reads are
    (reading to the end is what lets a verified stream check its content)."""
    chunks: list[bytes] = []
    while count > 0:
        chunk = stream.read(count)
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


_TEXT_TYPES = (
    "text/",
    "application/xml",
    "application/javascript",
    "application/yaml",
    "application/x-yaml",
    "application/csv",
    "application/x-ndjson",
)


def inline_content(document: Document, limit: int = INLINE_LIMIT) -> dict[str, Any]:
    """The document's content as `content` and `content_format`: parsed JSON for JSON types,
    text for text types, base64 otherwise (for callers that asked for no output document)."""
    import base64
    import json

    from .errors import InvalidInput

    with document.open() as stream:
        data = read_up_to(stream, limit + 1)
    if len(data) > limit:
        raise InvalidInput(
            f"content is over the {limit // (1024 * 1024)} MiB inline limit; "
            "ask for an output document instead",
            field="output",
        )
    media = str(document.properties.get("content_type") or "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            return {"content": json.loads(data), "content_format": "json"}
        except ValueError:
            pass
    if media.startswith(_TEXT_TYPES) or media.endswith("+xml") or media == "application/json":
        try:
            return {"content": data.decode("utf-8"), "content_format": "text"}
        except UnicodeDecodeError:
            pass
    return {"content": base64.b64encode(data).decode("ascii"), "content_format": "base64"}
