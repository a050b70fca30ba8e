"""Verified, resumable object reads: the content of a GetObject as a stream that checks its
size and checksum and resumes where a broken body stopped.

A body that breaks mid-stream is resumed with a ranged GetObject from the byte reached,
pinned to the first response's ETag (`If-Match`) and version, so a changed object is never
spliced. The stream raises `IntegrityError` at its end when the bytes are not the ones S3
declared, so a caller that reads to the end never takes wrong content for right.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import re
import stat
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from . import progress
from .errors import (
    Conflict,
    ConnectorError,
    IntegrityError,
    PreconditionFailed,
    TransientFailure,
    network_errors,
)
from .file_writes import write_at
from .integrity import Expected, composite_parts, expected_digest

COPY_CHUNK = 8 * 1024 * 1024
FILE_WRITERS = 2
FILE_WRITES_IN_FLIGHT = 4
MAPPED_WINDOW = 32 * 1024 * 1024
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_BACKOFF_BASE = 0.05
_BACKOFF_MAX = 2.0


class ObjectReader(io.RawIOBase):
    """The content of one GetObject response, verified and resumable (see the module).

    `refetch(first, last)` sends the ranged, ETag-pinned GetObject for bytes first..last
    (inclusive) and returns its response. `attempts` is how many breaks in a row, without a
    byte of progress between them, are resumed before the read fails as transient."""

    def __init__(
        self,
        response: dict[str, Any],
        *,
        refetch: Callable[[int, int], dict[str, Any]],
        expected: Expected | None,
        attempts: int,
        target: str,
    ):
        super().__init__()
        self._body = response["Body"]
        self._refetch = refetch
        self._target = target
        self._attempts = max(1, attempts)
        self._first, self._last = _byte_span(response)
        self._size = self._last - self._first + 1
        self._read = 0
        self._digest = expected.digest() if expected is not None else None
        self._verified = False
        self.resumes = 0
        self.etag = response.get("ETag")
        progress.meter().expect(self._size)

    @property
    def size(self) -> int:
        return self._size

    @property
    def verification(self) -> str:
        """How the content is checked: the digest's method, or `size` alone."""
        return self._digest.expected.method if self._digest is not None else "size"

    def readable(self) -> bool:
        return True

    @property
    def position(self) -> int:
        """Bytes handed out so far."""
        return self._read

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._next_chunk(len(view))
        if chunk is None:
            return 0
        count = len(chunk)
        view[:count] = chunk
        return count

    def copy_to(self, sink: Any, chunk_size: int = COPY_CHUNK) -> int:
        """Write the rest of the content to `sink` as it arrives, without copying it through
        a buffer; return the bytes written. A regular file is written at its offsets by
        `FILE_WRITERS` threads (one thread writes half as fast on a 2-core machine). The last
        chunk is followed by the check, so a sink that is a temporary file must be dropped
        when this raises; every write has ended by then."""
        descriptor = _regular_file(sink)
        if descriptor is not None and self._downloaded_into(sink, descriptor):
            return self._size
        if descriptor is None:
            written = 0
            while (chunk := self._next_chunk(chunk_size)) is not None:
                sink.write(chunk)
                written += len(chunk)
            return written
        sink.flush()
        start = offset = sink.tell()
        writes: deque[Future[None]] = deque()
        with ThreadPoolExecutor(FILE_WRITERS, thread_name_prefix="s3c-write") as pool:
            try:
                while (chunk := self._next_chunk(chunk_size)) is not None:
                    writes.append(pool.submit(write_at, descriptor, chunk, offset))
                    offset += len(chunk)
                    while len(writes) > FILE_WRITES_IN_FLIGHT:
                        writes.popleft().result()
                while writes:
                    writes.popleft().result()
            finally:
                for write in writes:
                    write.cancel()
        sink.seek(offset)
        return offset - start

    def _downloaded_into(self, sink: Any, descriptor: int) -> bool:
        """Let a body that can write a file itself (CRT's) download the whole content into
        the empty file `sink`, then count and digest it from the file (written on CRT's
        threads as the parts arrive, so nothing is read before it has finished). False,
        with the file emptied again, when the body cannot or its transfer broke off: the
        caller then streams, resuming as usual."""
        download = getattr(self._body, "download", None)
        path = f"/proc/self/fd/{descriptor}"
        if (
            download is None
            or self._read
            or not self._size
            or sink.tell()
            or os.fstat(descriptor).st_size
            or not os.path.exists(path)
        ):
            return False
        sink.flush()
        try:
            download(path)
        except network_errors():
            progress.meter().advance(-os.fstat(descriptor).st_size)
            os.ftruncate(descriptor, 0)
            return False
        self._close_body()
        self._body = _Empty()
        reading = os.open(path, os.O_RDONLY)
        try:
            self._read = _digest_file(reading, self._digest)
        finally:
            os.close(reading)
        if self._read != self._size:
            raise IntegrityError(
                f"GetObject {self._target}: {self._read} bytes arrived, S3 declared {self._size}"
            )
        self._finish()
        sink.seek(self._size)
        return True

    def _next_chunk(self, limit: int) -> Any:
        """The next bytes of the content (at most `limit`), counted and digested; None at
        the end, once the content is verified."""
        if self._read >= self._size:
            self._finish()
            return None
        failures = 0
        while True:
            wanted = min(limit, self._size - self._read)
            try:
                chunk = self._body.read(wanted)
            except network_errors() as exc:
                chunk = None
                failure: BaseException | None = exc
            else:
                failure = None
            if chunk:
                self._read += len(chunk)
                progress.meter().advance(len(chunk))
                if self._digest is not None:
                    self._digest.update(chunk)
                if self._read >= self._size:
                    self._finish()
                return chunk
            failures += 1
            if failures > self._attempts:
                raise TransientFailure(
                    f"GetObject {self._target}: the body broke off at byte {self._read} of "
                    f"{self._size} and {self._attempts} resumes failed"
                    + (f" ({type(failure).__name__}: {failure})" if failure else "")
                )
            self._resume(failures)

    def _resume(self, failures: int) -> None:
        """Open the rest of the content from the byte reached."""
        self._close_body()
        if failures > 1:
            time.sleep(min(_BACKOFF_MAX, _BACKOFF_BASE * 2 ** (failures - 2)))
        self.resumes += 1
        try:
            response = self._refetch(self._first + self._read, self._last)
        except PreconditionFailed as exc:
            raise Conflict(
                f"GetObject {self._target}: the object changed while it was read "
                f"(at byte {self._read} of {self._size}); nothing was handed over",
                request_id=exc.request_id,
            ) from None
        except ConnectorError as exc:
            if isinstance(exc, TransientFailure):
                self._body = _Empty()
                return
            raise
        except network_errors():
            self._body = _Empty()
            return
        first, last = _byte_span(response)
        if first != self._first + self._read or last != self._last:
            raise IntegrityError(
                f"GetObject {self._target}: resuming at byte {self._first + self._read} "
                f"returned bytes {first}-{last}"
            )
        self._body = response["Body"]

    def _finish(self) -> None:
        """Check the digest once the last declared byte is read; a longer body is refused."""
        if self._verified:
            return
        try:
            extra = self._body.read(1)
        except network_errors():
            extra = b""
        if extra:
            raise IntegrityError(
                f"GetObject {self._target}: the body is longer than the {self._size} bytes "
                "S3 declared"
            )
        if self._digest is not None and not self._digest.matches():
            expected = self._digest.expected
            raise IntegrityError(
                f"GetObject {self._target}: the {expected.method} of the content read is "
                f"{self._digest.value()}, S3 declared {expected.value}"
            )
        self._verified = True

    def _close_body(self) -> None:
        with contextlib.suppress(Exception):
            self._body.close()

    def close(self) -> None:
        if not self.closed:
            self._close_body()
        super().close()


