"""Uploads with checksums and no orphans: one PutObject for small content, a multipart
upload for the rest.

Every request carries a checksum of its body (CRC32C unless the connection says otherwise),
so S3 refuses a body corrupted on the way. A multipart upload of a CRC algorithm also
declares the full object's checksum when it completes. A multipart upload that fails or is
interrupted is aborted; an upload that a retried CreateMultipartUpload may have started
twice is looked for and aborted too.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from . import cancellation, progress
from .cancellation import check_cancelled
from .documents import read_up_to
from .errors import NotFound, translate
from .integrity import HASHERS, checksum_of, encode

PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000
PARTS_IN_FLIGHT = 4
"""Parts uploading at once; each is held in memory while it uploads (4 x 8 MiB)."""
ABORT_ATTEMPTS = 3
FULL_OBJECT_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME")
"""Algorithms whose checksum S3 combines into a full-object checksum of a multipart upload."""
_ORPHAN_WINDOW = timedelta(minutes=10)

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


def prepare_body(stream: BinaryIO, size: int | None, path: os.PathLike | None = None) -> Body:
    """Small content as bytes (read at most one part); larger content as its file path when it
    has one, else as a stream."""
    if path is not None and size is not None and size > PART_SIZE:
        return path
    head = read_up_to(stream, PART_SIZE + 1)
    if len(head) <= PART_SIZE:
        return head
    return io.BufferedReader(_Prefixed(head, stream), buffer_size=1024 * 1024)


def etag(value: str | None) -> str | None:
    return value.strip('"') if value else value


def checksum_params(algorithm: str, data: bytes | memoryview) -> dict[str, str]:
    """The request parameter that carries `data`'s checksum: Content-MD5 for MD5."""
    if algorithm == "MD5":
        return {"ContentMD5": checksum_of("MD5", data)}
    return {f"Checksum{algorithm}": checksum_of(algorithm, data)}


def upload(
    client: Any, body: Body, bucket: str, key: str, extra: dict[str, Any], algorithm: str
) -> dict[str, Any]:
    """Upload `body` with checksums of `algorithm`; return the stored object's etag,
    version_id and size."""
    if isinstance(body, bytes):
        progress.meter().expect(len(body))
        response = client.put_object(
            Bucket=bucket, Key=key, Body=body, **extra, **checksum_params(algorithm, body)
        )
        progress.meter().advance(len(body))
        return {
            "etag": etag(response.get("ETag")),
            "version_id": response.get("VersionId"),
            "size": len(body),
        }
    if isinstance(body, os.PathLike):
        size = os.stat(body).st_size
        progress.meter().expect(size)
        with open(body, "rb") as stream:
            return MultipartUpload(client, bucket, key, extra, algorithm).run(stream, size)
    return MultipartUpload(client, bucket, key, extra, algorithm).run(body, None)


