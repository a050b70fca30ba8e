"""Content by named pipe (agent protocol): a document's content read from a FIFO, and a get's
content written into one. The FIFO is opened only when the content is read or written, since
opening it waits for the other end."""

from __future__ import annotations

import io
import os
import stat
from typing import Any

from s3_connector.connector.documents import Document
from s3_connector.connector.errors import InvalidInput


def is_fifo(path: str) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False


class FifoReader(io.RawIOBase):
    """A named pipe, opened on the first read, closed at its end (read once)."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self._file: Any = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._file is None:
            self._file = open(self.path, "rb", buffering=0)  # noqa: SIM115 (closed at EOF)
        count = self._file.readinto(buffer)
        if not count:
            self._file.close()
        return count or 0


def write_to_fifo(document: Document, path: str, where: str) -> int:
    """Write `document`'s content into the named pipe at `path`; the bytes written."""
    if not is_fifo(path):
        raise InvalidInput(f"{path} is not a named pipe", field=where)
    written = 0
    with document.open() as stream, open(path, "wb") as sink:
        while data := stream.read(1024 * 1024):
            sink.write(data)
            written += len(data)
    return written
