"""Writes at an offset in bounded slices (connector/file_writes.py)."""

from __future__ import annotations

import os

from s3_connector.connector import file_writes
from s3_connector.connector.file_writes import WRITE_SLICE, write_at


def test_content_is_written_at_its_offset_in_slices_that_may_come_up_short(tmp_path, monkeypatch):
    sizes = []
    pwrite = os.pwrite

    def short_pwrite(descriptor, data, offset):
        sizes.append(len(data))
        return pwrite(descriptor, bytes(data)[: max(1, len(data) // 2)], offset)

    monkeypatch.setattr(file_writes.os, "pwrite", short_pwrite)
    data = os.urandom(3 * WRITE_SLICE + 123)
    path = tmp_path / "file.bin"
    path.write_bytes(b"x" * 10)
    descriptor = os.open(path, os.O_WRONLY)
    try:
        write_at(descriptor, bytearray(data), 10)
    finally:
        os.close(descriptor)
    assert path.read_bytes() == b"x" * 10 + data
    assert max(sizes) == WRITE_SLICE, "no call carries more than one slice"
    assert len(sizes) > 4, "short writes are continued"