def part_size_for(size: int | None) -> int:
    """The part size: 8 MiB, or more for a file that would need over 10,000 parts."""
    if size is None:
        return PART_SIZE
    return max(PART_SIZE, -(-size // MAX_PARTS))


@dataclass
class MultipartUpload:
    """One multipart upload: parts read in order and sent `PARTS_IN_FLIGHT` at a time;
    aborted on any failure or interruption."""

    client: Any
    bucket: str
    key: str
    extra: dict[str, Any]
    algorithm: str
    upload_id: str | None = None
    _parts: dict[int, dict[str, Any]] = field(default_factory=dict)

    def run(self, stream: BinaryIO, size: int | None) -> dict[str, Any]:
        target = f"s3://{self.bucket}/{self.key}"
        try:
            self._create()
            total, whole = self._send_parts(stream, part_size_for(size))
            response = self._complete(whole)
        except BaseException as exc:
            self._abort()
            if isinstance(exc, ClientError | BotoCoreError):
                raise translate(exc, operation="multipart upload", target=target) from None
            raise
        return {
            "etag": etag(response.get("ETag")),
            "version_id": response.get("VersionId"),
            "size": total,
        }

    def _create(self) -> None:
        check_cancelled()
        request = {"Bucket": self.bucket, "Key": self.key, **self.extra}
        if self.algorithm != "MD5":
            request["ChecksumAlgorithm"] = self.algorithm
        if self.algorithm in FULL_OBJECT_ALGORITHMS:
            request["ChecksumType"] = "FULL_OBJECT"
        response = self.client.create_multipart_upload(**request)
        self.upload_id = response["UploadId"]
        if response.get("ResponseMetadata", {}).get("RetryAttempts", 0):
            self._abort_twins()

    def _chunks(self, stream: BinaryIO, part_size: int) -> Iterator[bytes]:
        while True:
            check_cancelled()
            data = read_up_to(stream, part_size)
            if not data:
                return
            yield data
            if len(data) < part_size:
                return

    def _send_parts(self, stream: BinaryIO, part_size: int) -> tuple[int, Any]:
        """Upload every part; return the total size and the full-object hasher."""
        whole = HASHERS[self.algorithm]() if self.algorithm in FULL_OBJECT_ALGORITHMS else None
        total = 0
        number = 0
        pending: set[Future[None]] = set()
        with ThreadPoolExecutor(PARTS_IN_FLIGHT, thread_name_prefix="s3c-part") as pool:
            try:
                for number, data in enumerate(self._chunks(stream, part_size), 1):
                    if number > MAX_PARTS:
                        raise ValueError(f"the content needs more than {MAX_PARTS} parts")
                    total += len(data)
                    if whole is not None:
                        whole.update(data)
                    if len(pending) >= PARTS_IN_FLIGHT:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            future.result()
                    pending.add(cancellation.submit(pool, self._send_part, number, data))
                if number == 0:
                    pending.add(cancellation.submit(pool, self._send_part, 1, b""))
                for future in pending:
                    future.result()
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        return total, whole

    def _send_part(self, number: int, data: bytes) -> None:
        check_cancelled()
        checksum = checksum_params(self.algorithm, data)
        response = self.client.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=data,
            **_sse(self.extra),
            **checksum,
        )
        progress.meter().advance(len(data))
        part = {"PartNumber": number, "ETag": response["ETag"]}
        part.update({name: value for name, value in checksum.items() if name != "ContentMD5"})
        self._parts[number] = part

    def _complete(self, whole: Any) -> dict[str, Any]:
        check_cancelled()
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "UploadId": self.upload_id,
            "MultipartUpload": {"Parts": [self._parts[n] for n in sorted(self._parts)]},
            **_sse(self.extra),
        }
        if whole is not None:
            request[f"Checksum{self.algorithm}"] = encode(self.algorithm, whole.digest())
            request["ChecksumType"] = "FULL_OBJECT"
        try:
            response = self.client.complete_multipart_upload(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                raise
            response = self._completed_already(request)
        self.upload_id = None
        return response

    def _completed_already(self, request: dict[str, Any]) -> dict[str, Any]:
        """A retried CompleteMultipartUpload whose first attempt did complete answers
        NoSuchUpload: the object is taken as ours only when its checksum is the one sent."""
        name = f"Checksum{self.algorithm}"
        head = self.client.head_object(
            Bucket=self.bucket, Key=self.key, ChecksumMode="ENABLED", **_sse(self.extra)
        )
        if name in request and head.get(name) == request[name]:
            return head
        raise NotFound(
            f"CompleteMultipartUpload s3://{self.bucket}/{self.key} failed: the upload is gone "
            "and the object there is not the one uploaded"
        )

    def _abort(self) -> None:
        """Abort the upload, retrying; S3 keeps no part of it (NoSuchUpload means done)."""
        if self.upload_id is None:
            return
        for attempt in range(ABORT_ATTEMPTS):
            try:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
                )
                break
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                    break
            except BotoCoreError:
                pass
            time.sleep(0.2 * (attempt + 1))
        self.upload_id = None

    def _abort_twins(self) -> None:
        """After a retried CreateMultipartUpload, abort the uploads of this key that the
        lost earlier attempts started: those S3 says began within minutes of this one."""
        try:
            listing = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=self.key)
        except (ClientError, BotoCoreError):
            return
        uploads = [item for item in listing.get("Uploads", []) if item.get("Key") == self.key]
        mine = next((item for item in uploads if item["UploadId"] == self.upload_id), None)
        if mine is None or mine.get("Initiated") is None:
            return
        for item in uploads:
            started = item.get("Initiated")
            if item is mine or started is None or abs(started - mine["Initiated"]) > _ORPHAN_WINDOW:
                continue
            twin = MultipartUpload(self.client, self.bucket, self.key, {}, self.algorithm)
            twin.upload_id = item["UploadId"]
            twin._abort()


def _sse(extra: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in extra.items() if name.startswith("SSECustomer")}