class _Empty:
    """A body that has broken off: reads nothing, so the reader resumes again."""

    def read(self, _amount: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        pass


def _regular_file(sink: Any) -> int | None:
    """The descriptor of `sink` when it is a regular file open for writing, else None."""
    try:
        descriptor = sink.fileno()
        return descriptor if stat.S_ISREG(os.fstat(descriptor).st_mode) else None
    except (AttributeError, OSError, ValueError):
        return None


def _digest_file(descriptor: int, digest: Any) -> int:
    """The size of the open file, its content fed to `digest` (if any) from a mapping of
    `MAPPED_WINDOW` bytes at a time: no copy, and no more of the file resident at once."""
    size = os.fstat(descriptor).st_size
    if digest is None:
        return size
    for offset in range(0, size, MAPPED_WINDOW):
        length = min(MAPPED_WINDOW, size - offset)
        with mmap.mmap(descriptor, length, access=mmap.ACCESS_READ, offset=offset) as window:
            window.madvise(mmap.MADV_SEQUENTIAL)
            view = memoryview(window)
            try:
                digest.update(view)
            finally:
                view.release()
    return size


def _byte_span(response: dict[str, Any]) -> tuple[int, int]:
    """The first and last byte (absolute, inclusive) a GetObject response carries."""
    content_range = response.get("ContentRange")
    if content_range:
        match = _CONTENT_RANGE.match(content_range)
        if match:
            return int(match[1]), int(match[2])
    length = response.get("ContentLength")
    if length is None:
        raise IntegrityError("GetObject: the response declares no Content-Length")
    return 0, int(length) - 1


def open_verified(
    connection: Any,
    bucket: str,
    region: str,
    request: dict[str, Any],
    response: dict[str, Any],
    *,
    target: str,
    refetch: Callable[[int, int], dict[str, Any]] | None = None,
    parts_sizes_page: Callable[[int], dict[str, Any]] | None = None,
) -> ObjectReader:
    """The verified, resumable stream of a GetObject `response` to `request` (made in
    `region`). A whole-object read is checked against the strongest digest S3 declared; a
    ranged read against its declared size. `refetch(first, last)` resumes a broken read, and
    `parts_sizes_page(marker)` gets a page of a multipart object's parts (see
    `object_part_sizes`); by default both are requests through boto3."""
    resume_request = {
        name: value for name, value in request.items() if name not in ("Range", "PartNumber")
    }
    resume_request["IfMatch"] = response.get("ETag")
    if response.get("VersionId") and response.get("VersionId") != "null":
        resume_request["VersionId"] = response["VersionId"]

    def call(operation: Callable[[Any], Any], name: str) -> Any:
        result, _ = connection.regions.call(bucket, region, operation, name=name, target=target)
        return result

    def refetch_with_boto3(first: int, last: int) -> dict[str, Any]:
        ranged = {**resume_request, "Range": f"bytes={first}-{last}"}
        return call(lambda client: client.get_object(**ranged), "GetObject")

    attributes = {name: request[name] for name in ATTRIBUTES_REQUEST if request.get(name)}

    def parts_page(marker: int) -> dict[str, Any]:
        response = call(
            lambda client: client.get_object_attributes(
                Bucket=bucket,
                ObjectAttributes=["ObjectParts"],
                MaxParts=1000,
                PartNumberMarker=marker,
                **attributes,
            ),
            "GetObjectAttributes",
        )
        return response.get("ObjectParts") or {}

    pinned = {"IfMatch": response["ETag"]} if response.get("ETag") else {}

    def head_part(number: int) -> int:
        found = call(
            lambda client: client.head_object(
                Bucket=bucket, PartNumber=number, **pinned, **attributes
            ),
            "HeadObject",
        )
        return int(found.get("ContentLength", -1))

    def part_sizes() -> list[int] | None:
        sizes = object_part_sizes(parts_sizes_page or parts_page)
        if sizes is None:
            total = int(response.get("ContentLength") or 0)
            sizes = part_sizes_by_head(composite_parts(response), head_part, total)
        return sizes

    expected = None
    if not request.get("Range") and not request.get("PartNumber"):
        expected = expected_digest(response, part_sizes)
    return ObjectReader(
        response,
        refetch=refetch or refetch_with_boto3,
        expected=expected,
        attempts=connection.max_attempts,
        target=target,
    )


def object_part_sizes(page: Callable[[int], dict[str, Any]]) -> list[int] | None:
    """The sizes of a multipart object's parts, from `page(part_number_marker)`: one
    GetObjectAttributes page of ObjectParts, shaped as botocore returns it; None when the
    server does not tell them."""
    sizes: list[int] = []
    marker = 0
    while True:
        try:
            parts = page(marker)
        except ConnectorError:
            return None
        sizes += [part["Size"] for part in parts.get("Parts") or [] if "Size" in part]
        if not parts.get("IsTruncated"):
            break
        marker = parts.get("NextPartNumberMarker") or 0
    return sizes or None


PART_HEADS_IN_FLIGHT = 16


def part_sizes_by_head(
    count: int | None, head: Callable[[int], int], total: int
) -> list[int] | None:
    """The sizes of a multipart object's `count` parts, from a HeadObject of each part
    (`head(part_number)`, which needs only the permission to read the object): how a
    composite digest is still verified when GetObjectAttributes is refused. None when a
    HeadObject fails or the sizes do not add up to the object's `total`."""
    if not count:
        return None
    try:
        with ThreadPoolExecutor(min(PART_HEADS_IN_FLIGHT, count)) as pool:
            sizes = list(pool.map(head, range(1, count + 1)))
    except ConnectorError:
        return None
    return sizes if sum(sizes) == total else None


ATTRIBUTES_REQUEST = (
    "Key",
    "VersionId",
    "SSECustomerAlgorithm",
    "SSECustomerKey",
    "SSECustomerKeyMD5",
)
"""What of a GetObject request its GetObjectAttributes carries."""
