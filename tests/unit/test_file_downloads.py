"""A body that downloads into a file itself (CRT's `RangedBody.download`): what the reader
hands over is still counted and verified, and a broken transfer falls back to the stream."""

from __future__ import annotations

import base64
import os
import tempfile

import pytest
from awscrt import checksums

from s3_connector.connector.downloads import ObjectReader
from s3_connector.connector.errors import IntegrityError
from s3_connector.connector.integrity import Expected

DATA = os.urandom(3 * 1024 * 1024 + 17)
CRC32C = base64.b64encode(checksums.crc32c(DATA).to_bytes(4, "big")).decode()


class DownloadingBody:
    """Writes `written` to the path it is given, as CRT does (reopening the path), or raises
    `error` after writing part of it; serves `DATA` as a stream otherwise."""

    def __init__(self, written: bytes = DATA, error: Exception | None = None):
        self.written = written
        self.error = error
        self.downloads: list[str] = []
        self.streamed = 0

    def download(self, path: str) -> None:
        self.downloads.append(path)
        with open(path, "wb") as file:
            file.write(self.written if self.error is None else self.written[:1000])
        if self.error is not None:
            raise self.error

    def read(self, amount: int = -1) -> bytes:
        chunk = DATA[self.streamed : self.streamed + (amount if amount > 0 else len(DATA))]
        self.streamed += len(chunk)
        return chunk

    def close(self) -> None:
        pass


def reader(body: DownloadingBody) -> ObjectReader:
    return ObjectReader(
        {"Body": body, "ContentLength": len(DATA), "ETag": '"e"'},
        refetch=lambda first, last: pytest.fail("no resume expected"),
        expected=Expected("CRC32C", CRC32C, None),
        attempts=3,
        target="s3://b/k",
    )


def copy_into_temporary(body: DownloadingBody) -> tuple[ObjectReader, bytes, int]:
    verified = reader(body)
    with tempfile.TemporaryFile() as sink:
        written = verified.copy_to(sink)
        position = sink.tell()
        sink.seek(0)
        return verified, sink.read(), written if written == position else -1


def test_the_body_downloads_into_the_open_file_and_the_reader_verifies_it():
    body = DownloadingBody()
    verified, content, written = copy_into_temporary(body)
    assert len(body.downloads) == 1 and body.downloads[0].startswith("/proc/self/fd/")
    assert body.streamed == 0
    assert content == DATA and written == len(DATA)
    assert verified.position == len(DATA)


def test_wrong_bytes_written_by_the_download_are_an_integrity_error():
    damaged = bytearray(DATA)
    damaged[123_456] ^= 0x01
    with pytest.raises(IntegrityError, match="CRC32C"):
        copy_into_temporary(DownloadingBody(bytes(damaged)))


def test_a_short_download_is_an_integrity_error():
    with pytest.raises(IntegrityError, match="bytes arrived"):
        copy_into_temporary(DownloadingBody(DATA[:-1]))


def test_a_longer_download_is_an_integrity_error():
    with pytest.raises(IntegrityError, match="bytes arrived"):
        copy_into_temporary(DownloadingBody(DATA + b"x"))


def test_a_broken_download_is_emptied_and_the_content_streamed_instead():
    body = DownloadingBody(error=ConnectionError("reset"))
    _, content, written = copy_into_temporary(body)
    assert len(body.downloads) == 1
    assert body.streamed == len(DATA)
    assert content == DATA and written == len(DATA)


def test_a_file_that_is_not_empty_is_streamed_into():
    body = DownloadingBody()
    verified = reader(body)
    with tempfile.TemporaryFile() as sink:
        sink.write(b"head")
        verified.copy_to(sink)
        sink.seek(0)
        assert sink.read() == b"head" + DATA
    assert body.downloads == [] and body.streamed == len(DATA)
