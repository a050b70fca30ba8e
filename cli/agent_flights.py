"""Requests in flight in the version 2 agent: at most one per id, each answered once (by its
own end, a cancel line, its deadline or shutdown), whichever comes first."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Flight:
    """One accepted request, from its line being read to its status line being written."""

    id: Any
    line: int
    started: float = field(default_factory=time.monotonic)
    answered: bool = False
    documents: int = 0
    timer: threading.Timer | None = None
    upload: Any = None
    """The `ChunkStream` of a document whose content arrives in chunk lines."""
    upload_index: int = -1
    chunked_output: bool = False
    output_fifo: str | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    """Set when the request is cancelled or its deadline passes: its transfers stop at their
    next check and clean up (`cancellation.scope`)."""


class Flights:
    """The requests in flight by id; `lock` also guards writing their lines, so that no
    document line follows a request's status line."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._idle = threading.Condition(self.lock)
        self._by_id: dict[str, Flight] = {}

    @staticmethod
    def _key(request_id: Any) -> str:
        return f"{type(request_id).__name__}:{request_id!r}"

    def open(self, request_id: Any, line: int) -> Flight | None:
        """A new flight, or None when a request with this id is already in flight."""
        with self.lock:
            key = self._key(request_id)
            if key in self._by_id:
                return None
            flight = self._by_id[key] = Flight(request_id, line)
            return flight

    def find(self, request_id: Any) -> Flight | None:
        with self.lock:
            return self._by_id.get(self._key(request_id))

    def close(self, flight: Flight) -> bool:
        """Mark `flight` answered; False when it was already (the caller then writes nothing)."""
        with self.lock:
            if flight.answered:
                return False
            flight.answered = True
            if flight.timer is not None:
                flight.timer.cancel()
            if flight.upload is not None:
                flight.upload.abandon()
            self._by_id.pop(self._key(flight.id), None)
            self._idle.notify_all()
            return True

    def pending(self) -> list[Flight]:
        with self.lock:
            return list(self._by_id.values())

    def wait_idle(self, seconds: float) -> bool:
        """Wait up to `seconds` for every flight to be answered; True when none is left."""
        end = time.monotonic() + seconds
        with self.lock:
            while self._by_id:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True
