"""The native data plane's transport: S3 requests on the AWS Common Runtime (`awscrt.s3`).

One `CrtTransport` owns one `awscrt.s3.S3Client` for one region, endpoint and addressing
style. Signing, HTTP, retries, part-splitting and checksums run in C, off the GIL; boto3 stays
the control plane. Requests are built by hand (`/bucket/key` or a bucket host name, and a
`Host` header), never through s3transfer's CRT manager, which sends virtual-host requests to
path-style endpoints.

What awscrt does, read in its source (aws-c-s3 and aws-crt-python) and checked on SeaweedFS:

- `put_object` over `part_size` is a multipart upload inside CRT. When it fails or is
  cancelled after CreateMultipartUpload, CRT waits for the parts in flight and sends
  AbortMultipartUpload itself (a failed CompleteMultipartUpload, such as an `If-None-Match: *`
  conflict, is aborted too); only a pause is left unaborted. `If-None-Match` goes on
  PutObject or CompleteMultipartUpload, not on the parts.
- Every upload request carries a CRC32C in a header, on a single PutObject and on each
  part alike. A multipart upload therefore stores a composite checksum
  (`value-N`); a caller that knows the full object's CRC32C passes it as an
  `x-amz-checksum-crc32c` header and CRT asks S3 to store it as a FULL_OBJECT checksum.
  CompleteMultipartUpload's checksum is not reported back (only its ETag).
- `get_object` is split into ranged GETs of `part_size`, pinned to the first part's ETag with
  `If-Match`. Parts may arrive in any order, but CRT queues them by part number and delivers
  them in order on one thread: the sink sees contiguous, increasing offsets, one call per part.
  With `validate_checksum`, CRT first sends a HeadObject, validates each part that carries a
  checksum and, where it can, the whole object; `Response.checksum_validated` says whether it
  did (not for a ranged read of a composite-checksum object).
- Retries: 5xx, 503/SlowDown, RequestTimeout and network failures are retried with
  exponential backoff (`S3RetryConfig`); other 4xx are not.
- Memory: CRT keeps up to 4 x connections requests in flight, each holding a part buffer, so
  buffering is about `4 * max_connections * part_size`; `memory_limit` only caps the pool
  (see `MEMORY_LIMIT`). With the defaults, a 512 MiB put from a file peaked at 121 MiB RSS
  and a get to a file at 130 to 170 MiB, in a process holding 56 MiB with boto3 loaded.
- A suffix range (`bytes=-N`) is resolved here with a HeadObject: CRT would send a ranged
  HeadObject and needs its Content-Range, which SeaweedFS does not send.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

from awscrt.auth import AwsCredentials, AwsCredentialsProvider
from awscrt.exceptions import AwsCrtError
from awscrt.http import HttpHeaders, HttpRequest
from awscrt.io import ClientBootstrap, ClientTlsContext, TlsContextOptions
from awscrt.s3 import (
    S3ChecksumAlgorithm,
    S3ChecksumConfig,
    S3ChecksumLocation,
    S3Client,
    S3RequestTlsMode,
    S3RequestType,
    S3ResponseError,
    S3RetryConfig,
    S3RetryMode,
    create_default_s3_signing_config,
)

from .cancellation import check_cancelled
from .documents import read_up_to
from .errors import (
    Cancelled,
    Conflict,
    ConnectorError,
    IntegrityError,
    Throttled,
    TransientFailure,
    kind_of_code,
)
from .file_writes import write_at

MiB = 1024 * 1024
PART_SIZE = 8 * MiB
"""Part size of multipart uploads and of the ranged GETs a download is split into."""
MEMORY_LIMIT = 256 * MiB
"""The CRT buffer pool's budget, the least awscrt 0.38 accepts (16 parts plus its 128 MiB
reserve). It bounds a download to a file: parts that arrive faster than the disk
takes them wait in the pool. With 1 GiB, downloads of 512 MiB to a busy disk peaked at 217
MiB of RSS; with 256 MiB at 154 MiB, no slower (2026-12-04, loopback, 12 runs)."""
MAX_CONNECTIONS = 64
"""Connections per client, for many small requests in flight (puts of small documents,
listing pages, ranged GETs of a streamed read)."""
TRANSFER_CONNECTIONS = 4
"""Connections of one request that CRT splits into parts (a multipart upload, a download
to a file). CRT keeps up to 4 part requests per connection in flight, each holding a part
buffer: 4 x 4 x 8 MiB = 128 MiB of buffers at most (its default, 10 Gbps, means 25
connections and 100 requests in flight)."""
DOWNLOAD_CONNECTIONS = 2
"""Connections of a download to a file (`begin_download`). CRT holds the parts that arrive
ahead of the one it delivers: a whole `s3c run get_object` of 512 MiB took 0.88 to 1.02 s
with 2, 4 or 8 (2026-12-04, loopback, 3 runs each), so 2, for the least memory."""
THROUGHPUT_TARGET_GBPS = 1.0
"""Below CRT's default of 10 Gbps; the connection cap above is what binds."""
CHECKSUM_ALGORITHMS = {
    "CRC32C": S3ChecksumAlgorithm.CRC32C,
    "CRC32": S3ChecksumAlgorithm.CRC32,
    "CRC64NVME": S3ChecksumAlgorithm.CRC64NVME,
    "SHA1": S3ChecksumAlgorithm.SHA1,
    "SHA256": S3ChecksumAlgorithm.SHA256,
}
_RETRY_MODES = {
    "standard": S3RetryMode.STANDARD,
    "adaptive": S3RetryMode.ADAPTIVE,
    "legacy": S3RetryMode.EXPONENTIAL_BACKOFF,
}
"""botocore's retry modes in CRT: standard (a retry token bucket), adaptive (client-side rate
limiting too), legacy (exponential backoff, no token bucket)."""
BACKOFF_SCALE_MS = 500
MAX_BACKOFF_SECONDS = 20
"""CRT's retry backoff (its defaults, set here so that `retry_backoff` knows them): before
retry n (from 0), a random wait of up to `min(MAX_BACKOFF_SECONDS, BACKOFF_SCALE_MS * 2**n)`."""
_IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE"})
_POLL_SECONDS = 0.2
_SUFFIX_RANGE = re.compile(r"^\s*bytes\s*=\s*-(\d+)\s*$")
_RANGE_START = re.compile(r"^\s*bytes\s*=\s*(\d+)\s*-")
_DNS_LABELS = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")

