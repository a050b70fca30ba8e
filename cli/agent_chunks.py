"""Content in framed base64 chunk lines (agent protocol version 2): a put's content arrives in
chunk lines after its request line, a get's content leaves in chunk lines, each ending with a
frame that gives the size and the SHA-256. Only a few chunks are ever held in memory."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import queue
from collections.abc import Iterator
from typing import Any

from s3_connector.connector.documents import Document
from s3_connector.connector.errors import InvalidInput

CHUNKS_QUEUED = 8
"""Chunks held between the reading thread and the upload: the reader waits beyond that."""
CHUNK_SIZE = 1024 * 1024
"""Bytes per chunk line sent (1 MiB, 1.4 MB of base64)."""


class _End:
    def __init__(self, size: int | None, sha256: str | None, error: str | None = None):
        self.size, self.sha256, self.error = size, sha256, error


class ChunkStream(io.RawIOBase):
    """A document's content fed chunk by chunk by the reading thread; read by the upload.
    A size or SHA-256 that differs from the end frame fails the read, so the upload aborts."""

    def __init__(self, where: str):
        super().__init__()
        self.where = where
        self._queue: queue.Queue[bytes | _End] = queue.Queue(CHUNKS_QUEUED)
        self._data = memoryview(b"")
        self._ended = False
        self._hash = hashlib.sha256()
        self.size = 0
        self.sequence = 0
        self.abandoned = False

    def readable(self) -> bool:
        return True

    def feed(self, item: bytes | _End) -> None:
        """Queue a chunk, waiting while the queue is full, unless nobody will read it."""
        while not self.abandoned:
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def abandon(self) -> None:
        """Nobody will read on (the request was answered): drop chunks from now on, and wake
        a read waiting for one."""
        self.abandoned = True
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_End(None, None, "the request was answered"))

    def end_of_input(self) -> None:
        """Standard input ended before the end frame: the read fails."""
        self.feed(_End(None, None, "standard input ended before the chunks' end frame"))

    def readinto(self, buffer: Any) -> int:
        while not len(self._data):
            if self._ended:
                return 0
            item = self._queue.get()
            if isinstance(item, _End):
                self._ended = True
                self._check(item)
                return 0
            self._hash.update(item)
            self.size += len(item)
            self._data = memoryview(item)
        count = min(len(buffer), len(self._data))
        buffer[:count] = self._data[:count]
        self._data = self._data[count:]
        return count

    def _check(self, end: _End) -> None:
        if end.error:
            raise InvalidInput(end.error, field=self.where)
        if end.size is not None and end.size != self.size:
            raise InvalidInput(
                f"the chunks hold {self.size} bytes, the end frame says {end.size}",
                field=self.where,
            )
        if end.sha256 is not None and end.sha256.lower() != self._hash.hexdigest():
            raise InvalidInput("the chunks' SHA-256 differs from the end frame's", field=self.where)


def take_chunk_line(stream: ChunkStream, data: dict[str, Any]) -> str | None:
    """Feed one chunk line to `stream`; an error message (the upload then fails) or None."""
    if data.get("end") is True:
        size, digest = data.get("size"), data.get("sha256")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
            stream.feed(_End(None, None, "the end frame's size must be an integer"))
        else:
            stream.feed(_End(size, digest if isinstance(digest, str) else None))
        return "end"
    sequence = data.get("seq")
    if sequence != stream.sequence:
        message = f"chunk {sequence!r} arrived where chunk {stream.sequence} was expected"
        stream.feed(_End(None, None, message))
        return "end"
    try:
        chunk = base64.b64decode(data.get("data", ""), validate=True)
    except (binascii.Error, ValueError, TypeError):
        stream.feed(_End(None, None, f"chunk {sequence} is not base64 (RFC 4648)"))
        return "end"
    stream.sequence += 1
    stream.feed(chunk)
    return None


def chunk_lines(request_id: Any, document: Document) -> Iterator[dict[str, Any]]:
    """A document's content as chunk lines, then the end frame (size, SHA-256)."""
    digest = hashlib.sha256()
    size = 0
    sequence = 0
    with document.open() as stream:
        while data := stream.read(CHUNK_SIZE):
            digest.update(data)
            size += len(data)
            encoded = base64.b64encode(data).decode("ascii")
            yield {"request_id": request_id, "chunk": sequence, "data": encoded}
            sequence += 1
    yield {
        "request_id": request_id,
        "chunk_end": True,
        "chunks": sequence,
        "size": size,
        "sha256": digest.hexdigest(),
    }
