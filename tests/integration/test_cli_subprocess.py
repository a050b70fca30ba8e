"""The real `s3c` executable against SeaweedFS, as a user runs it."""

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import limit_file_size, new_sse_c_key

S3C = str(Path(sys.executable).with_name("s3c"))


def s3c(*args, input=None):
    return subprocess.run([S3C, *map(str, args)], input=input, capture_output=True, timeout=120)


@pytest.fixture
def conn_file(seaweed_settings, tmp_path):
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(seaweed_settings))
    return path


def test_put_file_then_get_it_back_byte_identical(conn_file, seaweed_bucket, tmp_path):
    source = tmp_path / "report.pdf"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    put = s3c(
        "run", "put_object", "-c", conn_file, "-p", f"bucket={seaweed_bucket}", "--input", source
    )
    assert put.returncode == 0, put.stderr
    stored = json.loads(put.stdout)
    assert stored["key"] == "report.pdf" and stored["content_type"] == "application/pdf"
    target = tmp_path / "back.pdf"
    got = s3c(
        "run",
        "get_object",
        "-c",
        conn_file,
        "-p",
        f"bucket={seaweed_bucket}",
        "-p",
        "key=report.pdf",
        "--output",
        target,
    )
    assert got.returncode == 0, got.stderr
    assert target.read_bytes() == source.read_bytes()
    assert json.loads(got.stdout)["size"] == source.stat().st_size


def test_sse_c_through_the_cli(conn_file, seaweed_bucket):
    key = new_sse_c_key()
    common = ["-c", conn_file, "-p", f"bucket={seaweed_bucket}", "-p", "key=enc.txt"]
    put = s3c(
        "run", "put_object", *common, "-p", f"sse_c_key={key}", "--input", "-", input=b"classified"
    )
    assert put.returncode == 0, put.stderr
    good = s3c("run", "get_object", *common, "-p", f"sse_c_key={key}")
    assert good.returncode == 0 and json.loads(good.stdout)["content"] == "classified"
    missing = s3c("run", "get_object", *common)
    assert missing.returncode == 2
    [line] = missing.stderr.decode().strip().splitlines()
    assert line.startswith("error: sse_c_key: the object is encrypted with SSE-C")
    wrong = s3c("run", "get_object", *common, "-p", f"sse_c_key={new_sse_c_key()}")
    assert wrong.returncode == 3 and b"AccessDenied" in wrong.stderr
    for result in (put, good, missing, wrong):
        assert key.encode() not in result.stdout + result.stderr


def test_local_server_starts_prints_a_connection_and_stops_on_ctrl_c(tmp_path):
    process = subprocess.Popen(
        [S3C, "local", "--dir", tmp_path / "data"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        endpoint = process.stdout.readline().decode()
        connection = json.loads(process.stdout.readline().decode().partition(": ")[2])
        assert endpoint.startswith("endpoint: http://127.0.0.1:")
        assert connection["endpoint_url"] == endpoint.split(": ", 1)[1].strip()
        conn = tmp_path / "conn.json"
        conn.write_text(json.dumps(connection))
        check = s3c("connection", "test", "-c", conn)
        assert check.returncode == 0 and json.loads(check.stdout)["ok"] is True
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    time.sleep(0.5)
    assert (
        subprocess.run(["pgrep", "-f", str(tmp_path / "data")], capture_output=True).stdout == b""
    )


def test_local_writes_the_connection_file_the_next_commands_use(tmp_path):
    conn = tmp_path / "conn.json"
    conn.write_text("stale")
    conn.chmod(0o644)
    process = subprocess.Popen(
        [S3C, "local", "--dir", tmp_path / "data", "--bucket", "tour", "--write-conn", conn],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        process.stdout.readline()
        printed = json.loads(process.stdout.readline().decode().partition(": ")[2])
        deadline = time.monotonic() + 30
        while conn.read_text() == "stale" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(conn.read_text()) == printed
        assert conn.stat().st_mode & 0o777 == 0o600
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".conn")] == []
        source = tmp_path / "hello.txt"
        source.write_text("hello")
        put = s3c("run", "put_object", "-c", conn, "-p", "bucket=tour", "--input", source)
        assert put.returncode == 0, put.stderr
        assert json.loads(put.stdout)["key"] == "hello.txt"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert f"connection written to {conn}" in process.stderr.read().decode()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.parametrize("to_directory", [False, True], ids=["file", "directory"])
def test_an_output_that_cannot_be_written_is_a_local_io_error(
    conn_file, seaweed_client, seaweed_bucket, tmp_path, to_directory
):
    """Python ignores SIGXFSZ: a write past the file size limit fails as a full disk would."""
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="big/one.bin", Body=os.urandom(12 << 20))
    out = tmp_path / "out"
    out.mkdir()
    target = out if to_directory else out / "copy.bin"
    argv = ["run", "get_object", "-c", conn_file, "-p", f"bucket={seaweed_bucket}"]
    argv += ["-p", "key=big/one.bin", "--output", target]
    result = subprocess.run(
        [S3C, *map(str, argv)],
        capture_output=True,
        timeout=120,
        preexec_fn=functools.partial(limit_file_size, 4 << 20),
    )
    assert result.returncode == 1, result.stderr
    shown = f"big/one.bin under {out}" if to_directory else str(target)
    assert result.stderr.decode().splitlines() == [
        f"error: --output: cannot write {shown}: File too large"
    ]
    assert result.stdout == b""
    assert [path.name for path in out.rglob("*") if path.is_file()] == []
