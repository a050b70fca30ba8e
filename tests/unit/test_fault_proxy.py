"""The fault-injecting proxy (tests/faults/proxy.py) against a tiny local HTTP server: each
fault really happens on the wire, rules fire as often as they say, the random schedule is
reproducible, and nothing outlives stop()."""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from faults.proxy import (
    CORRUPT_BODY,
    CUT_BODY,
    CUT_BODY_FIX_LENGTH,
    INTERNAL,
    RESET,
    RESET_AFTER,
    SLOWDOWN,
    STALL,
    STALL_BODY,
    Fault,
    FaultProxy,
)

SIZE = 200_003


def payload(size: int) -> bytes:
    block = hashlib.sha256(str(size).encode()).digest()
    return (block * (size // len(block) + 1))[:size]


class Upstream(BaseHTTPRequestHandler):
    """GET /data/N: N bytes (Content-Length); GET /chunked/N: N bytes, chunked; HEAD /data/N;
    GET /empty: 204; PUT or POST anything: the SHA-256 and length of the body it got."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str]]

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):  # quiet
        pass

    def _note(self):
        self.server.seen.append((self.command, self.path))

    def do_GET(self):
        self._note()
        path = self.path.split("?")[0]
        if path == "/empty":
            self.send_response(204)
            self.end_headers()
            return
        kind, _, size = path.strip("/").partition("/")
        data = payload(int(size))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if kind == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(data), 65536):
                piece = data[start : start + 65536]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_HEAD(self):
        self._note()
        size = int(self.path.split("?")[0].rsplit("/", 1)[1])
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_PUT(self):
        self._note()
        body = self._body()
        answer = json.dumps(
            {"sha256": hashlib.sha256(body).hexdigest(), "length": len(body)}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_POST = do_PUT


@pytest.fixture(scope="module")
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.daemon_threads = True
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream):
    upstream.seen.clear()
    with FaultProxy(upstream.server_address, stall_seconds=1.5) as proxy:
        yield proxy


def connect(proxy, timeout=10.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=timeout)


def get(conn, path, method="GET", body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


def test_passes_requests_through_on_one_keep_alive_connection(proxy, upstream):
    conn = connect(proxy)
    response, body = get(conn, f"/data/{SIZE}")
    assert (response.status, body) == (200, payload(SIZE))
    response, body = get(conn, f"/chunked/{SIZE}")
    assert (response.status, body) == (200, payload(SIZE))
    response, body = get(conn, "/data/7", method="HEAD")
    assert (response.status, body, response.getheader("Content-Length")) == (200, b"", "7")
    response, body = get(conn, "/empty")
    assert (response.status, body) == (204, b"")
    sent = payload(3 * SIZE)
    response, body = get(conn, "/put", method="PUT", body=sent)
    assert json.loads(body) == {"sha256": hashlib.sha256(sent).hexdigest(), "length": len(sent)}
    response, body = get(conn, "/put", method="PUT", body=iter([b"ab", b"cde"]))  # chunked
    assert json.loads(body)["length"] == 5
    conn.close()
    assert proxy.connections == 1 and proxy.requests == 6 and proxy.faults == {}
    assert len(upstream.seen) == 6


def test_reset_closes_with_a_rst_before_forwarding(proxy, upstream):
    proxy.force(RESET, method="GET")
    conn = connect(proxy)
    with pytest.raises(ConnectionResetError):
        get(conn, f"/data/{SIZE}")
    assert upstream.seen == []
    assert proxy.faults == {"reset": 1}
    [seen] = proxy.history
    assert (seen.method, seen.target, seen.fault, seen.status) == (
        "GET",
        f"/data/{SIZE}",
        RESET,
        None,
    )


def test_reset_after_forwards_then_loses_the_answer(proxy, upstream):
    proxy.force(RESET_AFTER, method="PUT")
    with pytest.raises(ConnectionResetError):
        get(connect(proxy), "/put", method="PUT", body=b"x" * 1000)
    assert upstream.seen == [("PUT", "/put")]
    assert proxy.faults == {"reset_after": 1}


@pytest.mark.parametrize(
    ("kind", "status", "code"), [(SLOWDOWN, 503, "SlowDown"), (INTERNAL, 500, "InternalError")]
)
def test_error_answers_are_s3_xml_and_not_forwarded(proxy, upstream, kind, status, code):
    proxy.force(kind, method="PUT")
    conn = connect(proxy)
    response, body = get(conn, "/put", method="PUT", body=b"payload")
    assert response.status == status
    assert response.getheader("Content-Type") == "application/xml"
    text = body.decode()
    assert f"<Code>{code}</Code>" in text and "<RequestId>" in text
    if kind is SLOWDOWN:
        assert "<Message>Please reduce your request rate.</Message>" in text
    assert upstream.seen == []
    response, body = get(conn, "/put", method="PUT", body=b"payload")  # same connection
    assert response.status == 200 and json.loads(body)["length"] == 7
    assert proxy.connections == 1 and proxy.faults == {kind.value: 1}


def raw_request(proxy, head: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    sock.sendall(head)
    return sock


def read_all(sock) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_expect_100_continue_is_answered_by_the_proxy(proxy, upstream):
    body = b"z" * 5000
    head = (
        f"PUT /put HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        "Expect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()
    sock = raw_request(proxy, head)
    assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    sock.sendall(body)
    answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200")
    assert hashlib.sha256(body).hexdigest().encode() in answer
    assert upstream.seen == [("PUT", "/put")]


def test_a_slowdown_before_an_expected_body_closes_the_connection(proxy, upstream):
    proxy.force(SLOWDOWN)
    head = b"PUT /put HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"
    answer = read_all(raw_request(proxy, head))
    assert answer.startswith(b"HTTP/1.1 503 Slow Down\r\n")
    assert b"Connection: close\r\n" in answer and b"<Code>SlowDown</Code>" in answer
    assert upstream.seen == []


def test_stall_forwards_then_holds_the_answer_past_the_read_timeout(proxy, upstream):
    proxy.force(STALL, method="GET")
    conn = connect(proxy, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        get(conn, f"/data/{SIZE}")
    assert time.monotonic() - started > 0.4  # the client gave up; the proxy never answered
    assert upstream.seen == [("GET", f"/data/{SIZE}")]
    assert proxy.faults == {"stall": 1}


def test_stall_body_sends_half_the_body_then_holds(proxy):
    proxy.force(STALL_BODY, method="GET")
    conn = connect(proxy, timeout=0.5)
    conn.request("GET", f"/data/{SIZE}")
    response = conn.getresponse()
    assert response.status == 200
    assert response.read(SIZE // 2) == payload(SIZE)[: SIZE // 2]
    with pytest.raises(TimeoutError):
        response.read(1)


@pytest.mark.parametrize("kind", ["data", "chunked"])
def test_cut_body_sends_the_headers_and_half_the_body(proxy, kind):
    proxy.force(CUT_BODY, method="GET")
    conn = connect(proxy)
    conn.request("GET", f"/{kind}/{SIZE}")
    response = conn.getresponse()
    assert response.status == 200
    if kind == "data":
        assert response.getheader("Content-Length") == str(SIZE)
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert caught.value.partial == payload(SIZE)[: SIZE // 2]
    assert proxy.faults == {"cut_body": 1}


@pytest.mark.parametrize("kind", ["data", "chunked"])
def test_corrupt_body_has_the_same_length_and_other_bytes_in_the_middle(proxy, kind):
    proxy.force(CORRUPT_BODY, method="GET")
    conn = connect(proxy)
    response, body = get(conn, f"/{kind}/{SIZE}")
    original = payload(SIZE)
    assert response.status == 200 and len(body) == SIZE and body != original
    differ = [i for i in range(SIZE) if body[i] != original[i]]
    assert differ and differ[0] >= SIZE // 2 - 16 and differ[-1] <= SIZE // 2 + 16
    response, body = get(conn, f"/{kind}/{SIZE}")  # the connection is still good
    assert body == original
    assert proxy.faults == {"corrupt_body": 1}


@pytest.mark.parametrize("kind", ["data", "chunked"])
def test_cut_body_fix_length_looks_complete(proxy, kind):
    proxy.force(CUT_BODY_FIX_LENGTH, method="GET")
    conn = connect(proxy)
    response, body = get(conn, f"/{kind}/{SIZE}")
    assert response.status == 200
    assert response.getheader("Content-Length") == str(SIZE // 2)
    assert body == payload(SIZE)[: SIZE // 2]
    response, body = get(conn, f"/{kind}/{SIZE}")  # headers were consistent: reused
    assert body == payload(SIZE)
    assert proxy.faults == {"cut_body_fix_length": 1}


def test_body_faults_leave_bodiless_and_error_responses_alone(proxy):
    proxy.force(CUT_BODY, method="HEAD")
    proxy.force(CORRUPT_BODY, path_regex="^/empty$")
    conn = connect(proxy)
    assert get(conn, "/data/9", method="HEAD")[0].status == 200
    assert get(conn, "/empty")[0].status == 204
    assert proxy.faults == {} and proxy.skipped == {"cut_body": 1, "corrupt_body": 1}


def test_forced_rules_fire_exactly_times_on_matching_requests_only(proxy, upstream):
    data_rule = proxy.force(SLOWDOWN, method="GET", path_regex=r"^/data/", times=3)
    upload_rule = proxy.force(INTERNAL, method="POST", query_has="uploads", times=2)
    conn = connect(proxy)
    statuses = [get(conn, "/data/10")[0].status for _ in range(5)]
    assert statuses == [503, 503, 503, 200, 200]
    assert get(conn, "/chunked/10")[0].status == 200  # path does not match
    assert get(conn, "/x?uploadId=1", method="POST", body=b"a")[0].status == 200
    assert get(conn, "/x?uploads", method="PUT", body=b"a")[0].status == 200  # method
    assert get(conn, "/x?uploads", method="POST", body=b"a")[0].status == 500
    assert get(conn, "/x?uploads=", method="POST", body=b"a")[0].status == 500
    assert get(conn, "/x?uploads", method="POST", body=b"a")[0].status == 200
    assert (data_rule.fired, data_rule.remaining) == (3, 0)
    assert (upload_rule.fired, upload_rule.remaining) == (2, 0)
    assert proxy.faults == {"slowdown": 3, "internal": 2}
    assert proxy.requests == 11


def schedule_run(proxy, seed, count=120):
    proxy.reset_counters()
    proxy.random(rate=0.25, seed=seed, kinds=[SLOWDOWN, INTERNAL, CORRUPT_BODY])
    conn = connect(proxy)
    outcomes = []
    for number in range(count):
        if number % 3 == 2:
            response, body = get(conn, "/put", method="PUT", body=b"abc")
            outcomes.append((response.status, None))
        else:
            response, body = get(conn, "/data/64")
            outcomes.append((response.status, body == payload(64)))
    conn.close()
    return [seen.fault for seen in proxy.history], outcomes


def test_random_schedule_is_reproducible_with_its_seed(proxy):
    first, outcomes = schedule_run(proxy, seed=11)
    again, outcomes_again = schedule_run(proxy, seed=11)
    other, _ = schedule_run(proxy, seed=12)
    assert first == again and outcomes == outcomes_again
    assert first != other
    faulted = [fault for fault in first if fault is not None]
    assert 10 <= len(faulted) <= 55  # 25% of 120
    assert set(faulted) == {SLOWDOWN, INTERNAL, CORRUPT_BODY}
    puts = [fault for number, fault in enumerate(first) if number % 3 == 2]
    assert CORRUPT_BODY not in puts  # body faults only for object reads
    corrupted = sum(1 for status, right in outcomes if status == 200 and right is False)
    assert corrupted == first.count(CORRUPT_BODY) > 0


def test_random_schedule_does_not_depend_on_the_order_of_requests(proxy):
    targets = [f"/data/{size}" for size in range(1, 201)]
    shuffled = random.Random(5).sample(targets, len(targets))
    faults = []
    for order in (targets, shuffled):
        proxy.reset_counters()
        proxy.random(rate=0.2, seed=3, kinds=[SLOWDOWN, CUT_BODY_FIX_LENGTH])
        conn = connect(proxy)
        for target in order:
            get(conn, target)
        faults.append({seen.target: seen.fault for seen in proxy.history})
    assert faults[0] == faults[1]
    assert 15 <= sum(fault is not None for fault in faults[0].values()) <= 65


def test_forced_rules_come_before_the_random_schedule(proxy):
    proxy.random(rate=1.0, seed=1, kinds=[INTERNAL])
    proxy.force(SLOWDOWN, times=1)
    conn = connect(proxy)
    assert [get(conn, "/data/5")[0].status for _ in range(3)] == [503, 500, 500]
    proxy.clear()
    assert get(conn, "/data/5")[0].status == 200


def test_only_loopback_upstreams_and_fault_kinds_are_known():
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy(("10.1.2.3", 80))
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy("http://example.com:80")
    assert Fault("cut_body_fix_length") is CUT_BODY_FIX_LENGTH
    with pytest.raises(ValueError):
        FaultProxy(("127.0.0.1", 9)).force("nonsense")


def test_stop_ends_stalls_connections_and_threads(upstream):
    proxy = FaultProxy(upstream.server_address, stall_seconds=60).start()
    port = proxy.port
    proxy.force(STALL, times=5)
    clients = [connect(proxy, timeout=30) for _ in range(3)]
    errors: list[BaseException] = []

    def wait_for_answer(conn):
        try:
            conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(exc)

    waiting = []
    for conn in clients:
        conn.request("GET", "/data/10")
        thread = threading.Thread(target=wait_for_answer, args=(conn,))
        thread.start()
        waiting.append(thread)
    deadline = time.monotonic() + 5
    while proxy.faults.get("stall", 0) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proxy.faults == {"stall": 3}
    started = time.monotonic()
    proxy.stop()
    for thread in waiting:
        thread.join(5)
    assert time.monotonic() - started < 3
    assert not any(thread.is_alive() for thread in waiting)
    assert len(errors) == 3  # each client saw its connection end without an answer
    assert not [t for t in threading.enumerate() if t.name.startswith("fault-proxy")]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
