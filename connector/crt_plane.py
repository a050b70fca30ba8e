"""The data plane on the AWS Common Runtime: one `CrtTransport` per region, owned by the
connection like its boto3 clients, signing with the settings' keys or the connection's boto3
credentials. Region detection and the cleanup of a failed upload's twins are CRT requests too,
so a transfer with keys in the settings never imports boto3.

- Puts go to CRT whole: one PutObject, or a multipart upload of `PART_SIZE` parts that CRT
  aborts itself on failure or cancellation. Every request carries the connection's checksum.
- Gets start with a HeadObject (size, ETag, the declared checksum), then read the content as
  ranged GETs pinned to that ETag, a bounded window of them in flight (`RangedBody`); the
  connector's `ObjectReader` counts and verifies the bytes and resumes a broken read.
- Listing pages are raw ListObjectsV2 XML, parsed by `listing_pages`.
"""

from __future__ import annotations

import email.utils
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO

from . import progress
from .cancellation import Sent, check_cancelled
from .crt_transport import PART_SIZE, CrtError, CrtRequestError, CrtTransport, Pending
from .downloads import ObjectReader, open_verified
from .errors import (
    Cancelled,
    Conflict,
    ConnectorError,
    InvalidInput,
    raise_if_transient,
)
from .listing_pages import (
    ListingPage,
    parse_location,
    parse_multipart_uploads,
    parse_object_parts,
)
from .regions import WrongRegion
from .uploads import Body, etag

if TYPE_CHECKING:
    from .connection import Connection

_POLL_SECONDS = 0.2
TRANSFERS_AT_ONCE = 2
"""Multipart uploads (files and streams over one part) run at once in one connection, each
holding up to `crt_transport.TRANSFER_CONNECTIONS` x 4 part buffers."""
RANGES_IN_FLIGHT = 4
"""Ranged GETs of `PART_SIZE` a streamed read keeps in flight: 32 MiB of buffers at most
(and as much in CRT's pool). More was no faster on loopback."""

_SSE_HEADERS = {
    "SSECustomerAlgorithm": "x-amz-server-side-encryption-customer-algorithm",
    "SSECustomerKey": "x-amz-server-side-encryption-customer-key",
    "SSECustomerKeyMD5": "x-amz-server-side-encryption-customer-key-MD5",
}
_RESPONSE_HEADERS = {
    "content-length": "ContentLength",
    "content-type": "ContentType",
    "etag": "ETag",
    "x-amz-version-id": "VersionId",
    "x-amz-checksum-crc32": "ChecksumCRC32",
    "x-amz-checksum-crc32c": "ChecksumCRC32C",
    "x-amz-checksum-crc64nvme": "ChecksumCRC64NVME",
    "x-amz-checksum-sha1": "ChecksumSHA1",
    "x-amz-checksum-sha256": "ChecksumSHA256",
    "x-amz-checksum-type": "ChecksumType",
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-server-side-encryption-customer-algorithm": "SSECustomerAlgorithm",
    "x-amz-storage-class": "StorageClass",
    "cache-control": "CacheControl",
    "content-encoding": "ContentEncoding",
    "content-disposition": "ContentDisposition",
    "content-language": "ContentLanguage",
}
_LIST_PARAMETERS = {
    "Prefix": "prefix",
    "Delimiter": "delimiter",
    "StartAfter": "start-after",
    "ContinuationToken": "continuation-token",
    "MaxKeys": "max-keys",
    "FetchOwner": "fetch-owner",
}
_REDIRECT_STATUSES = (301, 307, 400)