Credentials = Callable[[], tuple[str, str, str | None]]
"""Returns (access key id, secret access key, session token or None), or a longer tuple such
as botocore's `get_frozen_credentials()`. Called for every request signed."""
Body = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO
Sink = Callable[[bytes, int], None] | str | os.PathLike


class CrtError(Exception):
    """A request that awscrt failed; `name` is the awscrt error name (AWS_ERROR_...)."""

    def __init__(self, message: str, *, name: str | None = None):
        super().__init__(message)
        self.name = name

    @property
    def message(self) -> str:
        return self.args[0]

    def to_connector_error(self, operation: str, target: str) -> ConnectorError:
        """This failure in the connector's taxonomy (connector/errors.py)."""
        if self.name == "AWS_ERROR_S3_RESPONSE_CHECKSUM_MISMATCH":
            return IntegrityError(f"{operation} {target}: the content failed its checksum")
        if self.name == "AWS_ERROR_S3_OBJECT_MODIFIED":
            return Conflict(f"{operation} {target}: the object changed while it was read")
        kind = _KINDS_OF_NAMES.get(self.name or "", ConnectorError)
        suffix = " after retries" if issubclass(kind, TransientFailure) else ""
        return kind(f"{operation} {target} failed{suffix}: {self.name}: {self.message}")


_KINDS_OF_NAMES: dict[str, type[ConnectorError]] = {
    "AWS_ERROR_S3_SLOW_DOWN": Throttled,
    "AWS_ERROR_S3_INTERNAL_ERROR": TransientFailure,
    "AWS_ERROR_S3_REQUEST_TIME_TOO_SKEWED": TransientFailure,
    "AWS_ERROR_S3_REQUEST_TIMEOUT": TransientFailure,
    "AWS_ERROR_S3_CANCELED": Cancelled,
}
"""CRT's names for S3 failures it retried until its retries ran out (a failed part of a
multipart request is reported so, without S3's error body)."""


class CrtRequestError(CrtError):
    """S3 answered with an error. `code`, `message` and `request_id` come from the S3 XML
    error body; a response without one (HEAD) has the HTTP status as its code, like botocore.
    `operation` is the S3 operation that failed (CompleteMultipartUpload, UploadPart...)."""

    def __init__(
        self,
        status: int | None,
        code: str | None,
        message: str,
        request_id: str | None,
        headers: dict[str, str],
        *,
        operation: str | None = None,
        name: str | None = None,
    ):
        super().__init__(message, name=name)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.headers = headers
        self.operation = operation

    def __str__(self) -> str:
        text = f"{self.operation or 'request'} failed: {self.status} {self.code}"
        if self.message:
            text += f" ({self.message})"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def to_connector_error(self, operation: str, target: str) -> ConnectorError:
        code = self.code or (str(self.status) if self.status else "")
        text = f"{operation} {target} failed: {code}" + (
            f" ({self.message})" if self.message else ""
        )
        return kind_of_code(code, self.status)(text, request_id=self.request_id)


