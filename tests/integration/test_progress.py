"""The progress bar of `s3c run` on stderr: shown on a terminal (a real pseudo-terminal here),
forced by --progress, never when stderr is not a terminal, and never on stdout."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

S3C = str(Path(sys.executable).with_name("s3c"))
MiB = 1024 * 1024


@pytest.fixture
def conn_file(seaweed_settings, tmp_path):
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(seaweed_settings))
    return path


def big_file(path: Path, size: int) -> Path:
    with path.open("wb") as file:
        block = os.urandom(MiB)
        for _ in range(size // MiB):
            file.write(block)
    return path


def run_with_terminal_stderr(argv: list[str]) -> tuple[int, bytes, bytes]:
    """Run `argv` with stderr on a pseudo-terminal and stdout on a pipe: (status, stdout,
    what the terminal showed)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL
    )
    os.close(terminal)
    shown = bytearray()
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            process.kill()
            pytest.fail("no output from s3c for 120 s")
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    stdout = process.stdout.read()
    status = process.wait(timeout=120)
    os.close(controller)
    return status, stdout, bytes(shown)


def test_a_300_mib_put_on_a_terminal_shows_bytes_rate_and_documents(
    conn_file, seaweed_bucket, tmp_path
):
    source = big_file(tmp_path / "big.bin", 300 * MiB)
    argv = [S3C, "run", "put_object", "-c", str(conn_file), "-p", f"bucket={seaweed_bucket}"]
    status, stdout, shown = run_with_terminal_stderr([*argv, "--input", str(source)])
    assert status == 0, shown.decode(errors="replace")
    assert json.loads(stdout)["size"] == 300 * MiB
    text = shown.decode(errors="replace")
    assert "300.0/300.0 MiB" in text and "documents" in text
    assert "/1 documents" in text
    assert "MB/s" in text or "?" in text


def test_piped_stderr_shows_no_progress(conn_file, seaweed_bucket, tmp_path):
    source = big_file(tmp_path / "mid.bin", 24 * MiB)
    argv = [S3C, "run", "put_object", "-c", conn_file, "-p", f"bucket={seaweed_bucket}"]
    put = subprocess.run(
        [*argv, "--input", source],
        capture_output=True,
        timeout=120,
    )
    assert put.returncode == 0, put.stderr
    assert put.stderr == b""
    assert json.loads(put.stdout)["size"] == 24 * MiB


def test_progress_forced_and_no_progress_on_a_terminal(conn_file, seaweed_bucket, tmp_path):
    source = big_file(tmp_path / "mid.bin", 24 * MiB)
    common = ["run", "put_object", "-c", str(conn_file), "-p", f"bucket={seaweed_bucket}"]
    forced = subprocess.run(
        [S3C, *common, "--input", str(source), "--progress"], capture_output=True, timeout=120
    )
    assert forced.returncode == 0, forced.stderr
    assert b"/24.0 MiB" in forced.stderr and b"documents" in forced.stderr
    assert json.loads(forced.stdout)["key"] == "mid.bin"
    status, stdout, shown = run_with_terminal_stderr(
        [S3C, *common, "--input", str(source), "--no-progress"]
    )
    assert status == 0 and json.loads(stdout)["key"] == "mid.bin"
    assert b"MiB" not in shown


def test_a_get_and_a_directory_of_files_report_their_bytes(conn_file, seaweed_bucket, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(5):
        (folder / f"f{index}.bin").write_bytes(os.urandom(MiB))
    common = ["-c", str(conn_file), "-p", f"bucket={seaweed_bucket}", "--progress"]
    put = subprocess.run(
        [S3C, "run", "put_object", *common, "-p", "folder=many", "--input", str(folder)],
        capture_output=True,
        timeout=120,
    )
    assert put.returncode == 0, put.stderr
    assert b"5/5 documents" in put.stderr and b"5.0/5.0 MiB" in put.stderr
    target = tmp_path / "back.bin"
    got = subprocess.run(
        [S3C, "run", "get_object", *common, "-p", "key=many/f3.bin", "--output", str(target)],
        capture_output=True,
        timeout=120,
    )
    assert got.returncode == 0, got.stderr
    assert b"1/1 documents" in got.stderr and b"1.0/1.0 MiB" in got.stderr
    assert target.read_bytes() == (folder / "f3.bin").read_bytes()