class CrtPlane:
    """The data plane on awscrt (see the module)."""

    name = "crt"
    documents_in_flight = 64
    """CRT's requests cost the GIL little: a target activity keeps this many documents in
    flight."""

    def __init__(self, connection: Connection):
        self._connection = connection
        self._transports: dict[str, CrtTransport] = {}
        self._lock = threading.Lock()
        self._credentials: Any = None
        self._transfers = threading.BoundedSemaphore(TRANSFERS_AT_ONCE)

    # -- the three jobs --

    def put_object(
        self,
        bucket: str,
        key: str,
        body: Body,
        extra: dict[str, Any],
        *,
        region: str,
        create_only: bool,
    ) -> dict[str, Any]:
        if isinstance(body, bytes | bytearray):
            return self.begin_put_object(
                bucket, key, body, extra, region=region, create_only=create_only
            ).result()
        headers = _put_headers(extra, create_only)
        counted = body if isinstance(body, os.PathLike) else _Counting(body)
        report = progress.meter()
        if isinstance(body, os.PathLike):
            report.expect(os.stat(body).st_size)
        transport = self._transport(region)
        started = datetime.now(UTC)
        try:
            with self._transfers:
                response = _result(
                    transport.begin_put_object(
                        bucket,
                        key,
                        counted,
                        None,
                        headers,
                        checksum_algorithm=self._connection.checksum_algorithm,
                        on_progress=report.advance if isinstance(body, os.PathLike) else None,
                    ),
                    region,
                )
        finally:
            self._abort_twins(bucket, key, region, started)
        return _stored(
            response, counted.count if isinstance(counted, _Counting) else os.stat(body).st_size
        )

    def begin_put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | bytearray,
        extra: dict[str, Any],
        *,
        region: str,
        create_only: bool,
    ) -> Sent[dict[str, Any]]:
        """`put_object` of content of at most one part (one PutObject), sent now, waited for
        by its `result()`. Nothing here waits, so one thread keeps many in flight."""
        report = progress.meter()
        report.expect(len(body))
        pending = self._transport(region).begin_put_object(
            bucket,
            key,
            body,
            None,
            _put_headers(extra, create_only),
            checksum_algorithm=self._connection.checksum_algorithm,
        )
        return _StartedPut(pending, region, len(body), report)

    def get_object(
        self, bucket: str, request: dict[str, Any], *, region: str, target: str
    ) -> tuple[dict[str, Any], ObjectReader]:
        transport = self._transport(region)
        key = request["Key"]
        sse = {_SSE_HEADERS[name]: request[name] for name in _SSE_HEADERS if request.get(name)}
        query = {"versionId": request["VersionId"]} if request.get("VersionId") else None
        head_headers = {**sse, "x-amz-checksum-mode": "ENABLED"}
        if request.get("IfMatch"):
            head_headers["If-Match"] = request["IfMatch"]
        _, headers, _ = _call(
            lambda: _head_or_explained(transport, bucket, key, query, head_headers), region
        )
        response = _botocore_response(headers)
        size = int(response.get("ContentLength") or 0)
        first, last = 0, size - 1
        if request.get("Range"):
            first, last = _resolve_range(request["Range"], size, target)
            response["ContentLength"] = last - first + 1
            response["ContentRange"] = f"bytes {first}-{last}/{size}"
        pinned = dict(sse)
        if response.get("ETag"):
            pinned["If-Match"] = response["ETag"]
        version = response.get("VersionId")
        pinned_query = {"versionId": version} if version and version != "null" else query
        timeout = float(self._connection.settings.get("read_timeout") or 60)

        def body(start: int, end: int) -> RangedBody:
            return RangedBody(
                transport, bucket, key, pinned, pinned_query, start, end, stall_timeout=timeout
            )

        response["Body"] = body(first, last)

        def refetch(start: int, end: int) -> dict[str, Any]:
            return {
                **response,
                "ContentRange": f"bytes {start}-{end}/{size}",
                "ContentLength": end - start + 1,
                "Body": body(start, end),
            }

        boto_request = {
            "Bucket": bucket,
            **{name: value for name, value in request.items() if name != "IfMatch"},
        }

        def parts_sizes_page(marker: int) -> dict[str, Any]:
            attributes = {
                **sse,
                "x-amz-object-attributes": "ObjectParts",
                "x-amz-max-parts": "1000",
                "x-amz-part-number-marker": str(marker),
            }
            try:
                _, _, body = transport.request(
                    "GET",
                    bucket,
                    key,
                    {"attributes": "", **(pinned_query or {})},
                    attributes,
                    operation="GetObjectAttributes",
                )
            except CrtError as exc:
                raise exc.to_connector_error("GetObjectAttributes", target) from None
            return parse_object_parts(body)

        try:
            reader = open_verified(
                self._connection,
                bucket,
                region,
                boto_request,
                response,
                target=target,
                refetch=refetch,
                parts_sizes_page=parts_sizes_page,
            )
        except BaseException:
            response["Body"].close()
            raise
        return response, reader

    def list_page(self, request: dict[str, Any], *, region: str) -> dict[str, Any]:
        query = {"list-type": "2", "encoding-type": "url"}
        for name, parameter in _LIST_PARAMETERS.items():
            value = request.get(name)
            if value is not None and value != "":
                query[parameter] = str(value).lower() if isinstance(value, bool) else str(value)
        transport = self._transport(region)
        _, _, body = _call(
            lambda: transport.request(
                "GET", request["Bucket"], None, query, operation="ListObjectsV2"
            ),
            region,
        )
        target = f"s3://{request['Bucket']}/{request.get('Prefix') or ''}"
        return ListingPage(body, lambda exc: exc.to_connector_error("ListObjectsV2", target))

    def bucket_region(self, bucket: str) -> str | None:
        transport = self._transport(self._connection.default_region)
        try:
            _, headers, _ = transport.request("HEAD", bucket, None, operation="HeadBucket")
        except CrtRequestError as exc:
            raise_if_transient(exc.to_connector_error("HeadBucket", bucket))
            headers = exc.headers
        except CrtError as exc:
            raise exc.to_connector_error("HeadBucket", bucket) from None
        if headers.get("x-amz-bucket-region"):
            return headers["x-amz-bucket-region"]
        try:
            _, _, body = transport.request(
                "GET", bucket, None, {"location": ""}, operation="GetBucketLocation"
            )
        except CrtRequestError as exc:
            raise_if_transient(exc.to_connector_error("GetBucketLocation", bucket))
            return None
        except CrtError as exc:
            raise exc.to_connector_error("GetBucketLocation", bucket) from None
        try:
            return parse_location(body)
        except ConnectorError:
            return None

    def _abort_twins(self, bucket: str, key: str, region: str, started: datetime) -> None:
        """Abort the uploads of `key` begun since this put started. CRT aborts the upload it
        knows of when it fails, but when an answer to CreateMultipartUpload is lost and CRT
        retries it, the upload the lost answer named is left open (a twin); and a completed
        upload is no longer listed. Best effort: a failure here never hides the put's own
        outcome. (A concurrent writer of the same key would lose its upload too.)"""
        since = started - TWIN_CLOCK_SKEW
        transport = self._transport(region)
        query = {"uploads": "", "prefix": key, "encoding-type": "url"}
        try:
            _, _, body = transport.request(
                "GET", bucket, None, query, operation="ListMultipartUploads"
            )
            for upload in parse_multipart_uploads(body):
                initiated = upload.get("Initiated")
                if upload["Key"] == key and initiated is not None and initiated >= since:
                    transport.request(
                        "DELETE",
                        bucket,
                        key,
                        {"uploadId": upload["UploadId"]},
                        operation="AbortMultipartUpload",
                    )
        except Exception:
            return

    # -- the transports --

    def _transport(self, region: str) -> CrtTransport:
        transport = self._transports.get(region)
        if transport is not None:
            return transport
        credentials = self._frozen_credentials()
        resolved = self._connection.resolved  # the settings, else botocore's config chain
        with self._lock:
            transport = self._transports.get(region)
            if transport is None:
                settings = self._connection.settings
                transport = CrtTransport(
                    credentials,
                    region,
                    resolved.endpoint_url,
                    resolved.addressing_style,
                    resolved.verify_tls,
                    resolved.ca_bundle,
                    resolved.max_attempts,
                    retry_mode=resolved.retry_mode,
                    connect_timeout=settings["connect_timeout"],
                    read_timeout=settings["read_timeout"],
                )
                self._transports[region] = transport
        return transport

    def _frozen_credentials(self) -> Callable[[], Any]:
        """The settings' own keys when `auth` is access_keys; else the connection's boto3
        credentials (the default chain, profiles, processes, assume-role), refreshed by
        botocore as CRT signs each request."""
        keys = self._connection.static_keys()
        if keys is not None:
            return lambda: keys
        if self._credentials is None:
            self._credentials = self._connection.credentials()
        credentials = self._credentials
        return credentials.get_frozen_credentials

    def close(self) -> None:
        with self._lock:
            transports, self._transports = list(self._transports.values()), {}
        for transport in transports:
            transport.close()


