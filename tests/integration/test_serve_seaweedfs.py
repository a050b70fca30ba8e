"""`s3c serve` as a real child process against SeaweedFS: many requests on one stdin."""

import base64
import json
import os
import re
import selectors
import subprocess
import sys
from pathlib import Path

import pytest

REQUESTS = 1000
AGENT_PROTOCOL = Path(__file__).parents[2] / "docs" / "agent-protocol.md"


def serve_argv(*args):
    """The real `s3c serve` of this environment."""
    return [str(Path(sys.executable).with_name("s3c")), "serve", *args]


@pytest.fixture
def conn_file(seaweed_settings, tmp_path):
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(seaweed_settings))
    return str(path)


def put_request(number, bucket, data):
    return {
        "id": f"put-{number}",
        "activity": "put_object",
        "config": {"bucket": bucket, "key": f"many/{number:04d}.bin"},
        "documents": [{"content_base64": base64.b64encode(data).decode()}],
    }


def test_a_thousand_put_object_requests_on_one_stdin(conn_file, seaweed_bucket, seaweed_client):
    payloads = [os.urandom(1024) for _ in range(REQUESTS)]
    stdin = "".join(
        json.dumps(put_request(n, seaweed_bucket, data)) + "\n" for n, data in enumerate(payloads)
    )
    result = subprocess.run(
        serve_argv("-c", conn_file),
        input=stdin.encode(),
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(lines) == 2 * REQUESTS
    finals = [line for line in lines if "status" in line]
    assert [line["request_id"] for line in finals] == [f"put-{n}" for n in range(REQUESTS)]
    assert {line["status"] for line in finals} == {"ok"}
    stored = [line["properties"] for line in lines if "properties" in line]
    assert {(p["key"], p["size"]) for p in stored} == {
        (f"many/{n:04d}.bin", 1024) for n in range(REQUESTS)
    }
    pages = seaweed_client.get_paginator("list_objects_v2").paginate(
        Bucket=seaweed_bucket, Prefix="many/"
    )
    listed = {item["Key"]: item["Size"] for page in pages for item in page.get("Contents", [])}
    assert listed == {f"many/{n:04d}.bin": 1024 for n in range(REQUESTS)}
    sample = seaweed_client.get_object(Bucket=seaweed_bucket, Key="many/0777.bin")
    assert sample["Body"].read() == payloads[777]


def read_line(process, selector, timeout=60):
    assert selector.select(timeout), "no answer within the timeout"
    return json.loads(process.stdout.readline())


def test_answers_each_request_before_the_next_one_is_sent(
    conn_file, seaweed_bucket, seaweed_settings
):
    """An agent can hold the pipe open and talk: every line is flushed as it is produced."""
    process = subprocess.Popen(
        serve_argv("-c", conn_file, "--workers", "2"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        bufsize=0,  # unbuffered: readline never reads past the line select() announced
    )
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:

        def ask(request):
            process.stdin.write((json.dumps(request) + "\n").encode())
            process.stdin.flush()

        ask(put_request(1, seaweed_bucket, b"one"))
        assert read_line(process, selector)["properties"]["size"] == 3
        assert read_line(process, selector)["status"] == "ok"
        ask(
            {
                "id": "get",
                "activity": "get_object",
                "connection": seaweed_settings,
                "config": {"bucket": seaweed_bucket, "key": "many/0001.bin"},
            }
        )
        fetched = read_line(process, selector)
        assert fetched["request_id"] == "get"
        assert base64.b64decode(fetched["content"]) == b"one"
        assert read_line(process, selector)["status"] == "ok"
        ask(
            {
                "id": "gone",
                "activity": "get_object",
                "config": {"bucket": seaweed_bucket, "key": "many/none"},
            }
        )
        gone = read_line(process, selector)
        assert (gone["request_id"], gone["exit_code"]) == ("gone", 3)
        process.stdin.close()
        assert process.wait(timeout=60) == 0
        assert process.stdout.read() == b""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        selector.close()


def documented_example():
    """The first sh block of docs/agent-protocol.md ("Warm agent mode"), or None."""
    text = AGENT_PROTOCOL.read_text(encoding="utf-8")
    block = text.startswith("# Warm agent mode") and re.search(r"```sh\n(.*?)```", text, re.S)
    return block.group(1) if block else None


def test_the_documented_example_runs_as_written(seaweed, tmp_path):
    example = documented_example()
    assert example is not None, "docs/agent-protocol.md has no sh example"
    client = seaweed.client()
    if "demo" not in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket="demo")
    (tmp_path / "conn.json").write_text(json.dumps(seaweed.connection_settings()))
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", example],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    statuses = {line["request_id"]: line["status"] for line in lines if "status" in line}
    assert statuses == {
        "put-1": "ok",
        "put-2": "ok",
        "get-1": "ok",
        "oops": "error",
        "get-2": "ok",
        "list": "ok",
    }
    assert (tmp_path / "downloads/examples/serve/orders.csv").read_bytes() == b"id,total\n1,9.50\n"