class CrtNetworkError(CrtError):
    """The network failed (refused, reset, DNS, TLS, timeouts) and CRT's retries ran out."""

    def __str__(self) -> str:
        text = f"{self.name}: {self.message}"
        if self.name == "AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE":
            text += TLS_HINT
        return text

    def to_connector_error(self, operation: str, target: str) -> ConnectorError:
        return TransientFailure(f"{operation} {target} failed after retries: {self}")


class CrtNoAnswer(CrtNetworkError):
    """A request given up for want of an answer (see `CrtTransport.request`)."""

    def __str__(self) -> str:
        return self.message

    def to_connector_error(self, operation: str, target: str) -> ConnectorError:
        return TransientFailure(f"{operation} {target} failed: {self.message} (read_timeout)")


TLS_HINT = (
    " (one cause: a certificate not signed by a trusted CA; the connection's ca_bundle names"
    " the CA to trust)"
)


class Response(dict):
    """Response headers, names in lower case; with the status and, for a download, whether
    CRT validated a checksum of the content and with which algorithm."""

    def __init__(self, headers: Mapping[str, str] = (), status: int | None = None):
        super().__init__(headers)
        self.status = status
        self.checksum_validated = False
        self.checksum_algorithm: str | None = None


class Pending:
    """A request in flight. `result()` waits for it (checking the process's cancellation),
    cancels it when the wait is interrupted or when it has no answer `answer_within` seconds
    after it started (`CrtNoAnswer`), and raises the transport's errors."""

    def __init__(
        self,
        request: Any,
        done: Future,
        finish: Callable[[], Any],
        cleanup: Callable[[], None],
        reader: _Reader | None,
        delegate: _CredentialsDelegate,
        answer_within: float | None = None,
    ):
        self._request = request
        self._answer_within = answer_within
        self._deadline = None if answer_within is None else time.monotonic() + answer_within
        self._done = done
        self._finish = finish
        self._cleanup = cleanup
        self._reader = reader
        self._delegate = delegate
        self._lock = threading.Lock()
        self._outcome: tuple[bool, Any] | None = None

    def done(self) -> bool:
        return self._done.done()

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        """Call `callback()` (on a CRT thread) once the request has finished."""
        self._done.add_done_callback(lambda _: callback())

    def cancel(self) -> None:
        """Ask CRT to stop; a multipart upload already begun is aborted by CRT."""
        request = self._request
        if request is not None:
            request.cancel()

    def result(self) -> Any:
        with self._lock:
            if self._outcome is None:
                try:
                    self._outcome = (True, self._wait())
                except BaseException as exc:
                    self._outcome = (False, exc)
                finally:
                    self._cleanup()
                    self._request = None
        ok, value = self._outcome
        if ok:
            return value
        raise value

    def _wait(self) -> Any:
        try:
            while True:
                try:
                    self._done.result(timeout=_POLL_SECONDS)
                    break
                except FutureTimeout:
                    check_cancelled()
                    if self._deadline is not None and time.monotonic() > self._deadline:
                        raise CrtNoAnswer(f"no answer within {self._answer_within:.1f} s") from None
        except (Cancelled, KeyboardInterrupt, CrtNoAnswer):
            self.cancel()
            with contextlib.suppress(BaseException):
                self._done.result()
            raise
        except AwsCrtError as exc:
            raise self._own_error(exc) from None
        return self._finish()

    def _own_error(self, exc: AwsCrtError) -> BaseException:
        """The caller's own exception when the body stream or the credentials failed, in
        place of CRT's generic error for it; else the transport's error."""
        if self._reader is not None and self._reader.error is not None:
            return self._reader.error
        failure = self._delegate.error
        if exc.name == "AWS_AUTH_CREDENTIALS_PROVIDER_DELEGATE_FAILURE" and failure is not None:
            return failure
        return _translate(exc)


def retry_backoff(max_attempts: int) -> float:
    """The longest CRT can wait between the attempts of one request, in seconds."""
    return sum(
        min(MAX_BACKOFF_SECONDS, BACKOFF_SCALE_MS * 2**retry / 1000)
        for retry in range(max_attempts - 1)
    )