class _StartedPut:
    """A PutObject in flight (see `CrtPlane.begin_put_object`)."""

    def __init__(self, pending: Pending, region: str, size: int, report: progress.Meter):
        self._pending, self._region, self._size, self._report = pending, region, size, report

    def result(self) -> dict[str, Any]:
        response = _result(self._pending, self._region)
        self._report.advance(self._size)
        return _stored(response, self._size)

    def cancel(self) -> None:
        self._pending.cancel()

    def when_done(self, callback: Callable[[], None]) -> None:
        self._pending.add_done_callback(callback)


TWIN_CLOCK_SKEW = timedelta(minutes=5)
"""How far the server's clock may lag ours when twin uploads are told by their start."""


class RangedBody:
    """Bytes `first`..`last` of an object as ranged GETs of `PART_SIZE`, up to
    `RANGES_IN_FLIGHT` of them at once, read in order. A range that fails, comes back short
    or makes no progress for `stall_timeout` seconds raises `ConnectionError`, which the
    `ObjectReader` resumes from the byte reached; a changed object (412) is a `Conflict`."""

    def __init__(
        self,
        transport: CrtTransport,
        bucket: str,
        key: str,
        headers: Mapping[str, str],
        query: Mapping[str, str] | None,
        first: int,
        last: int,
        *,
        stall_timeout: float,
        part_size: int = PART_SIZE,
        window: int = RANGES_IN_FLIGHT,
    ):
        self._transport = transport
        self._bucket = bucket
        self._key = key
        self._headers = dict(headers)
        self._query = query
        self._stall_timeout = stall_timeout
        self._window = window
        self._next = first
        self._last = last
        self._part_size = part_size
        self._in_flight: deque[_Range] = deque()
        self._chunks: deque[bytes] = deque()
        self._current = memoryview(b"")
        self._closed = False

    def read(self, amount: int = -1) -> memoryview | bytes:
        """Up to `amount` bytes, as a view of what CRT delivered (no copy is made)."""
        if self._closed:
            raise ValueError("read of a closed body")
        while not self._current.nbytes:
            if self._chunks:
                self._current = memoryview(self._chunks.popleft())
                continue
            self._fill()
            if not self._in_flight:
                return b""
            part = self._in_flight.popleft()
            self._chunks.extend(part.wait(self._stall_timeout))
            self._fill()
        count = self._current.nbytes if amount is None or amount < 0 else amount
        chunk, self._current = self._current[:count], self._current[count:]
        return chunk

    def download(self, path: str) -> None:
        """Write all of the bytes to `path` in one CRT transfer (ranged GETs whose bodies are
        written at their offsets as they arrive), before any `read`. Raises as a range does:
        `ConnectionError` when the transfer breaks or stalls (the file is then partial),
        `Conflict` on a changed object."""
        if self._in_flight or self._closed:
            raise ValueError("download of a body already read")
        transfer = _Range(self._last - self._next + 1, counted=False)
        headers = {**self._headers, "Range": f"bytes={self._next}-{self._last}"}
        transfer.start(
            lambda headers, _sink: self._transport.begin_download(
                self._bucket,
                self._key,
                headers,
                path,
                version_id=(self._query or {}).get("versionId"),
                on_progress=transfer.progressed_and_reported,
            ),
            headers,
        )
        transfer.wait(self._stall_timeout)
        self._next = self._last + 1

    def _fill(self) -> None:
        while len(self._in_flight) < self._window and self._next <= self._last:
            end = min(self._last, self._next + self._part_size - 1)
            part = _Range(end - self._next + 1)
            part.start(self._begin, {**self._headers, "Range": f"bytes={self._next}-{end}"})
            self._in_flight.append(part)
            self._next = end + 1

    def _begin(self, headers: dict[str, str], sink: Callable[[bytes, int], None]) -> Pending:
        return self._transport.begin_get_object(
            self._bucket,
            self._key,
            headers,
            sink,
            version_id=(self._query or {}).get("versionId"),
            validate_checksum=False,
        )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for part in self._in_flight:
            part.cancel()
        self._in_flight.clear()
        self._chunks.clear()
        self._current = memoryview(b"")


