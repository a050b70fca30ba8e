"""Process-wide cancellation: a front end that is asked to stop (Ctrl-C, SIGTERM) sets it,
and long transfers check it between parts, so they stop and clean up (abort) promptly."""

from __future__ import annotations

import threading

from .errors import Cancelled

_cancelled = threading.Event()


def cancel() -> None:
    """Ask every transfer in the process to stop at its next part."""
    _cancelled.set()


def reset() -> None:
    """Let transfers run again (after the cancelled work has been cleaned up)."""
    _cancelled.clear()


def check_cancelled() -> None:
    """Raise Cancelled when the process was asked to stop."""
    if _cancelled.is_set():
        raise Cancelled("interrupted; the transfer was stopped and cleaned up")
