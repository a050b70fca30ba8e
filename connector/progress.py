"""Byte progress of the transfers in this process, for a host that shows it (the CLI's
progress bar). The data planes and the verified reader report to the installed meter; with
none installed, reports cost a method call."""

from __future__ import annotations

from typing import Protocol


class Meter(Protocol):
    """Told the bytes a transfer is about to move and the bytes moved; called from any
    thread (CRT's threads included), so an implementation is thread-safe."""

    def expect(self, count: int) -> None: ...

    def advance(self, count: int) -> None: ...


class _Silent:
    def expect(self, count: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


_SILENT = _Silent()
_meter: Meter = _SILENT


def meter() -> Meter:
    """The installed meter, or one that ignores every report."""
    return _meter


def install(new: Meter | None) -> None:
    """Report to `new` from now on (None: to nobody)."""
    global _meter
    _meter = new if new is not None else _SILENT
