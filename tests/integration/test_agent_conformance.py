"""Agent protocol version 2 against SeaweedFS, driven from Node.js (tests/js) and Python."""

import base64
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "js" / "agent_conformance.mjs"
S3C = str(Path(sys.executable).with_name("s3c"))
NODE = shutil.which("node")


@pytest.fixture
def conn_file(seaweed, tmp_path):
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(seaweed.connection_settings()))
    return str(path)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_agent_conformance(conn_file, seaweed_bucket, tmp_path):
    done = subprocess.run(
        [NODE, str(SCRIPT), S3C, conn_file, seaweed_bucket, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    failed = {name: c for name, c in report["checks"].items() if not c["ok"]}
    assert done.returncode == 0 and report["ok"] and not failed, (failed, done.stderr[-2000:])
    assert {"ready", "ping", "concurrent_250_matched_by_id", "duplicate_id_refused"} <= set(
        report["checks"]
    )
    assert {
        "unparseable_line",
        "cancel",
        "deadline",
        "sigterm_drain",
        "fifty_mib_by_chunks",
    } <= set(report["checks"])


class Served:
    """`s3c serve --protocol 2` as a child process, its stdout lines on a queue."""

    def __init__(self, conn_file, *args):
        self.process = subprocess.Popen(
            [S3C, "serve", "-c", conn_file, "--protocol", "2", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.number = 0

    def _read(self):
        for text in self.process.stdout:
            self.lines.put(json.loads(text))
        self.lines.put(None)

    def send(self, value):
        self.number += 1
        self.process.stdin.write((value if isinstance(value, str) else json.dumps(value)) + "\n")
        self.process.stdin.flush()
        return self.number

    def next(self):
        return self.lines.get(timeout=60)

    def until_eof(self):
        found = []
        while (line := self.next()) is not None:
            found.append(line)
        return found


def put(request_id, bucket, key, **extra):
    documents = extra.pop("documents", [{"content_text": key}])
    return {
        "id": request_id,
        "activity": "put_object",
        "config": {"bucket": bucket, "key": key},
        "documents": documents,
        **extra,
    }


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(48 * 1024 * 1024))
    return str(path)


def test_python_ready_ping_duplicate_unparseable_and_every_error(
    conn_file, seaweed_bucket, big_file
):
    served = Served(conn_file, "--workers", "4")
    ready = served.next()
    assert ready["ready"] is True and ready["protocol"] == 2 and "get_object" in ready["activities"]
    served.send({"id": "p", "ping": True})
    assert served.next() == {"request_id": "p", "status": "ok", "pong": True, "documents": 0}
    served.send(put("dup", seaweed_bucket, "py/dup.bin", documents=[{"path": big_file}]))
    second = served.send(put("dup", seaweed_bucket, "py/other.txt"))
    bad = served.send("{nope")
    served.send({"id": "v", "activity": "put_object", "config": {"bucket": "!", "key": ""}})
    served.process.stdin.close()
    lines = served.until_eof()
    assert served.process.wait(30) == 0
    orphans = {line["line"]: line for line in lines if line["request_id"] is None}
    assert (
        orphans[second]["error"]["field"] == "id"
        and "in flight" in orphans[second]["error"]["message"]
    )
    assert orphans[bad]["error"]["field"] == "request"
    dup = [line for line in lines if line["request_id"] == "dup"]
    assert [line.get("status") for line in dup] == [None, "ok"]
    assert dup[0]["properties"]["key"] == "py/dup.bin"
    (invalid,) = [line for line in lines if line["request_id"] == "v"]
    fields = [item["field"] for item in invalid["error"]["errors"]]
    assert fields[0] == invalid["error"]["field"] and {"bucket", "key"} <= set(fields)
    assert "s3_request_id" in invalid["error"] and "request_id" not in invalid["error"]


def test_python_cancel_and_deadline_of_queued_requests_write_nothing(
    conn_file, seaweed_bucket, seaweed_client, big_file
):
    served = Served(conn_file, "--workers", "1")
    served.next()
    served.send(put("slow", seaweed_bucket, "py/slow.bin", documents=[{"path": big_file}]))
    served.send(put("victim", seaweed_bucket, "py/victim.txt"))
    served.send({"cancel": "victim"})
    served.send(put("late", seaweed_bucket, "py/late.txt", deadline_ms=10))
    served.process.stdin.close()
    finals = {line["request_id"]: line for line in served.until_eof() if "status" in line}
    assert finals["slow"]["status"] == "ok"
    assert finals["victim"]["status"] == "cancelled"
    assert finals["victim"]["error"]["kind"] == "cancelled"
    assert finals["late"]["status"] == "deadline_exceeded"
    keys = [o["Key"] for o in seaweed_client.list_objects_v2(Bucket=seaweed_bucket)["Contents"]]
    assert keys == ["py/slow.bin"]


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_python_signal_drains_and_answers_every_request(
    conn_file, seaweed_bucket, big_file, signal_number
):
    served = Served(conn_file, "--workers", "2", "--grace-seconds", "0.5")
    served.next()
    ids = [f"r{n}" for n in range(20)]
    for request_id in ids:
        served.send(
            put(request_id, seaweed_bucket, f"py/{request_id}", documents=[{"path": big_file}])
        )
    while "status" not in (line := served.next()):
        pass
    started = time.monotonic()
    served.process.send_signal(signal_number)
    lines = [line, *served.until_eof()]
    assert served.process.wait(60) == 0
    assert time.monotonic() - started < 30
    finals = [line for line in lines if "status" in line]
    assert sorted(line["request_id"] for line in finals) == sorted(ids)
    statuses = {line["status"] for line in finals}
    assert statuses == {"ok", "cancelled"}


def test_python_fifty_mib_put_and_got_back_by_chunks(conn_file, seaweed_bucket, seaweed_client):
    served = Served(conn_file)
    served.next()
    request = put("big", seaweed_bucket, "py/big.bin", documents=[{"content_chunks": True}])
    served.send(request)
    digest = hashlib.sha256()
    size = 0
    for sequence in range(50):
        data = os.urandom(1024 * 1024)
        digest.update(data)
        size += len(data)
        chunk = base64.b64encode(data).decode()
        served.send({"chunk": "big", "seq": sequence, "data": chunk})
    served.send({"chunk": "big", "end": True, "size": size, "sha256": digest.hexdigest()})
    stored = served.next()
    assert stored["properties"]["size"] == size and served.next()["status"] == "ok"
    head = seaweed_client.head_object(Bucket=seaweed_bucket, Key="py/big.bin")
    assert head["ContentLength"] == size

    served.send({**get_request("back", seaweed_bucket, "py/big.bin"), "content_chunks": True})
    document = served.next()
    assert "content" not in document and document["properties"]["key"] == "py/big.bin"
    received = hashlib.sha256()
    expected = 0
    while "chunk_end" not in (line := served.next()):
        assert line["chunk"] == expected
        received.update(base64.b64decode(line["data"]))
        expected += 1
    assert (line["size"], line["sha256"]) == (size, digest.hexdigest())
    assert received.hexdigest() == digest.hexdigest() and line["chunks"] == expected
    assert served.next()["status"] == "ok"

    served.send(put("bad", seaweed_bucket, "py/bad.bin", documents=[{"content_chunks": True}]))
    served.send({"chunk": "bad", "seq": 0, "data": base64.b64encode(b"abc").decode()})
    served.send({"chunk": "bad", "end": True, "size": 3, "sha256": "0" * 64})
    failed = served.next()
    assert failed["status"] == "error"
    assert failed["error"]["field"] == "documents[0].content_chunks"
    served.process.stdin.close()
    assert served.until_eof() == [] and served.process.wait(30) == 0
    listed = seaweed_client.list_objects_v2(Bucket=seaweed_bucket).get("Contents", [])
    assert [o["Key"] for o in listed] == ["py/big.bin"]


def get_request(request_id, bucket, key):
    return {"id": request_id, "activity": "get_object", "config": {"bucket": bucket, "key": key}}


def test_python_content_by_named_pipe_both_ways(conn_file, seaweed_bucket, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 5)
    source, sink = tmp_path / "in.fifo", tmp_path / "out.fifo"
    os.mkfifo(source)
    os.mkfifo(sink)
    writer = threading.Thread(target=source.write_bytes, args=(data,))
    writer.start()
    served = Served(conn_file)
    served.next()
    served.send(put("pipe-in", seaweed_bucket, "py/piped.bin", documents=[{"path": str(source)}]))
    stored = served.next()
    assert stored["properties"]["size"] == len(data) and served.next()["status"] == "ok"
    writer.join(10)
    received = []
    reader = threading.Thread(target=lambda: received.append(sink.read_bytes()))
    reader.start()
    served.send(
        {**get_request("pipe-out", seaweed_bucket, "py/piped.bin"), "output_fifo": str(sink)}
    )
    document = served.next()
    assert document["output_fifo_bytes"] == len(data) and "content" not in document
    assert served.next()["status"] == "ok"
    reader.join(10)
    assert received == [data]
    served.send({**get_request("no-pipe", seaweed_bucket, "py/piped.bin"), "output_fifo": "x"})
    refused = served.next()
    assert refused["request_id"] is None and refused["error"]["field"] == "output_fifo"
    served.process.stdin.close()
    assert served.process.wait(30) == 0


def test_python_chunks_that_never_end_fail_at_eof_and_write_nothing(
    conn_file, seaweed_bucket, seaweed_client
):
    served = Served(conn_file)
    served.next()
    served.send(put("cut", seaweed_bucket, "py/cut.bin", documents=[{"content_chunks": True}]))
    served.send({"chunk": "cut", "seq": 0, "data": base64.b64encode(b"part").decode()})
    served.process.stdin.close()
    (final,) = served.until_eof()
    assert final["status"] == "error" and "end frame" in final["error"]["message"]
    assert served.process.wait(30) == 0
    assert "Contents" not in seaweed_client.list_objects_v2(Bucket=seaweed_bucket)


def test_python_cancel_stops_a_running_transfer_and_leaves_nothing(
    seaweed_settings, seaweed_bucket, seaweed_client, tmp_path
):
    """A put reads its content from a named pipe; after two parts the agent cancels it and
    keeps writing. The upload stops at its next check and is aborted: no object, no multipart
    upload left, although the content later ends normally."""
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps(seaweed_settings))
    source = tmp_path / "slow.fifo"
    os.mkfifo(source)
    cancelled = threading.Event()

    def write_slowly():
        block = os.urandom(1024 * 1024)
        try:
            with open(source, "wb") as pipe:
                for index in range(64):
                    if index == 20:
                        cancelled.wait(30)
                    pipe.write(block)
                    pipe.flush()
                    time.sleep(0.01 if index < 20 else 0.05)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write_slowly, daemon=True)
    writer.start()
    served = Served(str(conn))
    served.next()
    served.send(put("slow", seaweed_bucket, "py/slow.bin", documents=[{"path": str(source)}]))
    deadline = time.monotonic() + 30
    while not seaweed_client.list_multipart_uploads(Bucket=seaweed_bucket).get("Uploads"):
        assert time.monotonic() < deadline, "the upload never started"
        time.sleep(0.05)
    served.send({"cancel": "slow"})
    answer = served.next()
    assert answer["request_id"] == "slow" and answer["status"] == "cancelled"
    cancelled.set()
    served.process.stdin.close()
    assert served.until_eof() == [] and served.process.wait(30) == 0
    writer.join(30)
    assert "Contents" not in seaweed_client.list_objects_v2(Bucket=seaweed_bucket)
    assert seaweed_client.list_multipart_uploads(Bucket=seaweed_bucket).get("Uploads", []) == []
