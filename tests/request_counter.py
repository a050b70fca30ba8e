"""A request counter for tests that must prove nothing was sent: a TCP listener on loopback
used as the connection's endpoint."""

from __future__ import annotations

import contextlib
import socket
import threading


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts and closes each at
    once, so any request sent to it fails. `count()` is exact: it connects a marker of its own
    from a known port and waits until that marker is accepted; connections are accepted in
    order, so every earlier one has been counted by then (markers never are)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.server.getsockname()[1]
        self._accepted = 0
        self._marker_ports: set[int] = set()
        self._markers_seen: set[int] = set()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, peer = self.server.accept()
            except OSError:
                return
            conn.close()
            with self._changed:
                if peer[1] in self._marker_ports:
                    self._markers_seen.add(peer[1])
                else:
                    self._accepted += 1
                self._changed.notify_all()

    def count(self) -> int:
        """Connections accepted so far, the markers of `count` left out."""
        with socket.socket() as marker:
            marker.bind(("127.0.0.1", 0))
            port = marker.getsockname()[1]
            with self._changed:
                self._marker_ports.add(port)
            marker.settimeout(5)
            marker.connect(("127.0.0.1", self.port))
            with self._changed:
                if not self._changed.wait_for(lambda: port in self._markers_seen, timeout=5):
                    raise AssertionError("the request counter did not see its own marker")
                self._marker_ports.discard(port)
                self._markers_seen.discard(port)
                return self._accepted

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
