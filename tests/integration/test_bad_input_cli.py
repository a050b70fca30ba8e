"""Bad input through the real `s3c` executable: exit code 2, one line `error: FIELD: RULE`, no
traceback, nothing written, and no connection to the endpoint (a TCP listener that counts
them). The whole corpus runs in-process in tests/unit/test_bad_input.py; these prove it end to
end, including what only a real process sees: command-line arguments that are not UTF-8."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from request_counter import Listener

S3C = str(Path(sys.executable).with_name("s3c"))


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def endpoint(listener, monkeypatch, tmp_path):
    """A connection file on the listener; AWS_ENDPOINT_URL points there too, so a connection
    without endpoint_url (Amazon S3) could not reach anything else."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.setenv(name, listener.url)
    monkeypatch.delenv("S3C_DEBUG", raising=False)
    settings = {
        "auth": "access_keys",
        "access_key_id": "AKIABADINPUT",
        "secret_access_key": "bad-input-secret",
        "region": "us-east-1",
        "endpoint_url": listener.url,
        "addressing_style": "path",
        "max_attempts": 1,
        "connect_timeout": 2,
        "read_timeout": 2,
    }
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(settings))
    return path


def s3c(*args: str | bytes | Path, input: bytes | None = None) -> subprocess.CompletedProcess:
    argv = [os.fsencode(S3C), *(a if isinstance(a, bytes) else os.fsencode(str(a)) for a in args)]
    return subprocess.run(argv, input=input, capture_output=True, timeout=120)


def assert_refused(done: subprocess.CompletedProcess, field: str) -> str:
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr
    assert done.returncode == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"error: {field}: "), lines[0]
    assert done.stdout == b""
    return lines[0]


def test_cases_end_to_end(endpoint, listener, tmp_path):
    source = tmp_path / "report.txt"
    source.write_bytes(b"content")
    out = tmp_path / "out"
    not_utf8 = tmp_path / "latin1.json"
    not_utf8.write_bytes(b'{"bucket": "demo", "key": "caf\xe9.txt"}')
    bad_connection = tmp_path / "bad-conn.json"
    bad_connection.write_bytes(b'{"region": "\xff"}')
    aws_connection = tmp_path / "aws-conn.json"
    aws_connection.write_text(json.dumps({"region": "local", "max_attempts": 1}))
    get = ["run", "get_object", "-c", endpoint, "-p", "bucket=demo", "--output", f"{out}/"]
    presign = ["run", "presign", "-c", endpoint, "-p", "bucket=demo", "-p", "key=a"]
    put = ["run", "put_object", "-c", endpoint, "-p", "bucket=demo"]
    cases = [
        # a command-line argument that is not UTF-8 arrives as a lone surrogate
        ([*get, "-p", b"key=caf\xe9.txt"], "key", "lone surrogate"),
        ([*get, "-p", "key=a.txt", "-p", "range=bytes=5-2"], "range", "first byte"),
        ([*get, "-p", "key=a.txt", "-p", "region=eu-west-1\n"], "region", "region name"),
        ([*get, "-p", "key=a\x01b"], "key", "control characters"),
        (["run", "get_object", "-c", endpoint, "--config", not_utf8], "--config", "not UTF-8"),
        (["run", "get_object", "-c", bad_connection, "-p", "bucket=demo"], "connection", "UTF-8"),
        (
            ["run", "get_object", "-c", aws_connection, "-p", "bucket=demo", "-p", "key=a"],
            "connection.region",
            "AWS region",
        ),
        (
            ["run", "list_objects", "-c", endpoint, "-p", "bucket=demo", "-p", "max_results=1.5"],
            "max_results",
            "whole number",
        ),
        (
            [*presign, "-p", "expires_in=1.5"],
            "expires_in",
            "whole number",
        ),
        (
            [*put, "-p", "folder=" + "f" * 1020, "--input", source],
            "file_name",
            "1024 bytes",
        ),
    ]
    before = listener.count()
    for args, field, rule in cases:
        line = assert_refused(s3c(*args), field)
        assert rule in line, line
    assert listener.count() == before, "a request was sent"
    assert not out.exists() or not any(out.iterdir())


def test_serve_answers_bad_requests_with_invalid_input(endpoint, listener):
    requests = [
        {"id": 1, "activity": "get_object", "config": {"bucket": "demo", "key": "a\udcffb"}},
        {"id": 2, "activity": "get_object", "config": {"bucket": "demo", "key": "k" * 1025}},
        {
            "id": 3,
            "activity": "read",
            "config": {"bucket": "demo", "key": "a", "range": "bytes=-0"},
        },
        {"id": 4, "activity": "list_objects", "config": {"bucket": "demo", "max_results": "1.5"}},
        {
            "id": 5,
            "activity": "get_object",
            "connection": {"region": "eu-west-1\n"},
            "config": {"bucket": "demo", "key": "a"},
        },
    ]
    fields = ["key", "key", "range", "max_results", "connection.region"]
    text = "".join(json.dumps(request) + "\n" for request in requests).encode()
    before = listener.count()
    done = subprocess.run(
        [S3C, "serve", "-c", str(endpoint)], input=text, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [answer["request_id"] for answer in answers] == [1, 2, 3, 4, 5]
    for answer, field in zip(answers, fields, strict=True):
        assert answer["status"] == "error" and answer["exit_code"] == 2, answer
        assert answer["error"]["kind"] == "invalid_input" and answer["error"]["field"] == field
    assert listener.count() == before, "a request was sent"


def test_the_listener_counts_a_valid_request(endpoint, listener):
    """The control: a valid run reaches the listener, which answers nothing (exit 4)."""
    before = listener.count()
    done = s3c("run", "get_object", "-c", endpoint, "-p", "bucket=demo", "-p", "key=a.txt")
    assert done.returncode == 4, done.stderr
    assert listener.count() > before
