"""A forward HTTP proxy on loopback, for tests of clients that read HTTP_PROXY and
HTTPS_PROXY: it takes each plain-HTTP request in absolute form (`PUT
http://127.0.0.1:8333/bucket/key HTTP/1.1`), sends it on to its origin and relays the answer;
a CONNECT (how a client reaches an https endpoint through a proxy) becomes a tunnel of bytes
to the host and port it names. It records every request and tunnel."""

from __future__ import annotations

import http.client
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class ForwardProxy:
    """`url` is the proxy's address; `requests` lists (method, absolute URL) of every request
    relayed, and ("CONNECT", "host:port") of every tunnel. A request not in absolute form, or
    with a chunked body, is answered 400."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Relay(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _relay(self) -> None:
                target = urlsplit(self.path)
                chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
                if target.scheme != "http" or not target.hostname or chunked:
                    self.send_error(400, "absolute-form http request with a length expected")
                    return
                with proxy._lock:
                    proxy.requests.append((self.command, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower() not in HOP_BY_HOP
                }
                origin = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=60)
                try:
                    path = target.path + (f"?{target.query}" if target.query else "")
                    origin.request(self.command, path or "/", body=body, headers=headers)
                    answer = origin.getresponse()
                    content = answer.read()
                    self.send_response(answer.status, answer.reason)
                    for name, value in answer.getheaders():
                        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                            self.send_header(name, value)
                    head = self.command == "HEAD"  # no body: the origin's length stands
                    length = answer.getheader("Content-Length", "0") if head else len(content)
                    self.send_header("Content-Length", str(length))
                    self.end_headers()
                    if not head:
                        self.wfile.write(content)
                finally:
                    origin.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _relay

            def do_CONNECT(self) -> None:
                host, _, port = self.path.rpartition(":")
                try:
                    upstream = socket.create_connection((host, int(port)), timeout=60)
                except (OSError, ValueError):
                    self.send_error(502, "cannot reach the host")
                    return
                with proxy._lock:
                    proxy.requests.append(("CONNECT", self.path))
                self.send_response(200, "Connection Established")
                self.end_headers()
                self.close_connection = True
                with upstream:
                    _tunnel(self.connection, upstream)

        return Relay


def _tunnel(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [client, upstream]
    while True:
        readable, _, _ = select.select(sockets, [], [], 60)
        if not readable:
            return
        for source in readable:
            data = source.recv(256 * 1024)
            if not data:
                return
            (upstream if source is client else client).sendall(data)
