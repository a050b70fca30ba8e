"""`s3c serve` as a real child process against SeaweedFS: many requests on one stdin."""

import base64
import functools
import json
import os
import re
import selectors
import subprocess
import sys
from pathlib import Path

import pytest
from support import limit_file_size

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


def test_many_workers_answer_every_request_whatever_its_outcome(
    conn_file, seaweed_bucket, seaweed_client, data_plane
):
    """With --workers, a small put on the CRT plane is sent by a worker that does not wait
    for it and answered by one thread as S3 answers: each request still gets its document
    line before its status line, failures get their error line, and every object is
    stored with its bytes."""
    payloads = {n: os.urandom(n * 37 % 4096) for n in range(300)}
    requests = [put_request(n, seaweed_bucket, data) for n, data in payloads.items()]
    requests[50]["config"]["bucket"] = "no-such-bucket-serve"  # not found, after sending
    requests[120]["config"]["overwrite"] = False
    requests[121] = {**requests[120], "id": "put-121"}  # the same key again: precondition
    requests[200]["config"]["bucket"] = "Bad_Bucket"  # refused before sending
    stdin = "".join(json.dumps(request) + "\n" for request in requests) + "not json\n"
    result = subprocess.run(
        serve_argv("-c", conn_file, "--workers", "16"),
        input=stdin.encode(),
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    finals = {line["request_id"]: line for line in lines if "status" in line}
    assert len(finals) == 301
    for position, line in enumerate(lines):
        if "properties" in line:  # its status line comes after it, with documents 1
            final = next(
                later
                for later in lines[position:]
                if "status" in later and later["request_id"] == line["request_id"]
            )
            assert final["status"] == "ok" and final["documents"] == 1
    failed = {rid: line["error"]["kind"] for rid, line in finals.items() if line["status"] != "ok"}
    # 120 and 121 run at once: one creates the key, the other is refused, either way round
    [loser] = [rid for rid in ("put-120", "put-121") if rid in failed]
    assert failed == {
        "put-50": "not_found",
        loser: "precondition_failed",
        "put-200": "invalid_input",
        301: "invalid_input",
    }
    stored = {line["properties"]["key"] for line in lines if "properties" in line}
    assert len(stored) == 297
    for n in (0, 1, 119, 120, 299):
        key = f"many/{n:04d}.bin"
        body = seaweed_client.get_object(Bucket=seaweed_bucket, Key=key)["Body"].read()
        assert body == payloads[n], key


def test_an_output_dir_that_cannot_be_written_is_a_local_io_error_and_serve_goes_on(
    conn_file, seaweed_bucket, seaweed_client, tmp_path
):
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="out/big.bin", Body=os.urandom(12 << 20))
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="out/small.bin", Body=b"small")
    out = tmp_path / "out"

    def get(number, key):
        config = {"bucket": seaweed_bucket, "key": key}
        request = {"id": number, "activity": "get_object", "config": config}
        return json.dumps({**request, "output_dir": str(out)}) + "\n"

    result = subprocess.run(
        serve_argv("-c", conn_file),
        input=(get("big", "out/big.bin") + get("small", "out/small.bin")).encode(),
        capture_output=True,
        timeout=120,
        preexec_fn=functools.partial(limit_file_size, 4 << 20),
    )
    finals = [json.loads(line) for line in result.stdout.decode().splitlines()]
    finals = [line for line in finals if "status" in line]
    assert [line["status"] for line in finals] == ["error", "ok"], finals
    error = finals[0]["error"]
    assert (error["kind"], error["field"], finals[0]["exit_code"]) == ("local_io", "output_dir", 1)
    assert error["message"] == f"cannot write out/big.bin under {out}/: File too large"
    assert sorted(path.name for path in out.rglob("*") if path.is_file()) == ["small.bin"]
