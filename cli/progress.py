"""The progress bar of `s3c run` on standard error: bytes moved, rate, time left, and
documents done out of the total. Drawn with rich, only when stderr is a terminal (or
`--progress`), and removed when the run ends, so the JSON lines stay as they are."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def wanted(choice: bool | None) -> bool:
    """`--progress` / `--no-progress` when given, else whether stderr is a terminal."""
    if choice is not None:
        return choice
    return sys.stderr.isatty()


class ProgressBar:
    """A `connector.progress.Meter` drawn by rich. The byte total is the one given (the
    sizes of the input files), else the sum of what the transfers announce."""

    def __init__(self, *, documents: int | None, total_bytes: int | None, force_terminal: bool):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._documents = documents
        self._done = 0
        self._fixed_total = total_bytes is not None
        self._lock = threading.Lock()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr, force_terminal=force_terminal or None),
            transient=True,
            redirect_stdout=False,  # the JSON lines stay on stdout, piped or not
        )
        self._task = self._progress.add_task(self._description(), total=total_bytes)

    def _description(self) -> str:
        total = "" if self._documents is None else f"/{self._documents}"
        return f"{self._done}{total} documents"

    def expect(self, count: int) -> None:
        if self._fixed_total:
            return
        with self._lock:
            task = self._progress.tasks[0]
            self._progress.update(self._task, total=(task.total or 0) + count)

    def advance(self, count: int) -> None:
        self._progress.advance(self._task, count)

    def document_done(self) -> None:
        with self._lock:
            self._done += 1
            self._progress.update(self._task, description=self._description())

    def __enter__(self) -> ProgressBar:
        from s3_connector.connector import progress

        self._progress.start()
        progress.install(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        from s3_connector.connector import progress

        progress.install(None)
        self._progress.stop()


@contextlib.contextmanager
def shown(choice: bool | None, documents: list[Any]) -> Iterator[ProgressBar | None]:
    """A progress bar over `documents` (input documents) while the block runs, when wanted;
    the byte total is the sum of their files' sizes when every one is a file."""
    if not wanted(choice):
        yield None
        return
    sizes = [document.size for document in documents]
    known = bool(sizes) and all(size is not None for size in sizes)
    with ProgressBar(
        documents=len(documents) or None,
        total_bytes=sum(sizes) if known and any(sizes) else None,
        force_terminal=bool(choice),
    ) as bar:
        yield bar


def counted(outcomes: Iterable[T], bar: ProgressBar | None) -> Iterator[T]:
    """`outcomes`, with each one counted as a document done."""
    for outcome in outcomes:
        if bar is not None:
            bar.document_done()
        yield outcome
