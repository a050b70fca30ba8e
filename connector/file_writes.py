"""Writing bytes at an offset of a local file, in slices the page cache takes cheaply."""

from __future__ import annotations

import os
from typing import Any

WRITE_SLICE = 256 * 1024
"""The most bytes one write call carries. On the bench machine (a Linux 6.18 VM), a 512 MiB
download written in 8 MiB calls cost 0.3 to 3.7 s of system time, varying from run to run,
most of it the kernel copying into the page cache; in 1 MiB calls 1.1 to 1.6 s; in 256 KiB
calls 0.38 to 0.5 s, about what s5cmd (32 KiB calls) spends (2026-12-04, 3 to 10 runs
each). The kernel takes a page-cache folio as large as the write, and that VM reports free
blocks of 2 MiB and more to its host (free page reporting), which must hand them back when
they are touched again: 512 MiB in 8 MiB writes took 3.07 s after 8 s of free memory, 0.14 s
at once; in 256 KiB writes 0.12 to 0.16 s either way (docs/benchmarks.md)."""


def write_at(descriptor: int, data: Any, offset: int) -> None:
    """Write all of `data` (bytes-like) at `offset` of the open file, `WRITE_SLICE` bytes at a
    time, however many calls it takes."""
    view = memoryview(data).cast("B")
    while view.nbytes:
        count = os.pwrite(descriptor, view[:WRITE_SLICE], offset)
        view, offset = view[count:], offset + count
