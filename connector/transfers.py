"""Streaming uploads: one PutObject for small content, s3transfer's multipart for the rest."""

from __future__ import annotations

import io
import os
from typing import Any, BinaryIO

from boto3.s3.transfer import TransferConfig

PART_SIZE = 8 * 1024 * 1024
TRANSFER_CONFIG = TransferConfig(
    multipart_threshold=PART_SIZE,
    multipart_chunksize=PART_SIZE,
    max_concurrency=8,
    use_threads=True,
)
TRANSFER_CONFIG.max_in_memory_upload_chunks = 4
"""Parts of a stream are held in memory while they upload: at most 4 x 8 MiB. A file is
uploaded by name, so s3transfer reads each part from disk as it sends it."""

Body = bytes | BinaryIO | os.PathLike


class _Prefixed(io.RawIOBase):
    """A non-seekable stream: bytes already read, then the rest of the source stream."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head.nbytes:
            count = min(len(buffer), self._head.nbytes)
            buffer[:count] = self._head[:count]
            self._head = self._head[count:] if count < self._head.nbytes else memoryview(b"")
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _seekable(stream: BinaryIO) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, ValueError):
        return False


def _read_up_to(stream: BinaryIO, count: int) -> bytes:
    """Read `count` bytes, or up to the end, however short the stream's reads are."""
    chunks = []
    while count > 0:
        chunk = stream.read(count)
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def prepare_body(stream: BinaryIO, size: int | None, path: os.PathLike | None = None) -> Body:
    """Small content as bytes (read at most one part); larger content as its file path when it
    has one, else as a stream."""
    if path is not None and size is not None and size > PART_SIZE:
        return path
    if size is not None and size > PART_SIZE and _seekable(stream):
        return stream
    head = _read_up_to(stream, PART_SIZE + 1)
    if len(head) <= PART_SIZE:
        return head
    return io.BufferedReader(_Prefixed(head, stream), buffer_size=1024 * 1024)


def etag(value: str | None) -> str | None:
    return value.strip('"') if value else value


def upload(client: Any, body: Body, bucket: str, key: str, extra: dict[str, Any]) -> dict[str, Any]:
    """Upload `body`; return the stored object's etag, version_id and size."""
    if isinstance(body, bytes):
        response = client.put_object(Bucket=bucket, Key=key, Body=body, **extra)
        return {
            "etag": etag(response.get("ETag")),
            "version_id": response.get("VersionId"),
            "size": len(body),
        }
    if isinstance(body, os.PathLike):
        client.upload_file(os.fspath(body), bucket, key, ExtraArgs=extra, Config=TRANSFER_CONFIG)
    else:
        client.upload_fileobj(body, bucket, key, ExtraArgs=extra, Config=TRANSFER_CONFIG)
    sse = {name: value for name, value in extra.items() if name.startswith("SSECustomer")}
    head = client.head_object(Bucket=bucket, Key=key, **sse)
    return {
        "etag": etag(head.get("ETag")),
        "version_id": head.get("VersionId"),
        "size": head.get("ContentLength"),
    }
