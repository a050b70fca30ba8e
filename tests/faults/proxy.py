"""A fault-injecting HTTP/1.1 proxy on loopback, for tests.

`FaultProxy` listens on 127.0.0.1 (a free port) and forwards to one upstream HTTP server on a
loopback address, one upstream connection per client connection. It parses each request
(request line, headers, body by Content-Length or chunked; `Expect: 100-continue` is answered
by the proxy itself) and each response (body by Content-Length, chunked, or up to the close;
none for HEAD, 1xx, 204 and 304), so keep-alive connections work, and decides for each
request whether to inject a fault (`Fault`):

- `reset`: the client connection is closed with a TCP RST (SO_LINGER 0), without an answer
  and before anything is forwarded; `reset_after`: the same, after the request was forwarded
  and upstream answered (the answer is lost);
- `slowdown` / `internal`: a 503 SlowDown / 500 InternalError S3 XML error, not forwarded;
  `denied`: a 403 AccessDenied, as a policy that does not grant the operation answers;
- `stall`: forwarded, then nothing is sent back for `stall_seconds`, then the connection is
  closed; `stall_body`: the response headers and half the body, then the same;
- `cut_body`: the response headers unchanged, then the first half of the body, then close;
- `corrupt_body`: the whole response, with bytes in the middle of the body flipped;
- `cut_body_fix_length`: Content-Length rewritten to half the body and only that half sent:
  the response looks complete, only a checksum can tell.

The body faults apply to 2xx responses with a non-empty body (half of 1 byte is none); a body
fault chosen for another response lets it through unchanged (counted in `skipped`).

Faults are chosen by forced rules (`force`), first, then by a seeded random schedule
(`random`) for the requests no rule matched. `requests`, `faults` (by kind) and `history`
tell what really happened. Everything is bounded: connections, header and body sizes,
timeouts, the history; `stop()` closes every socket and joins every thread.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import ipaddress
import re
import socket
import struct
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit


class Fault(enum.StrEnum):
    """What the proxy does to one request."""

    RESET = "reset"
    RESET_AFTER = "reset_after"
    SLOWDOWN = "slowdown"
    INTERNAL = "internal"
    DENIED = "denied"
    STALL = "stall"
    STALL_BODY = "stall_body"
    CUT_BODY = "cut_body"
    CORRUPT_BODY = "corrupt_body"
    CUT_BODY_FIX_LENGTH = "cut_body_fix_length"


RESET = Fault.RESET
RESET_AFTER = Fault.RESET_AFTER
SLOWDOWN = Fault.SLOWDOWN
INTERNAL = Fault.INTERNAL
DENIED = Fault.DENIED
STALL = Fault.STALL
STALL_BODY = Fault.STALL_BODY
CUT_BODY = Fault.CUT_BODY
CORRUPT_BODY = Fault.CORRUPT_BODY
CUT_BODY_FIX_LENGTH = Fault.CUT_BODY_FIX_LENGTH

BODY_FAULTS = frozenset({STALL_BODY, CUT_BODY, CORRUPT_BODY, CUT_BODY_FIX_LENGTH})
"""Faults that damage a response body: they need a 2xx response with a body."""
ANSWERING_FAULTS = frozenset({SLOWDOWN, INTERNAL, DENIED})
"""Faults answered by the proxy itself; the request is not forwarded."""

MAX_CONNECTIONS = 256
MAX_LINE = 16 * 1024
MAX_HEADERS = 200
MAX_HEADER_BYTES = 128 * 1024
MAX_BODY = 96 * 1024 * 1024
"""A request body (held in memory) or a body damaged by a chunked or close-delimited fault."""
HISTORY = 20_000
MAX_SCHEDULE_ENTRIES = 200_000
CHUNK = 256 * 1024
CORRUPT_SPAN = 16
"""Bytes flipped in the middle of a body by `corrupt_body`."""

_OBJECT_PATH = r"^/[^/?]+/[^?]+"
"""A path-style object path: /bucket/key."""
_OBJECT_QUERY = frozenset({"versionId", "partNumber", "x-id"})
"""Query parameters that a plain GetObject may carry."""


class ProtocolError(Exception):
    """The peer broke HTTP/1.1 framing, or a limit was exceeded."""


# --- the rules --------------------------------------------------------------------------------


@dataclass
class Rule:
    """A forced fault: fires on the next `times` requests it matches, then is used up."""

    kind: Fault
    method: str | None = None
    path_regex: str | None = None
    query_has: tuple[str, ...] = ()
    times: int = 1
    fired: int = 0

    def matches(self, method: str, path: str, query: dict[str, str]) -> bool:
        if self.method is not None and method.upper() != self.method.upper():
            return False
        if self.path_regex is not None and not re.search(self.path_regex, path):
            return False
        return all(name in query for name in self.query_has)

    @property
    def remaining(self) -> int:
        return max(0, self.times - self.fired)


@dataclass
class RandomSchedule:
    """A seeded random fault for `rate` of the requests that match no rule.

    The draw for a request depends only on the seed, the request (method and target) and how
    many times that same request was seen before, not on the other requests: so the same
    requests get the same faults whatever order concurrent clients send them in, and a
    retried request draws anew. Body faults are drawn only for object reads (GET of
    `object_path_regex` without a subresource)."""

    rate: float
    seed: int
    kinds: tuple[Fault, ...]
    object_path_regex: str = _OBJECT_PATH
    seen: dict[tuple[str, str], int] = field(default_factory=dict)

    def draw(self, method: str, target: str) -> Fault | None:
        identity = (method.upper(), target)
        occurrence = self.seen.get(identity, 0) + 1
        if len(self.seen) < MAX_SCHEDULE_ENTRIES:
            self.seen[identity] = occurrence
        digest = hashlib.sha256(f"{self.seed}|{method.upper()} {target}|{occurrence}".encode())
        value = int.from_bytes(digest.digest()[:16], "big")
        chance, pick = (value >> 64) / 2**64, (value & (2**64 - 1)) / 2**64
        if chance >= self.rate:
            return None
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        object_read = (
            method.upper() == "GET"
            and re.search(self.object_path_regex, parts.path) is not None
            and all(name in _OBJECT_QUERY or name.startswith("response-") for name in query)
        )
        kinds = [k for k in self.kinds if object_read or k not in BODY_FAULTS]
        if not kinds:
            return None
        return kinds[min(len(kinds) - 1, int(pick * len(kinds)))]


@dataclass(frozen=True)
class Seen:
    """One request the proxy saw: what it was, the fault applied (None: none), the status
    sent back (None: no answer)."""

    method: str
    target: str
    fault: Fault | None
    status: int | None


# --- HTTP/1.1 framing -------------------------------------------------------------------------


class _Stream:
    """Buffered reads from a socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(CHUNK)
        if not data:
            return False
        self.buffer += data
        return True

    def readline(self) -> bytes | None:
        """One line with its end; None at a clean end of stream."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[: end + 1])
                del self.buffer[: end + 1]
                return line
            if len(self.buffer) > MAX_LINE:
                raise ProtocolError("line too long")
            if not self._fill():
                if self.buffer:
                    raise ProtocolError("end of stream in the middle of a line")
                return None

    def read_exact(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not self._fill():
                raise ProtocolError(f"end of stream: {len(self.buffer)} of {count} bytes")
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def read_some(self, count: int) -> bytes:
        """Up to `count` bytes; b"" at the end of the stream."""
        if not self.buffer and not self._fill():
            return b""
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data


@dataclass
class _Head:
    """A request or response line and its headers, in order, as received."""

    line: str
    headers: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def tokens(self, name: str) -> set[str]:
        value = ",".join(v for k, v in self.headers if k.lower() == name.lower())
        return {token.strip().lower() for token in value.split(",") if token.strip()}

    def without(self, *names: str) -> list[tuple[str, str]]:
        drop = {name.lower() for name in names}
        return [(k, v) for k, v in self.headers if k.lower() not in drop]

    def encode(self, headers: Iterable[tuple[str, str]] | None = None) -> bytes:
        lines = [
            self.line,
            *(f"{k}: {v}" for k, v in (self.headers if headers is None else headers)),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_head(stream: _Stream) -> _Head | None:
    """A message head; None when the stream ends cleanly before it."""
    line = stream.readline()
    while line in (b"\r\n", b"\n"):  # tolerated blank lines between messages
        line = stream.readline()
    if line is None:
        return None
    headers: list[tuple[str, str]] = []
    size = len(line)
    while True:
        raw = stream.readline()
        if raw is None:
            raise ProtocolError("end of stream in the headers")
        size += len(raw)
        if size > MAX_HEADER_BYTES or len(headers) > MAX_HEADERS:
            raise ProtocolError("headers too large")
        if raw in (b"\r\n", b"\n"):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not name.strip():
            raise ProtocolError(f"bad header line {raw[:80]!r}")
        headers.append((name.strip(), value.strip()))
    return _Head(line.decode("latin-1").rstrip("\r\n"), headers)


def _content_length(head: _Head) -> int | None:
    value = head.get("Content-Length")
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        raise ProtocolError(f"bad Content-Length {value!r}") from None
    if length < 0:
        raise ProtocolError(f"bad Content-Length {value!r}")
    return length


def _is_chunked(head: _Head) -> bool:
    return "chunked" in head.tokens("Transfer-Encoding")


def _read_chunked(stream: _Stream, limit: int = MAX_BODY) -> tuple[bytes, bytes]:
    """A chunked body: (its raw framing, its decoded data)."""
    raw = bytearray()
    data = bytearray()
    while True:
        line = stream.readline()
        if line is None:
            raise ProtocolError("end of stream in a chunked body")
        raw += line
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size {line[:40]!r}") from None
        if size == 0:
            break
        if len(data) + size > limit:
            raise ProtocolError("chunked body too large")
        chunk = stream.read_exact(size + 2)
        raw += chunk
        data += chunk[:size]
    while True:  # trailers, up to the blank line
        line = stream.readline()
        if line is None:
            raise ProtocolError("end of stream in chunked trailers")
        raw += line
        if line in (b"\r\n", b"\n"):
            break
    return bytes(raw), bytes(data)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST rather than a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _close(sock: socket.socket | None) -> None:
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def _flip(data: bytes | bytearray, offset: int, start: int, stop: int) -> bytes:
    """`data` (which starts at `offset` of the body) with the bytes start..stop-1 of the body
    inverted."""
    low, high = max(start, offset), min(stop, offset + len(data))
    if low >= high:
        return bytes(data)
    changed = bytearray(data)
    for index in range(low - offset, high - offset):
        changed[index] ^= 0xFF
    return bytes(changed)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- the proxy --------------------------------------------------------------------------------


class FaultProxy:
    """A threaded HTTP/1.1 proxy from 127.0.0.1:<free port> to `upstream` (loopback only)
    that injects faults; see the module."""

    def __init__(
        self,
        upstream: tuple[str, int] | str,
        *,
        stall_seconds: float = 3.0,
        idle_timeout: float = 30.0,
        upstream_timeout: float = 60.0,
    ):
        if isinstance(upstream, str):
            parts = urlsplit(upstream)
            if parts.scheme != "http" or not parts.hostname or not parts.port:
                raise ValueError(f"upstream must be http://HOST:PORT, not {upstream!r}")
            upstream = (parts.hostname, parts.port)
        host, port = upstream
        if not _is_loopback(host):
            raise ValueError(f"the upstream must be a loopback address, not {host!r}")
        self.upstream = (host, int(port))
        self.stall_seconds = stall_seconds
        self.idle_timeout = idle_timeout
        self.upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._threads: set[threading.Thread] = set()
        self._sockets: set[socket.socket] = set()
        self._rules: list[Rule] = []
        self._schedule: RandomSchedule | None = None
        self.port: int | None = None
        self.requests = 0
        self.connections = 0
        self.refused = 0
        self._faults: dict[str, int] = {}
        self._skipped: dict[str, int] = {}
        self._history: deque[Seen] = deque(maxlen=HISTORY)

    # --- life cycle

    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the proxy is not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        if self._listener is not None:
            return self
        self._stopped.clear()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listener.settimeout(0.1)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"fault-proxy-{self.port}", daemon=True
        )
        self._acceptor.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close the listener and every connection; join the threads (each at most
        `timeout` seconds)."""
        self._stopped.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout)
            self._acceptor = None
        if self._listener is not None:
            _close(self._listener)
            self._listener = None
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            _close(sock)
        for thread in threads:
            thread.join(timeout)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.endpoint_url if self.port else "stopped"
        return f"FaultProxy({where} -> {self.upstream[0]}:{self.upstream[1]})"

    # --- choosing faults

    def force(
        self,
        kind: Fault | str,
        method: str | None = None,
        path_regex: str | None = None,
        query_has: str | Iterable[str] | None = None,
        times: int = 1,
    ) -> Rule:
        """Inject `kind` into the next `times` requests that match: `method` (any when None),
        `path_regex` (re.search on the path, without the query), `query_has` (query
        parameter names that must all be present). Rules are tried in the order they were
        added; a used-up rule no longer matches."""
        if times < 1:
            raise ValueError("times must be at least 1")
        if isinstance(query_has, str):
            query_has = (query_has,)
        rule = Rule(Fault(kind), method, path_regex, tuple(query_has or ()), times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def random(
        self,
        rate: float = 0.10,
        seed: int = 0,
        kinds: Iterable[Fault | str] = (RESET, SLOWDOWN, STALL, CUT_BODY, CORRUPT_BODY),
        *,
        object_path_regex: str = _OBJECT_PATH,
    ) -> RandomSchedule:
        """Inject a fault into `rate` of the requests that no forced rule matches, drawn from
        `seed`, the request and its number of repeats (see RandomSchedule); the kind is drawn
        uniformly from `kinds` (body faults only for GETs of `object_path_regex` without a
        subresource). Replaces any earlier schedule."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        schedule = RandomSchedule(rate, seed, tuple(Fault(k) for k in kinds), object_path_regex)
        with self._lock:
            self._schedule = schedule
        return schedule

    def clear(self) -> None:
        """Drop every rule and the random schedule (counters are kept)."""
        with self._lock:
            self._rules.clear()
            self._schedule = None

    def reset_counters(self) -> None:
        with self._lock:
            self.requests = 0
            self._faults.clear()
            self._skipped.clear()
            self._history.clear()

    @property
    def faults(self) -> dict[str, int]:
        """Faults really injected, by kind."""
        with self._lock:
            return dict(self._faults)

    @property
    def skipped(self) -> dict[str, int]:
        """Body faults chosen for a response they could not damage (no 2xx body)."""
        with self._lock:
            return dict(self._skipped)

    @property
    def history(self) -> list[Seen]:
        """The requests seen (the last HISTORY of them), oldest first."""
        with self._lock:
            return list(self._history)

    @property
    def injected(self) -> int:
        return sum(self.faults.values())

    def _choose(self, method: str, target: str) -> Fault | None:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.requests += 1
            for rule in self._rules:
                if rule.remaining and rule.matches(method, parts.path, query):
                    rule.fired += 1
                    return rule.kind
            if self._schedule is not None:
                return self._schedule.draw(method, target)
        return None

    def _record(self, method: str, target: str, fault: Fault | None, status: int | None) -> None:
        with self._lock:
            if fault is not None:
                self._faults[fault.value] = self._faults.get(fault.value, 0) + 1
            self._history.append(Seen(method, target, fault, status))

    def _record_skipped(self, fault: Fault) -> None:
        with self._lock:
            self._skipped[fault.value] = self._skipped.get(fault.value, 0) + 1

    # --- connections

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _untrack(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.discard(sock)

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._threads = {t for t in self._threads if t.is_alive()}
                busy = len(self._threads) >= MAX_CONNECTIONS
                if busy:
                    self.refused += 1
                else:
                    self.connections += 1
            if busy:
                _reset(client)
                continue
            thread = threading.Thread(
                target=self._serve_client, args=(client,), name="fault-proxy-conn", daemon=True
            )
            with self._lock:
                self._threads.add(thread)
                self._sockets.add(client)
            thread.start()

    def _serve_client(self, client: socket.socket) -> None:
        connection: _Exchange | None = None
        try:
            connection = _Exchange(self, client)
            while not self._stopped.is_set():
                if not connection.one_exchange():
                    break
        except (OSError, ProtocolError):
            pass
        finally:
            if connection is not None:
                connection.close()
            else:
                _close(client)
                self._untrack(client)


class _Exchange:
    """One client connection and its upstream connection."""

    def __init__(self, proxy: FaultProxy, client: socket.socket):
        self.proxy = proxy
        self.client = client
        self.client.settimeout(proxy.idle_timeout)
        self.client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stream = _Stream(client)
        self.upstream: socket.socket | None = None
        self.up_stream: _Stream | None = None
        self.reused = False
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            _close(self.client)
            self.proxy._untrack(self.client)
        self._close_upstream()

    def reset(self) -> None:
        self.closed = True
        _reset(self.client)
        self.proxy._untrack(self.client)
        self._close_upstream()

    def _close_upstream(self) -> None:
        if self.upstream is not None:
            _close(self.upstream)
            self.proxy._untrack(self.upstream)
        self.upstream = None
        self.up_stream = None

    def _connect(self) -> None:
        sock = socket.create_connection(self.proxy.upstream, timeout=self.proxy.upstream_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.proxy._track(sock)
        if self.proxy._stopped.is_set():
            _close(sock)
            raise OSError("the proxy is stopping")
        self.upstream = sock
        self.up_stream = _Stream(sock)
        self.reused = False

    def send(self, data: bytes) -> None:
        self.client.sendall(data)

    # --- one request and its response

    def one_exchange(self) -> bool:
        """Handle one request; False when the connection is to be closed."""
        request = _read_head(self.stream)
        if request is None:
            return False
        try:
            method, target, version = request.line.split(" ", 2)
        except ValueError:
            raise ProtocolError(f"bad request line {request.line[:80]!r}") from None
        fault = self.proxy._choose(method, target)
        keep_alive = version.upper() == "HTTP/1.1" and "close" not in request.tokens("Connection")
        expects = "100-continue" in request.tokens("Expect")
        length = _content_length(request)
        chunked = _is_chunked(request)
        has_body = chunked or bool(length)

        if fault is RESET:
            self.proxy._record(method, target, fault, None)
            self.reset()
            return False
        if fault in ANSWERING_FAULTS:
            pending = has_body and expects
            if has_body and not expects:
                self._read_body(length, chunked)
            self._answer_error(method, target, fault, close=pending or not keep_alive)
            return keep_alive and not pending

        if expects and has_body:
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._read_body(length, chunked)
        head = request.encode(request.without("Expect"))
        response = self._forward(head + body, method)

        if fault is RESET_AFTER:
            self.proxy._record(method, target, fault, None)
            self.reset()
            return False
        if fault is STALL:
            self.proxy._record(method, target, fault, None)
            self._stall()
            return False
        return self._relay(method, target, response, fault, keep_alive)

    def _read_body(self, length: int | None, chunked: bool) -> bytes:
        if chunked:
            raw, _ = _read_chunked(self.stream)
            return raw
        if not length:
            return b""
        if length > MAX_BODY:
            raise ProtocolError(f"request body of {length} bytes is over the limit")
        return self.stream.read_exact(length)

    def _answer_error(self, method: str, target: str, fault: Fault, *, close: bool) -> None:
        request_id = uuid.uuid4().hex[:16].upper()
        if fault is SLOWDOWN:
            status, reason, code, message = (
                503,
                "Slow Down",
                "SlowDown",
                "Please reduce your request rate.",
            )
        elif fault is DENIED:
            status, reason, code, message = (403, "Forbidden", "AccessDenied", "Access Denied")
        else:
            status, reason, code, message = (
                500,
                "Internal Server Error",
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers = [
            ("Content-Type", "application/xml"),
            ("Content-Length", str(len(body))),
            ("x-amz-request-id", request_id),
            ("Server", "FaultProxy"),
        ]
        if close:
            headers.append(("Connection", "close"))
        head = _Head(f"HTTP/1.1 {status} {reason}", headers).encode()
        self.proxy._record(method, target, fault, status)
        self.send(head if method.upper() == "HEAD" else head + body)

    def _forward(self, data: bytes, method: str) -> _Head:
        """Send the request upstream; return the (final) response head. A reused upstream
        connection that turns out closed is replaced once."""
        for attempt in (1, 2):
            if self.upstream is None:
                self._connect()
            assert self.upstream is not None and self.up_stream is not None
            reused = self.reused
            try:
                self.upstream.sendall(data)
                response = _read_head(self.up_stream)
                while response is not None and _is_interim(response):
                    response = _read_head(self.up_stream)
            except OSError:
                if not reused or attempt == 2:
                    raise
                response = None
            if response is not None:
                self.reused = True
                return response
            self._close_upstream()
            if not reused or attempt == 2:
                raise ProtocolError("upstream closed the connection without an answer")
        raise AssertionError("unreachable")

    def _stall(self) -> None:
        """Send nothing more for stall_seconds (or until the proxy stops), then close."""
        self.proxy._stopped.wait(self.proxy.stall_seconds)
        self.close()

    def _relay(
        self, method: str, target: str, response: _Head, fault: Fault | None, keep_alive: bool
    ) -> bool:
        assert self.up_stream is not None
        status = int(response.line.split(" ", 2)[1])
        keep_alive = keep_alive and "close" not in response.tokens("Connection")
        if method.upper() == "HEAD" or status in (204, 304):
            framing, length = "none", 0
        elif _is_chunked(response):
            framing, length = "chunked", None
        elif (length := _content_length(response)) is not None:
            framing = "length"
        else:
            framing, length = "close", None
            keep_alive = False

        damaging = fault in BODY_FAULTS and 200 <= status < 300 and framing != "none"
        if damaging and framing == "length" and not length:
            damaging = False
        if fault is not None and not damaging:
            self.proxy._record_skipped(fault)
            fault = None

        if fault is None:
            self.proxy._record(method, target, None, status)
            self.send(response.encode())
            if framing == "length":
                self._copy(length or 0)
            elif framing == "chunked":
                raw, _ = _read_chunked(self.up_stream)
                self.send(raw)
            elif framing == "close":
                while data := self.up_stream.read_some(CHUNK):
                    self.send(data)
            return keep_alive

        self.proxy._record(method, target, fault, status)
        if framing == "length":
            self._damage_streamed(response, length or 0, fault)
        else:
            if framing == "chunked":
                _, data = _read_chunked(self.up_stream)
            else:
                data = self._read_to_close()
            if not data:  # nothing to damage after all: an empty chunked body
                self.send(response.encode())
                self.send(b"0\r\n\r\n" if framing == "chunked" else data)
                return keep_alive and framing == "chunked"
            self._damage_buffered(response, data, fault, chunked=framing == "chunked")
        if fault is CORRUPT_BODY or (fault is CUT_BODY_FIX_LENGTH and framing != "close"):
            return keep_alive  # the response is complete as its headers say
        self.close()
        return False

    def _copy(self, count: int, offset: int = 0, flip: tuple[int, int] | None = None) -> None:
        """Relay `count` body bytes from upstream to the client; with `flip`, invert the body
        bytes flip[0]..flip[1]-1 (the relayed bytes start at body byte `offset`)."""
        assert self.up_stream is not None
        left = count
        while left:
            data = self.up_stream.read_some(min(CHUNK, left))
            if not data:
                raise ProtocolError("upstream closed in the middle of a body")
            if flip is not None:
                data = _flip(data, offset, *flip)
            self.send(data)
            offset += len(data)
            left -= len(data)

    def _skip(self, count: int) -> None:
        assert self.up_stream is not None
        while count:
            data = self.up_stream.read_some(min(CHUNK, count))
            if not data:
                raise ProtocolError("upstream closed in the middle of a body")
            count -= len(data)

    def _read_to_close(self) -> bytes:
        assert self.up_stream is not None
        data = bytearray()
        while chunk := self.up_stream.read_some(CHUNK):
            data += chunk
            if len(data) > MAX_BODY:
                raise ProtocolError("response body too large to damage")
        return bytes(data)

    def _damage_streamed(self, response: _Head, length: int, fault: Fault) -> None:
        half = length // 2
        if fault is CORRUPT_BODY:
            start = max(0, half - CORRUPT_SPAN // 2)
            self.send(response.encode())
            self._copy(length, flip=(start, min(length, start + CORRUPT_SPAN)))
            return
        if fault is CUT_BODY_FIX_LENGTH:
            headers = [
                (k, str(half) if k.lower() == "content-length" else v) for k, v in response.headers
            ]
            self.send(response.encode(headers))
            self._copy(half)
            self._skip(length - half)
            return
        self.send(response.encode())
        self._copy(half)
        if fault is STALL_BODY:
            self.proxy._stopped.wait(self.proxy.stall_seconds)
        # CUT_BODY and STALL_BODY: the connection is closed by the caller

    def _damage_buffered(
        self, response: _Head, data: bytes, fault: Fault, *, chunked: bool
    ) -> None:
        half = len(data) // 2

        def chunk(part: bytes) -> bytes:
            return f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part

        end = b"0\r\n\r\n" if chunked else b""
        if fault is CORRUPT_BODY:
            start = max(0, half - CORRUPT_SPAN // 2)
            self.send(response.encode())
            self.send(chunk(_flip(data, 0, start, min(len(data), start + CORRUPT_SPAN))) + end)
        elif fault is CUT_BODY_FIX_LENGTH:
            headers = [*response.without("Transfer-Encoding", "Content-Length")]
            headers.append(("Content-Length", str(half)))
            self.send(response.encode(headers) + data[:half])
        else:
            self.send(response.encode() + chunk(data[:half]))
            if fault is STALL_BODY:
                self.proxy._stopped.wait(self.proxy.stall_seconds)


def _is_interim(response: _Head) -> bool:
    try:
        status = int(response.line.split(" ", 2)[1])
    except (IndexError, ValueError):
        raise ProtocolError(f"bad status line {response.line[:80]!r}") from None
    return 100 <= status < 200 and status != 101