class _Range:
    """One ranged GET in flight and the bytes it has brought."""

    def __init__(self, size: int, *, counted: bool = True):
        self.size = size
        self._counted = counted
        self._chunks: list[bytes] = []
        self._progress = time.monotonic()
        self._finished = threading.Event()
        self._pending: Pending | None = None

    def start(
        self, begin: Callable[[dict[str, str], Callable[[bytes, int], None]], Pending], headers
    ) -> None:
        self._pending = begin(headers, self._on_body)
        self._pending.add_done_callback(self._finished.set)

    def _on_body(self, chunk: bytes, _offset: int) -> None:
        self._chunks.append(chunk)
        self._progress = time.monotonic()

    def progressed_and_reported(self, count: int) -> None:
        self._progress = time.monotonic()
        progress.meter().advance(count)

    def wait(self, stall_timeout: float) -> list[bytes]:
        """The range's content, as CRT delivered it."""
        pending = self._pending
        assert pending is not None
        while not self._finished.wait(_POLL_SECONDS):
            try:
                check_cancelled()
            except Cancelled:
                pending.cancel()
                raise
            if time.monotonic() - self._progress > stall_timeout:
                pending.cancel()
                raise ConnectionError(f"no byte for {stall_timeout:g} s: the read stalled")
        try:
            pending.result()
        except CrtRequestError as exc:
            if exc.status == 412:
                raise Conflict(
                    "GetObject: the object changed while it was read; nothing was handed over",
                    request_id=exc.request_id,
                ) from None
            if exc.status is not None and exc.status < 500 and exc.status != 429:
                raise exc.to_connector_error("GetObject", "(ranged read)") from None
            raise ConnectionError(str(exc)) from None
        except ConnectorError:
            raise
        except Exception as exc:
            if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
                raise  # writing the body failed (a full disk...): a resumed read would too
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from None
        chunks, self._chunks = self._chunks, []
        received = sum(len(chunk) for chunk in chunks)
        if self._counted and received != self.size:
            raise ConnectionError(f"a ranged GET brought {received} of {self.size} bytes")
        return chunks

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()