class CrtTransport:
    """Blocking S3 requests on one `awscrt.s3.S3Client` (see the module).

    CRT's only read timeout is fixed: a connection that sees no activity for 30 s while it
    handles a request is closed, and the request retried (aws-c-s3's connection monitor,
    which awscrt does not let a caller set). So `request` (listing pages, HeadObject and the
    other small exchanges) gives each request `read_timeout` plus the backoff of CRT's own
    retries (`answer_time`) to be answered; past it, the request is cancelled and, when
    idempotent, sent again, up to `max_attempts` times. Reads of content are watched by
    their readers (crt_plane.RangedBody); puts are left to CRT's monitor."""

    def __init__(
        self,
        credentials: Credentials,
        region: str,
        endpoint_url: str | None,
        addressing_style: str,
        verify_tls: bool,
        ca_bundle: str | None = None,
        max_attempts: int = 5,
        part_size: int = PART_SIZE,
        memory_limit: int = MEMORY_LIMIT,
        *,
        retry_mode: str = "standard",
        max_connections: int = MAX_CONNECTIONS,
        throughput_target_gbps: float = THROUGHPUT_TARGET_GBPS,
        connect_timeout: float | None = None,
        read_timeout: float | None = 60.0,
    ):
        if addressing_style not in ("auto", "path", "virtual"):
            raise ValueError(
                f"addressing_style must be auto, path or virtual: {addressing_style!r}"
            )
        self.region = region
        self.part_size = part_size
        self.addressing_style = addressing_style
        self.max_attempts = max(1, max_attempts)
        self.answer_time = (
            None if read_timeout is None else read_timeout + retry_backoff(self.max_attempts)
        )
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"endpoint_url must be an http or https URL: {endpoint_url!r}")
            self._https = parts.scheme == "https"
            self._host = parts.netloc.rsplit("@", 1)[-1]
            self._base_path = parts.path.rstrip("/")
            self._aws = parts.hostname.endswith((".amazonaws.com", ".amazonaws.com.cn"))
        else:
            self._https = True
            suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
            self._host = f"s3.{region}.{suffix}"
            self._base_path = ""
            self._aws = True
        self._delegate = _CredentialsDelegate(credentials)
        provider = AwsCredentialsProvider.new_delegate(self._delegate)
        tls_options = None
        if self._https:
            options = TlsContextOptions()
            options.verify_peer = verify_tls
            if ca_bundle:
                options.override_default_trust_store_from_path(ca_filepath=ca_bundle)
            tls_options = ClientTlsContext(options).new_connection_options()
        retry = (
            S3RetryConfig(retry_mode=S3RetryMode.NONE)
            if max_attempts <= 1
            else S3RetryConfig(
                max_retries=max_attempts - 1,
                retry_mode=_RETRY_MODES[retry_mode],
                backoff_scale_factor_ms=BACKOFF_SCALE_MS,
                max_backoff_secs=MAX_BACKOFF_SECONDS,
            )
        )
        self._client = S3Client(
            bootstrap=ClientBootstrap.get_or_create_static_default(),
            region=region,
            signing_config=create_default_s3_signing_config(
                region=region, credential_provider=provider
            ),
            tls_mode=S3RequestTlsMode.ENABLED if self._https else S3RequestTlsMode.DISABLED,
            tls_connection_options=tls_options,
            part_size=part_size,
            multipart_upload_threshold=part_size,
            throughput_target_gbps=throughput_target_gbps,
            memory_limit=memory_limit,
            max_active_connections_override=max_connections,
            retry_config=retry,
            connect_timeout_ms=int(connect_timeout * 1000) if connect_timeout else None,
        )

    # -- lifecycle --

    def close(self, timeout: float = 5.0) -> None:
        """Release the client and wait, up to `timeout` seconds, for CRT to shut it down
        (its connections and threads); requests still in flight keep it alive until done."""
        client, self._client = self._client, None
        if client is not None:
            shutdown = client.shutdown_event
            del client
            shutdown.wait(timeout)

    def __enter__(self) -> CrtTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- operations --

    def put_object(
        self,
        bucket: str,
        key: str,
        body: Body,
        size: int | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        checksum_algorithm: str | None = "CRC32C",
    ) -> Response:
        """Store `body` (bytes, a file path, or a binary stream of `size` bytes, None when
        unknown) under `key`; `headers` carry Content-Type, x-amz-meta-*, storage class,
        SSE-C, If-None-Match... Returns the response headers (ETag, x-amz-version-id...)."""
        return self.begin_put_object(
            bucket, key, body, size, headers, checksum_algorithm=checksum_algorithm
        ).result()

    def begin_put_object(
        self,
        bucket: str,
        key: str,
        body: Body,
        size: int | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        checksum_algorithm: str | None = "CRC32C",
        on_progress: Callable[[int], None] | None = None,
    ) -> Pending:
        """`put_object` without waiting: the Pending's `result()` is its response.
        `on_progress(count)` tells the bytes CRT has read of a file body."""
        send_filepath = None
        reader = None
        if isinstance(body, bytes | bytearray | memoryview):
            reader = _Reader(io.BytesIO(body))
            size = memoryview(body).nbytes
        elif isinstance(body, str | os.PathLike):
            send_filepath = os.fspath(body)
            size = os.stat(send_filepath).st_size
        elif size is None:
            # Read ahead one part: a short stream is sent as one PutObject, not as a
            # multipart upload of one part.
            head = read_up_to(body, self.part_size + 1)
            if len(head) <= self.part_size:
                size = len(head)
                reader = _Reader(io.BytesIO(head))
            else:
                reader = _Reader(body, head)
        else:
            reader = _Reader(body)
        all_headers = dict(headers or {})
        if size is not None:
            all_headers["Content-Length"] = str(size)
        checksum = None
        if checksum_algorithm:
            # A header, on a single PutObject and on each part alike: CRT holds each part in a
            # buffer anyway, and an aws-chunked trailer cost SeaweedFS more CPU per byte.
            checksum = S3ChecksumConfig(
                algorithm=CHECKSUM_ALGORITHMS[checksum_algorithm],
                location=S3ChecksumLocation.HEADER,
            )
        return self._start(
            S3RequestType.PUT_OBJECT,
            "PUT",
            bucket,
            key,
            None,
            all_headers,
            body_stream=reader,
            send_filepath=send_filepath,
            checksum_config=checksum,
            max_connections=(
                TRANSFER_CONNECTIONS if size is None or size > self.part_size else None
            ),
            on_progress=on_progress,
        )

    def get_object(
        self,
        bucket: str,
        key: str,
        headers: Mapping[str, str] | None,
        sink: Sink,
        *,
        version_id: str | None = None,
        validate_checksum: bool = True,
    ) -> Response:
        """Read the object into `sink`: a callable `(chunk, offset)` called in offset order,
        or a file path, written whole or not at all (a temporary sibling renamed at the end).
        `headers` carry Range, If-Match, SSE-C... Returns the response headers."""
        return self.begin_get_object(
            bucket,
            key,
            headers,
            sink,
            version_id=version_id,
            validate_checksum=validate_checksum,
        ).result()

    def begin_get_object(
        self,
        bucket: str,
        key: str,
        headers: Mapping[str, str] | None,
        sink: Sink,
        *,
        version_id: str | None = None,
        validate_checksum: bool = True,
    ) -> Pending:
        """`get_object` without waiting: the Pending's `result()` is its response."""
        query = {"versionId": version_id} if version_id else None
        headers = self._resolve_suffix_range(bucket, key, dict(headers or {}), query)
        checksum = S3ChecksumConfig(validate_response=True) if validate_checksum else None
        if callable(sink):
            return self._start(
                S3RequestType.GET_OBJECT,
                "GET",
                bucket,
                key,
                query,
                headers,
                on_body=sink,
                checksum_config=checksum,
                max_connections=TRANSFER_CONNECTIONS,
            )
        target = os.fspath(sink)
        folder, name = os.path.split(os.path.abspath(target))
        partial = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:12]}.part")
        writer = _FileSink(partial, _range_start(headers), exclusive=True)

        def replace() -> None:
            writer.close()
            os.replace(partial, target)

        def remove() -> None:
            writer.close()
            _remove(partial)

        return self._start(
            S3RequestType.GET_OBJECT,
            "GET",
            bucket,
            key,
            query,
            headers,
            on_body=writer,
            checksum_config=checksum,
            max_connections=TRANSFER_CONNECTIONS,
            on_success=replace,
            cleanup=remove,
        )

    def begin_download(
        self,
        bucket: str,
        key: str,
        headers: Mapping[str, str],
        path: str,
        *,
        version_id: str | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> Pending:
        """A GetObject whose content is written to `path` as CRT delivers it (split into ranged
        GETs, in order), the first byte of the range at the start of the file; the file is
        created or truncated, and left as it is when the request fails. `on_progress(count)`
        tells the bytes received."""
        headers = dict(headers)
        writer = _FileSink(path, _range_start(headers))
        return self._start(
            S3RequestType.GET_OBJECT,
            "GET",
            bucket,
            key,
            {"versionId": version_id} if version_id else None,
            headers,
            on_body=writer,
            max_connections=DOWNLOAD_CONNECTIONS,
            on_progress=on_progress,
            cleanup=writer.close,
        )

    def request(
        self,
        method: str,
        bucket: str | None,
        key: str | None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        *,
        operation: str | None = None,
    ) -> tuple[int, Response, bytes]:
        """Any other S3 request, as one signed and retried HTTP exchange. `operation` is the
        S3 operation name CRT needs (ListObjectsV2...); common ones are inferred. Returns
        (status, headers, body). A request with no answer in `answer_time` is sent again when
        it is idempotent, up to `max_attempts` times in all."""
        method = method.upper()
        operation = operation or _operation_name(method, bucket, key, query or {}, headers or {})
        chunks: list[bytes] = []
        all_headers = dict(headers or {})
        reader = None
        if body is not None or method in ("PUT", "POST"):
            data = bytes(body or b"")
            all_headers["Content-Length"] = str(len(data))
            reader = _Reader(io.BytesIO(data))
        attempts = self.max_attempts if method in _IDEMPOTENT else 1
        for attempt in range(1, attempts + 1):
            chunks.clear()
            pending = self._start(
                S3RequestType.DEFAULT,
                method,
                bucket,
                key,
                query,
                all_headers,
                body_stream=reader,
                on_body=lambda chunk, offset: chunks.append(chunk),
                operation=operation,
                answer_within=self.answer_time,
            )
            try:
                response = pending.result()
                break
            except CrtNoAnswer as exc:
                if attempt == attempts:
                    tries = f", {attempts} attempts" if attempts > 1 else ""
                    raise CrtNoAnswer(exc.message + tries) from None
        return response.status, response, b"".join(chunks)

    # -- internals --

    def _resolve_suffix_range(
        self,
        bucket: str,
        key: str,
        headers: dict[str, str],
        query: Mapping[str, str] | None,
    ) -> dict[str, str]:
        """`Range: bytes=-N` as an absolute range pinned to the ETag. CRT learns where a
        suffix range starts from a ranged HeadObject's Content-Range, which SeaweedFS does not
        send (AWS_ERROR_S3_MISSING_CONTENT_RANGE_HEADER); this HeadObject costs the same."""
        names = {name.lower(): name for name in headers}
        match = _SUFFIX_RANGE.match(headers.get(names.get("range", ""), ""))
        if match is None:
            return headers
        others = {name: value for name, value in headers.items() if name.lower() != "range"}
        _, found, _ = self.request("HEAD", bucket, key, query, others, operation="HeadObject")
        size, count = int(found.get("content-length", 0)), int(match.group(1))
        if size == 0 or count == 0:
            return headers
        others["Range"] = f"bytes={max(0, size - count)}-{size - 1}"
        if "if-match" not in names and found.get("etag"):
            others["If-Match"] = found["etag"]
        return others

    def _path_and_host(self, bucket: str | None, key: str | None) -> tuple[str, str]:
        key_path = "/" + quote(key, safe="/~") if key is not None else "/"
        if bucket is None:
            return self._base_path + "/", self._host
        if self._virtual(bucket):
            return key_path, f"{bucket}.{self._host}"
        return f"{self._base_path}/{quote(bucket, safe='')}" + (
            key_path if key is not None else ""
        ), self._host

    def _virtual(self, bucket: str) -> bool:
        if self.addressing_style == "path":
            return False
        if self.addressing_style == "virtual":
            return True
        dns = _DNS_LABELS.match(bucket) is not None and ".." not in bucket
        return self._aws and dns and not (self._https and "." in bucket)

    def _start(
        self,
        kind: S3RequestType,
        method: str,
        bucket: str | None,
        key: str | None,
        query: Mapping[str, str] | None,
        headers: dict[str, str],
        *,
        body_stream: _Reader | None = None,
        send_filepath: str | None = None,
        on_body: Callable[[bytes, int], None] | None = None,
        checksum_config: S3ChecksumConfig | None = None,
        operation: str | None = None,
        on_success: Callable[[], None] | None = None,
        cleanup: Callable[[], None] | None = None,
        max_connections: int | None = None,
        on_progress: Callable[[int], None] | None = None,
        answer_within: float | None = None,
    ) -> Pending:
        client = self._client
        if client is None:
            raise RuntimeError("the transport is closed")
        path, host = self._path_and_host(bucket, key)
        if query:
            path += "?" + "&".join(
                quote(str(name), safe="-_.~")
                + ("=" + quote(str(value), safe="-_.~") if value is not None else "=")
                for name, value in query.items()
            )
        http_headers = HttpHeaders([("Host", host)])
        for name, value in headers.items():
            if name.lower() != "host":
                http_headers.set(name, str(value))
        http_request = HttpRequest(
            method=method, path=path, headers=http_headers, body_stream=body_stream
        )
        response = Response()

        def on_headers(status_code: int, headers: list[tuple[str, str]], **_: Any) -> None:
            response.status = status_code
            response.update((name.lower(), value) for name, value in headers)

        done: Future = Future()

        def on_done(
            error: BaseException | None = None,
            did_validate_checksum: bool = False,
            checksum_validation_algorithm: S3ChecksumAlgorithm | None = None,
            **_: Any,
        ) -> None:
            # awscrt resolves its own future before calling on_done: waiting on this one
            # guarantees the checksum outcome is recorded when the caller wakes up.
            response.checksum_validated = bool(did_validate_checksum)
            if checksum_validation_algorithm is not None:
                response.checksum_algorithm = checksum_validation_algorithm.name
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

        def body_callback(chunk: bytes, offset: int, **_: Any) -> None:
            on_body(chunk, offset)

        def finish() -> Response:
            if on_success is not None:
                on_success()
            return response

        try:
            request = client.make_request(
                type=kind,
                request=http_request,
                operation_name=operation,
                send_filepath=send_filepath,
                checksum_config=checksum_config,
                on_headers=on_headers,
                on_body=body_callback if on_body is not None else None,
                on_done=on_done,
                max_active_connections_override=max_connections,
                on_progress=on_progress,
            )
        except AwsCrtError as exc:
            if cleanup is not None:
                cleanup()
            raise _translate(exc) from None
        return Pending(
            request, done, finish, cleanup or _nothing, body_stream, self._delegate, answer_within
        )


class _FileSink:
    """The body callback of a GetObject into a file: each chunk written at its offset in the
    object less `first` (the range's first byte), in `file_writes.WRITE_SLICE` slices. CRT's
    own `recv_filepath` writes a whole part in one call, which cost the kernel of the bench
    machine up to seven times the system time. A write's OSError fails the request with it."""

    def __init__(self, path: str, first: int, *, exclusive: bool = False):
        """Open `path`: a new file when `exclusive`, else created or emptied. A file is
        truncated only when it is not empty: one truncated to nothing (by `O_TRUNC` too,
        even when it was empty) is written to disk whole by ext4 when it is closed
        (`auto_da_alloc`); closing a 512 MiB download took 0.2 s and wrote it all, against
        0.1 ms and nothing written yet without the truncation."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_EXCL if exclusive else 0)
        self._descriptor = os.open(path, flags, 0o666)
        self._first = first
        try:
            if os.fstat(self._descriptor).st_size:
                os.ftruncate(self._descriptor, 0)
        except BaseException:
            self.close()
            raise

    def __call__(self, chunk: bytes, offset: int) -> None:
        write_at(self._descriptor, chunk, offset - self._first)

    def close(self) -> None:
        descriptor, self._descriptor = self._descriptor, -1
        if descriptor >= 0:
            os.close(descriptor)


class _CredentialsDelegate:
    """CRT's credentials delegate: called on a CRT thread, with the GIL, for each request
    signed. A failure is kept, to be raised in place of CRT's opaque delegate error (awscrt
    also prints it as an unraisable exception). Not a bound method of the transport, whose
    client would then keep it alive."""

    def __init__(self, credentials: Credentials):
        self._credentials = credentials
        self.error: BaseException | None = None

    def __call__(self) -> AwsCredentials:
        try:
            # botocore's ReadOnlyCredentials has a fourth field, account_id
            access_key, secret_key, token = tuple(self._credentials())[:3]
            return AwsCredentials(access_key, secret_key, token or None)
        except Exception as exc:
            self.error = exc
            raise


class _Reader(io.RawIOBase):
    """The body stream CRT reads (on its own threads): bytes already read (`head`), then the
    stream; keeps the exception a read raised."""

    def __init__(self, stream: BinaryIO, head: bytes = b""):
        super().__init__()
        self._stream = stream
        self._head = memoryview(head)
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head.nbytes:
            count = min(len(buffer), self._head.nbytes)
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        try:
            if hasattr(self._stream, "readinto"):
                return self._stream.readinto(buffer) or 0
            data = self._stream.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)
        except BaseException as exc:
            self.error = exc
            raise


def _translate(exc: AwsCrtError) -> CrtError:
    if isinstance(exc, S3ResponseError):
        headers = {name.lower(): value for name, value in exc.headers or []}
        code, message, request_id = _parse_error_body(exc.body)
        status = exc.status_code
        return CrtRequestError(
            status,
            code or (str(status) if status else None),
            message or "",
            request_id or headers.get("x-amz-request-id"),
            headers,
            operation=exc.operation_name,
            name=exc.name,
        )
    if _is_network(exc.name):
        return CrtNetworkError(exc.message, name=exc.name)
    return CrtError(exc.message, name=exc.name)


def _parse_error_body(body: bytes | None) -> tuple[str | None, str | None, str | None]:
    if not body:
        return None, None, None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None, None, None

    def text(name: str) -> str | None:
        for element in root.iter():
            if element.tag.rsplit("}", 1)[-1] == name:
                return element.text
        return None

    return text("Code"), text("Message"), text("RequestId")


_NETWORK_PREFIXES = ("AWS_IO_SOCKET_", "AWS_IO_DNS_", "AWS_IO_TLS_")
_NETWORK_NAMES = {
    "AWS_IO_BROKEN_PIPE",
    "AWS_ERROR_HTTP_CONNECTION_CLOSED",
    "AWS_ERROR_HTTP_SERVER_CLOSED",
    "AWS_ERROR_HTTP_PROTOCOL_ERROR",
    "AWS_ERROR_HTTP_CHANNEL_THROUGHPUT_FAILURE",
    "AWS_ERROR_HTTP_RESPONSE_FIRST_BYTE_TIMEOUT",
    "AWS_ERROR_HTTP_CONNECTION_MANAGER_ACQUISITION_TIMEOUT",
    "AWS_ERROR_HTTP_STREAM_MANAGER_CONNECTION_ACQUIRE_FAILURE",
    "AWS_ERROR_HTTP_PROXY_CONNECT_FAILED",
    "AWS_ERROR_HTTP_PROXY_CONNECT_FAILED_RETRYABLE",
    "AWS_ERROR_HTTP_GOAWAY_RECEIVED",
    "AWS_ERROR_HTTP_RST_STREAM_RECEIVED",
    "AWS_ERROR_S3_REQUEST_TIMEOUT",
}


def _is_network(name: str | None) -> bool:
    return bool(name) and (name.startswith(_NETWORK_PREFIXES) or name in _NETWORK_NAMES)


_BUCKET_OPERATIONS = (
    ("list-type", {"GET": "ListObjectsV2"}),
    ("versions", {"GET": "ListObjectVersions"}),
    ("uploads", {"GET": "ListMultipartUploads"}),
    ("delete", {"POST": "DeleteObjects"}),
    ("location", {"GET": "GetBucketLocation"}),
    ("", {"HEAD": "HeadBucket", "GET": "ListObjects", "PUT": "CreateBucket"}),
)
_OBJECT_OPERATIONS = (
    ("tagging", {"GET": "GetObjectTagging", "PUT": "PutObjectTagging"}),
    ("attributes", {"GET": "GetObjectAttributes"}),
    ("uploads", {"POST": "CreateMultipartUpload"}),
    (
        "uploadId",
        {
            "GET": "ListParts",
            "PUT": "UploadPart",
            "POST": "CompleteMultipartUpload",
            "DELETE": "AbortMultipartUpload",
        },
    ),
    ("", {"HEAD": "HeadObject", "GET": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject"}),
)


def _operation_name(
    method: str,
    bucket: str | None,
    key: str | None,
    query: Mapping[str, str],
    headers: Mapping[str, str],
) -> str:
    """The S3 operation of a request, for the common ones; others must be named."""
    if bucket is None:
        if method == "GET":
            return "ListBuckets"
    else:
        copy = any(name.lower() == "x-amz-copy-source" for name in headers)
        for marker, names in _OBJECT_OPERATIONS if key is not None else _BUCKET_OPERATIONS:
            if (not marker or marker in query) and method in names:
                name = names[method]
                if copy and name in ("PutObject", "UploadPart"):
                    return "CopyObject" if name == "PutObject" else "UploadPartCopy"
                return name
    raise ValueError(f"name the S3 operation of {method} {bucket}/{key or ''} {dict(query)}")


def _range_start(headers: Mapping[str, str]) -> int:
    """The first byte a GetObject's `Range: bytes=N-...` header asks for; 0 without one."""
    for name, value in headers.items():
        if name.lower() == "range":
            match = _RANGE_START.match(value)
            return int(match[1]) if match else 0
    return 0


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _nothing() -> None:
    return None
