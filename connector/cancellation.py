"""Cancellation: the whole process (a front end asked to stop: Ctrl-C, SIGTERM), or the work
of one request (an agent's cancel line or deadline, in a `scope`). Long transfers check it
between parts and while they wait, so they stop and clean up (abort) promptly.

A scope lives in a context variable: work handed to a thread pool keeps it when submitted
with `submit` (a plain `ThreadPoolExecutor.submit` starts the task in an empty context)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any, Generic, Protocol, TypeVar

from .errors import Cancelled

T = TypeVar("T")
U = TypeVar("U")
T_co = TypeVar("T_co", covariant=True)

_cancelled = threading.Event()
_scope: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "s3_connector_cancel_scope", default=None
)


def cancel() -> None:
    """Ask every transfer in the process to stop at its next part."""
    _cancelled.set()


def reset() -> None:
    """Let transfers run again (after the cancelled work has been cleaned up)."""
    _cancelled.clear()


@contextmanager
def scope(event: threading.Event) -> Iterator[None]:
    """Work done within (and handed to pools with `submit`) stops once `event` is set."""
    token = _scope.set(event)
    try:
        yield
    finally:
        _scope.reset(token)


def submit(pool: Executor, function: Callable[..., T], *args: Any) -> Future[T]:
    """`pool.submit`, running `function` in the caller's context (its cancellation scope)."""
    return pool.submit(contextvars.copy_context().run, function, *args)


def check_cancelled() -> None:
    """Raise Cancelled when the process, or the request being worked on, was asked to stop."""
    if _cancelled.is_set():
        raise Cancelled("interrupted; the transfer was stopped and cleaned up")
    event = _scope.get()
    if event is not None and event.is_set():
        raise Cancelled("cancelled; the transfer was stopped and cleaned up")


class Waiting(Protocol[T_co]):
    """Work sent and not yet waited for, as a `Future` is: `result()` waits for it (and
    raises its error), `cancel()` asks it to stop."""

    def result(self) -> T_co: ...

    def cancel(self) -> Any: ...


class Sent(Waiting[T_co], Protocol):
    """Work sent, which also tells when it is done: `when_done(callback)` calls `callback()`
    once `result()` would not wait (at once if it already would not, else on another
    thread)."""

    def when_done(self, callback: Callable[[], None]) -> None: ...


class Ready(Generic[T]):
    """Work with nothing to wait for: `result()` runs `work` (returning its value or raising
    its error); `when_done` calls back at once."""

    def __init__(self, work: Callable[[], T]):
        self._work = work

    @classmethod
    def failed(cls, error: BaseException) -> Ready[Any]:
        """What raises `error` when its result is asked for."""

        def fail() -> Any:
            raise error

        return cls(fail)

    def result(self) -> T:
        return self._work()

    def cancel(self) -> bool:
        return False

    def when_done(self, callback: Callable[[], None]) -> None:
        callback()


class Then(Generic[T, U]):
    """What `waiting`'s result becomes through `then`, waited for when asked; cancelling
    it cancels `waiting`."""

    def __init__(self, waiting: Sent[T], then: Callable[[T], U]):
        self._waiting = waiting
        self._then = then

    def result(self) -> U:
        return self._then(self._waiting.result())

    def cancel(self) -> Any:
        return self._waiting.cancel()

    def when_done(self, callback: Callable[[], None]) -> None:
        self._waiting.when_done(callback)