class _Counting:
    """A stream that counts the bytes read from it, and reports them to the progress meter."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self.count = 0

    def readinto(self, buffer: Any) -> int:
        if hasattr(self._stream, "readinto"):
            count = self._stream.readinto(buffer) or 0
        else:
            data = self._stream.read(len(buffer))
            count = len(data)
            buffer[:count] = data
        self.count += count
        progress.meter().advance(count)
        return count

    def read(self, amount: int = -1) -> bytes:
        data = self._stream.read(amount)
        self.count += len(data)
        progress.meter().advance(len(data))
        return data


def _head_or_explained(
    transport: CrtTransport,
    bucket: str,
    key: str,
    query: Mapping[str, str] | None,
    headers: dict[str, str],
) -> tuple[int, Mapping[str, str], bytes]:
    """HeadObject. A refused HEAD has no body to say why (a bare 403, 400...): a one-byte GET
    with the same headers then fetches S3's error code and message, as a GetObject states
    them (AccessDenied, NoSuchKey, the SSE-C refusal...)."""
    try:
        return transport.request("HEAD", bucket, key, query, headers, operation="HeadObject")
    except CrtRequestError as refused:
        if refused.code != str(refused.status) or refused.status in _REDIRECT_STATUSES[:2]:
            raise
        probe = {name: value for name, value in headers.items() if name != "x-amz-checksum-mode"}
        try:
            transport.request(
                "GET", bucket, key, query, {**probe, "Range": "bytes=0-0"}, operation="GetObject"
            )
        except CrtRequestError as explained:
            if explained.status == refused.status:
                raise explained from None
        raise


def _stored(response: Mapping[str, str], size: int) -> dict[str, Any]:
    """What `put_object` returns, from PutObject's (or CompleteMultipartUpload's) headers."""
    return {
        "etag": etag(response.get("etag")),
        "version_id": response.get("x-amz-version-id"),
        "size": size,
    }


def _put_headers(extra: dict[str, Any], create_only: bool) -> dict[str, str]:
    headers: dict[str, str] = {"If-None-Match": "*"} if create_only else {}
    for name, value in extra.items():
        if name == "ContentType":
            headers["Content-Type"] = value
        elif name == "Metadata":
            headers.update({f"x-amz-meta-{item}": text for item, text in value.items()})
        elif name == "StorageClass":
            headers["x-amz-storage-class"] = value
        elif name in _SSE_HEADERS:
            headers[_SSE_HEADERS[name]] = value
        else:
            raise ValueError(f"the CRT plane does not send {name}")
    return headers


def _botocore_response(headers: Mapping[str, str]) -> dict[str, Any]:
    """Response headers as botocore names them (ContentLength an int, LastModified a
    datetime, Metadata from x-amz-meta-*)."""
    response: dict[str, Any] = {
        botocore_name: headers[name]
        for name, botocore_name in _RESPONSE_HEADERS.items()
        if name in headers
    }
    if "ContentLength" in response:
        response["ContentLength"] = int(response["ContentLength"])
    if headers.get("last-modified"):
        response["LastModified"] = email.utils.parsedate_to_datetime(headers["last-modified"])
    response["Metadata"] = {
        name[len("x-amz-meta-") :]: value
        for name, value in headers.items()
        if name.startswith("x-amz-meta-")
    }
    return response


def _resolve_range(text: str, size: int, target: str) -> tuple[int, int]:
    """The first and last byte of an HTTP byte range of an object of `size` bytes, as S3
    resolves it (InvalidRange when it starts past the end)."""
    first, _, last = text.strip().removeprefix("bytes=").partition("-")
    if not first:
        count = int(last)
        return max(0, size - count), size - 1
    start = int(first)
    end = min(size - 1, int(last)) if last else size - 1
    if start >= size:
        raise InvalidInput(
            f"GetObject {target} failed: InvalidRange (the range starts at byte {start} of "
            f"an object of {size} bytes)",
            field="range",
        )
    return start, end


def _call(request: Callable[[], Any], region: str) -> Any:
    try:
        return request()
    except CrtRequestError as exc:
        raise _redirect(exc, region) from None


def _result(pending: Pending, region: str) -> Any:
    try:
        return pending.result()
    except CrtRequestError as exc:
        raise _redirect(exc, region) from None


def _redirect(exc: CrtRequestError, region: str) -> Exception:
    """`WrongRegion` when S3 names another region for the bucket; else the error."""
    named = exc.headers.get("x-amz-bucket-region")
    if exc.status in _REDIRECT_STATUSES and named and named != region:
        return WrongRegion(named, exc)
    return exc
