"""Fault injection: the connector through a real fault-injecting HTTP proxy
(tests/faults/proxy.py) in front of SeaweedFS.

Every test states the same rule: under a network or server fault an operation either
succeeds with exactly the bytes that were put (read back directly from SeaweedFS, never
through the proxy), or fails as `transient`/`throttled` (exit 4) or `integrity` (exit 5).
Never exit 0 with wrong bytes, never a traceback, never a partial or temporary file in an
output directory, never a multipart upload left behind; a fault that always recurs never
ends in exit 0. Each test also checks that its fault really happened on the wire.

Run: .venv/bin/pytest tests/integration/test_faults.py -q -rP  (-rP shows the summary line
of the random run).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from faults.proxy import (
    CORRUPT_BODY,
    CUT_BODY,
    CUT_BODY_FIX_LENGTH,
    INTERNAL,
    RESET,
    RESET_AFTER,
    SLOWDOWN,
    STALL,
    STALL_BODY,
    Fault,
    FaultProxy,
)
from support import DATA_PLANES, new_sse_c_key, unique_bucket

from s3_connector.connector.connection import Connection
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import ConnectorError
from s3_connector.connector.harness import Harness

S3C = str(Path(sys.executable).with_name("s3c"))
MiB = 1024 * 1024
READ_TIMEOUT = 1.0
STALL_SECONDS = 2.5
"""Longer than READ_TIMEOUT: a stalled answer is given up by the client."""
MAX_ATTEMPTS = 5
ALWAYS_ATTEMPTS = 3
"""max_attempts of the connection used against faults that always recur (keeps them short)."""
ALWAYS = 1000
"""`times` of a fault that always recurs."""
OBJECT_SIZE = 3 * MiB + 17
MULTIPART_SIZE = 9 * MiB + 5
SSE_SIZE = 1 * MiB + 3
FAILURE_EXITS = {"transient": 4, "throttled": 4, "integrity": 5}
"""The kinds a fault may end in, with their exit codes."""
CLI_KINDS = {4: "transient", 5: "integrity"}
"""`s3c run` prints no kind: its exit code says which."""
TEMPORARY_PREFIX = ".s3c-"


def sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def object_path(bucket: str, key: str) -> str:
    return rf"^/{re.escape(bucket)}/{re.escape(key)}$"


# --- outcomes and the rule ----------------------------------------------------------------------


@dataclass
class Outcome:
    """How one operation ended, whatever ran it."""

    exit_code: int
    kind: str | None = None
    message: str = ""
    data: bytes | None = None
    """The content handed over, for a read that ended with exit 0."""
    stderr: str = ""
    files: set[str] | None = None
    """The files in the output directory afterwards (None: no output directory)."""


def violations(
    outcome: Outcome,
    *,
    expected_sha: str | None = None,
    expected_files: set[str] | None = None,
    must_fail: bool = False,
) -> list[str]:
    """What `outcome` breaks of the rule (see the module); [] when nothing."""
    problems = []
    if "Traceback" in outcome.stderr:
        problems.append("a traceback on stderr: " + outcome.stderr[-600:])
    if outcome.exit_code == 0:
        if must_fail:
            problems.append("exit 0 although the fault always recurs")
        if expected_sha is not None and sha(outcome.data) != expected_sha:
            size = None if outcome.data is None else len(outcome.data)
            problems.append(f"exit 0 with wrong bytes ({size} bytes handed over)")
    elif FAILURE_EXITS.get(outcome.kind or "") != outcome.exit_code:
        problems.append(
            f"failed with exit {outcome.exit_code}, kind {outcome.kind}: {outcome.message}"
        )
    if outcome.files is not None:
        wanted = (expected_files or set()) if outcome.exit_code == 0 else set()
        if outcome.files != wanted:
            problems.append(f"output directory holds {sorted(outcome.files)}, not {sorted(wanted)}")
    return problems


def listing(directory: Path) -> set[str]:
    """Every file under `directory` (hidden ones too), as relative POSIX paths."""
    if not directory.exists():
        return set()
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def stored_sha(client: Any, bucket: str, key: str, sse_c_key: str | None = None) -> str | None:
    """The SHA-256 of the object as SeaweedFS itself serves it; None when there is none."""
    extra = {}
    if sse_c_key:
        extra = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": base64.b64decode(sse_c_key)}
    try:
        response = client.get_object(Bucket=bucket, Key=key, **extra)
    except client.exceptions.NoSuchKey:
        return None
    return sha(response["Body"].read())


def leftover_uploads(client: Any, bucket: str) -> list[str]:
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return [f"{item['Key']} ({item['UploadId'][:12]}...)" for item in uploads]


def upload_violations(
    outcome: Outcome,
    client: Any,
    bucket: str,
    key: str,
    data: bytes,
    sse_c_key: str | None = None,
    *,
    must_fail: bool = False,
) -> list[str]:
    """The rule for an upload of a fresh key: success stores exactly `data`; a failure
    leaves no object or exactly `data` (never a torn one); no multipart upload remains."""
    problems = violations(outcome, must_fail=must_fail)
    stored = stored_sha(client, bucket, key, sse_c_key)
    if outcome.exit_code == 0 and stored != sha(data):
        problems.append(f"reported success but SeaweedFS holds {stored} for {key}")
    if outcome.exit_code != 0 and stored not in (None, sha(data)):
        problems.append(f"failed and left a wrong object at {key}")
    left = leftover_uploads(client, bucket)
    if left:
        problems.append(f"multipart uploads left behind: {left}")
    return problems


# --- the ways to run an operation ---------------------------------------------------------------


def s3c(*args: Any, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([S3C, *map(str, args)], capture_output=True, timeout=timeout)


def run_outcome(result: subprocess.CompletedProcess) -> Outcome:
    stderr = result.stderr.decode("utf-8", "replace")
    first = next((line for line in stderr.splitlines() if line.strip()), "")
    return Outcome(result.returncode, CLI_KINDS.get(result.returncode), first, stderr=stderr)


def harness_failure(exc: Exception) -> Outcome:
    """How a host that embeds the harness sees a failure: a ConnectorError has a kind; any
    other exception escaped the taxonomy (kind `unexpected`, as the CLI's exit 1)."""
    if isinstance(exc, ConnectorError):
        return Outcome(exc.exit_code, exc.kind, str(exc))
    return Outcome(1, "unexpected", f"{type(exc).__module__}.{type(exc).__name__}: {exc}")


def inline_bytes(line: dict[str, Any]) -> bytes | None:
    """The bytes of inline content (keys end in .bin, so it is base64)."""
    if line.get("content_format") == "base64":
        return base64.b64decode(line["content"])
    if line.get("content_format") == "text":
        return line["content"].encode("utf-8")
    return None


class ServeProcess:
    """One `s3c serve` child: requests written to its stdin, lines read from its stdout by a
    thread, its stderr kept."""

    def __init__(self, conn_file: Path, workers: int = 1):
        self.process = subprocess.Popen(
            [S3C, "serve", "-c", str(conn_file), "--workers", str(workers)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stderr: list[str] = []
        self._write_lock = threading.Lock()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            try:
                self.lines.put(json.loads(raw))
            except ValueError:
                self.lines.put({"request_id": None, "unparsable": raw.decode("utf-8", "replace")})
        self.lines.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self._stderr.append(raw.decode("utf-8", "replace"))

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def send(self, requests: list[dict[str, Any]]) -> None:
        assert self.process.stdin is not None
        with self._write_lock:
            for request in requests:
                self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()

    def answers(
        self, ids: set[Any], timeout: float = 300
    ) -> dict[Any, tuple[dict[str, Any], list[dict[str, Any]]]]:
        """The status line and document lines of each request id, once all have come."""
        documents: dict[Any, list[dict[str, Any]]] = {i: [] for i in ids}
        finals: dict[Any, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while len(finals) < len(ids):
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"s3c serve: no answer to {ids - finals.keys()}") from None
            if line is None:
                raise AssertionError(f"s3c serve ended early: {self.stderr[-2000:]}")
            request_id = line.get("request_id")
            assert request_id in ids, f"an unexpected line: {line}"
            if "status" in line:
                finals[request_id] = line
            else:
                documents[request_id].append(line)
        return {i: (finals[i], documents[i]) for i in ids}

    def call(self, request: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        self.send([request])
        return self.answers({request["id"]})[request["id"]]

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)


def serve_outcome(
    final: dict[str, Any], documents: list[dict[str, Any]], stderr: str = ""
) -> Outcome:
    if final.get("status") == "ok":
        data = None
        if documents and "content" in documents[0]:
            data = inline_bytes(documents[0])
        return Outcome(0, data=data, stderr=stderr)
    error = final.get("error") or {}
    return Outcome(
        final.get("exit_code", -1), error.get("kind"), error.get("message", ""), stderr=stderr
    )


_request_numbers = iter(range(1, 1_000_000))


@dataclass
class Env:
    """What a test needs to run operations through the proxy."""

    proxy: FaultProxy
    settings: dict[str, Any]
    always_settings: dict[str, Any]
    conn_file: Path
    always_file: Path
    serve: ServeProcess
    client: Any
    tmp: Path
    _dirs: int = 0

    def fresh_dir(self, name: str) -> Path:
        self._dirs += 1
        return self.tmp / f"{name}-{self._dirs}"

    # reads

    def get(self, front: str, bucket: str, key: str, sse_c_key=None, *, always=False) -> Outcome:
        return GET_FRONTS[front](self, bucket, key, sse_c_key, always)

    def _config(self, bucket: str, key: str, sse_c_key: str | None) -> dict[str, Any]:
        config = {"bucket": bucket, "key": key}
        if sse_c_key:
            config["sse_c_key"] = sse_c_key
        return config

    def _params(self, bucket: str, key: str, sse_c_key: str | None) -> list[str]:
        return [
            item
            for name, value in self._config(bucket, key, sse_c_key).items()
            for item in ("-p", f"{name}={value}")
        ]

    def get_harness(self, bucket, key, sse_c_key, always) -> Outcome:
        connection = Connection(self.always_settings if always else self.settings)
        try:
            [document] = list(
                Harness(connection).run("get_object", self._config(bucket, key, sse_c_key))
            )
            data = document.read()
        except Exception as exc:
            return harness_failure(exc)
        return Outcome(0, data=data)

    def get_run_inline(self, bucket, key, sse_c_key, always) -> Outcome:
        conn = self.always_file if always else self.conn_file
        result = s3c("run", "get_object", "-c", conn, *self._params(bucket, key, sse_c_key))
        outcome = run_outcome(result)
        if outcome.exit_code == 0:
            lines = result.stdout.decode().splitlines()
            outcome.data = inline_bytes(json.loads(lines[0])) if len(lines) == 1 else None
        return outcome

    def get_run_file(self, bucket, key, sse_c_key, always) -> Outcome:
        conn = self.always_file if always else self.conn_file
        directory = self.fresh_dir("run-file")
        directory.mkdir()
        target = directory / "copy.bin"
        params = self._params(bucket, key, sse_c_key)
        result = s3c("run", "get_object", "-c", conn, *params, "--output", target)
        outcome = run_outcome(result)
        outcome.files = listing(directory)
        if outcome.exit_code == 0 and target.is_file():
            outcome.data = target.read_bytes()
        return outcome

    def get_run_dir(self, bucket, key, sse_c_key, always) -> Outcome:
        conn = self.always_file if always else self.conn_file
        directory = self.fresh_dir("run-dir")
        params = self._params(bucket, key, sse_c_key)
        result = s3c("run", "get_object", "-c", conn, *params, "--output", f"{directory}/")
        outcome = run_outcome(result)
        outcome.files = listing(directory)
        if outcome.exit_code == 0 and (directory / key).is_file():
            outcome.data = (directory / key).read_bytes()
        return outcome

    def _serve_get(self, bucket, key, sse_c_key, always, output_dir: Path | None) -> Outcome:
        request: dict[str, Any] = {
            "id": f"get-{next(_request_numbers)}",
            "activity": "get_object",
            "config": self._config(bucket, key, sse_c_key),
        }
        if always:
            request["connection"] = self.always_settings
        if output_dir is not None:
            request["output_dir"] = str(output_dir)
        mark = len(self.serve.stderr)
        final, documents = self.serve.call(request)
        outcome = serve_outcome(final, documents, self.serve.stderr[mark:])
        if output_dir is not None:
            outcome.files = listing(output_dir)
            if outcome.exit_code == 0 and (output_dir / key).is_file():
                outcome.data = (output_dir / key).read_bytes()
        return outcome

    def get_serve_inline(self, bucket, key, sse_c_key, always) -> Outcome:
        return self._serve_get(bucket, key, sse_c_key, always, None)

    def get_serve_dir(self, bucket, key, sse_c_key, always) -> Outcome:
        return self._serve_get(bucket, key, sse_c_key, always, self.fresh_dir("serve-dir"))

    # writes

    def put(
        self, front: str, bucket: str, key: str, data: bytes, sse_c_key=None, *, always=False
    ) -> Outcome:
        config = self._config(bucket, key, sse_c_key)
        if front == "harness":
            connection = Connection(self.always_settings if always else self.settings)
            try:
                list(Harness(connection).run("put_object", config, [Document({}, data)]))
            except Exception as exc:
                return harness_failure(exc)
            return Outcome(0)
        source = self.fresh_dir("upload")
        source.mkdir()
        path = source / "content.bin"
        path.write_bytes(data)
        if front == "run":
            conn = self.always_file if always else self.conn_file
            params = self._params(bucket, key, sse_c_key)
            return run_outcome(s3c("run", "put_object", "-c", conn, *params, "--input", path))
        request: dict[str, Any] = {
            "id": f"put-{next(_request_numbers)}",
            "activity": "put_object",
            "config": config,
            "documents": [{"path": str(path)}],
        }
        if always:
            request["connection"] = self.always_settings
        mark = len(self.serve.stderr)
        final, documents = self.serve.call(request)
        return serve_outcome(final, documents, self.serve.stderr[mark:])


GET_FRONTS = {
    "harness": Env.get_harness,
    "run_inline": Env.get_run_inline,
    "run_file": Env.get_run_file,
    "run_dir": Env.get_run_dir,
    "serve_inline": Env.get_serve_inline,
    "serve_dir": Env.get_serve_dir,
}
EXPECTED_FILES = {"run_file": lambda key: {"copy.bin"}, "run_dir": lambda key: {key}}
EXPECTED_FILES["serve_dir"] = EXPECTED_FILES["run_dir"]


def expected_files(front: str, key: str) -> set[str] | None:
    make = EXPECTED_FILES.get(front)
    return make(key) if make else None


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(seaweed):
    with FaultProxy(seaweed.endpoint_url, stall_seconds=STALL_SECONDS) as proxy:
        yield proxy


@pytest.fixture(scope="module", params=DATA_PLANES)
def data_plane(request):
    """The whole module runs once per data plane."""
    return request.param


@pytest.fixture(scope="module")
def fault_settings(seaweed, proxy, data_plane):
    return dict(
        seaweed.connection_settings(),
        data_plane=data_plane,
        endpoint_url=proxy.endpoint_url,
        read_timeout=READ_TIMEOUT,
        max_attempts=MAX_ATTEMPTS,
    )


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def serve(module_dir, fault_settings):
    conn_file = module_dir / "serve-conn.json"
    conn_file.write_text(json.dumps(fault_settings))
    process = ServeProcess(conn_file)
    yield process
    process.close()


@pytest.fixture
def env(proxy, fault_settings, serve, seaweed, module_dir, tmp_path):
    always_settings = dict(fault_settings, max_attempts=ALWAYS_ATTEMPTS)
    conn_file = module_dir / "conn.json"
    conn_file.write_text(json.dumps(fault_settings))
    always_file = module_dir / "always.json"
    always_file.write_text(json.dumps(always_settings))
    proxy.clear()
    proxy.reset_counters()
    yield Env(
        proxy,
        fault_settings,
        always_settings,
        conn_file,
        always_file,
        serve,
        seaweed.client(),
        tmp_path,
    )
    proxy.clear()


@dataclass
class Source:
    key: str
    data_sha: str
    size: int
    sse_c_key: str | None = None


@pytest.fixture(scope="module")
def sources(seaweed):
    """Objects to read, put directly on SeaweedFS by the connector (so with its checksums):
    plain, SSE-C and multipart."""
    bucket = unique_bucket("faults-src")
    seaweed.client().create_bucket(Bucket=bucket)
    harness = Harness(Connection(seaweed.connection_settings()))
    made = {}
    for name, size, sse in (
        ("plain", OBJECT_SIZE, False),
        ("sse", SSE_SIZE, True),
        ("multipart", MULTIPART_SIZE, False),
    ):
        data = os.urandom(size)
        key = f"sources/{name}.bin"
        sse_c_key = new_sse_c_key() if sse else None
        config = {"bucket": bucket, "key": key, **({"sse_c_key": sse_c_key} if sse else {})}
        list(harness.run("put_object", config, [Document({}, data)]))
        made[name] = Source(key, sha(data), size, sse_c_key)
    return bucket, made


def assert_fault_happened(proxy: FaultProxy, kind: Fault) -> None:
    assert proxy.faults.get(kind.value, 0) >= 1, (
        f"the {kind} fault never happened: {proxy.faults}, {proxy.history[-5:]}"
    )


def assert_rule(problems: list[str], outcome: Outcome) -> None:
    assert not problems, f"{problems} (outcome: exit {outcome.exit_code}, {outcome.message})"


# --- reads: one fault, every front end ----------------------------------------------------------

GET_FAULTS = [RESET, STALL, STALL_BODY, CUT_BODY, CORRUPT_BODY, CUT_BODY_FIX_LENGTH]


@pytest.mark.parametrize("front", list(GET_FRONTS))
@pytest.mark.parametrize("kind", GET_FAULTS, ids=str)
def test_get_object_with_one_fault(env, sources, kind, front):
    bucket, made = sources
    source = made["plain"]
    env.proxy.force(kind, method="GET", path_regex=object_path(bucket, source.key))
    outcome = env.get(front, bucket, source.key)
    assert_fault_happened(env.proxy, kind)
    problems = violations(
        outcome, expected_sha=source.data_sha, expected_files=expected_files(front, source.key)
    )
    assert_rule(problems, outcome)


@pytest.mark.parametrize("name", ["sse", "multipart"])
@pytest.mark.parametrize("kind", [CUT_BODY, CORRUPT_BODY, CUT_BODY_FIX_LENGTH], ids=str)
def test_get_sse_c_and_multipart_objects_with_a_body_fault(env, sources, kind, name):
    """SSE-C objects (whose ETag is no digest) and multipart objects (whose ETag is no MD5
    of the content) must be verified by their checksum all the same."""
    bucket, made = sources
    source = made[name]
    env.proxy.force(kind, method="GET", path_regex=object_path(bucket, source.key))
    outcome = env.get("serve_dir", bucket, source.key, source.sse_c_key)
    assert_fault_happened(env.proxy, kind)
    problems = violations(outcome, expected_sha=source.data_sha, expected_files={source.key})
    assert_rule(problems, outcome)


@pytest.mark.parametrize(
    ("kind", "front"),
    [
        (RESET, "run_dir"),
        (STALL, "serve_dir"),
        (CUT_BODY, "run_file"),
        (CORRUPT_BODY, "serve_dir"),
        (CUT_BODY_FIX_LENGTH, "run_file"),
        (CUT_BODY_FIX_LENGTH, "harness"),
    ],
    ids=str,
)
def test_get_object_with_a_fault_that_always_recurs_fails(env, sources, kind, front):
    bucket, made = sources
    source = made["plain"]
    env.proxy.force(kind, method="GET", path_regex=object_path(bucket, source.key), times=ALWAYS)
    outcome = env.get(front, bucket, source.key, always=True)
    assert_fault_happened(env.proxy, kind)
    problems = violations(
        outcome,
        expected_sha=source.data_sha,
        expected_files=expected_files(front, source.key),
        must_fail=True,
    )
    assert_rule(problems, outcome)


# --- writes: one fault at each step of an upload ------------------------------------------------

UPLOAD_STEPS = {
    "create": ({"method": "POST", "query_has": "uploads"}, MULTIPART_SIZE),
    "upload_part": ({"method": "PUT", "query_has": "partNumber"}, MULTIPART_SIZE),
    "complete": ({"method": "POST", "query_has": "uploadId"}, MULTIPART_SIZE),
    "put_object": ({"method": "PUT"}, OBJECT_SIZE),
}
UPLOAD_FAULTS = [RESET, RESET_AFTER, SLOWDOWN, STALL]


def force_step(env: Env, step: str, kind: Fault, bucket: str, key: str, times: int = 1) -> int:
    match, size = UPLOAD_STEPS[step]
    env.proxy.force(kind, path_regex=object_path(bucket, key), times=times, **match)
    return size


@pytest.mark.parametrize("kind", UPLOAD_FAULTS, ids=str)
@pytest.mark.parametrize("step", list(UPLOAD_STEPS))
def test_put_object_with_one_fault(env, seaweed_bucket, step, kind):
    key = f"up/{step}-{kind}.bin"
    data = os.urandom(force_step(env, step, kind, seaweed_bucket, key))
    outcome = env.put("harness", seaweed_bucket, key, data)
    assert_fault_happened(env.proxy, kind)
    assert_rule(upload_violations(outcome, env.client, seaweed_bucket, key, data), outcome)


@pytest.mark.parametrize(
    ("step", "kind", "front"),
    [
        ("create", STALL, "run"),
        ("create", RESET_AFTER, "serve"),
        ("upload_part", RESET, "serve"),
        ("upload_part", SLOWDOWN, "run"),
        ("complete", RESET_AFTER, "run"),
        ("complete", STALL, "serve"),
        ("put_object", SLOWDOWN, "run"),
        ("put_object", RESET, "serve"),
    ],
    ids=str,
)
def test_put_object_with_one_fault_through_the_cli(env, seaweed_bucket, step, kind, front):
    key = f"up/{step}-{kind}-{front}.bin"
    data = os.urandom(force_step(env, step, kind, seaweed_bucket, key))
    outcome = env.put(front, seaweed_bucket, key, data)
    assert_fault_happened(env.proxy, kind)
    assert_rule(upload_violations(outcome, env.client, seaweed_bucket, key, data), outcome)


def test_put_object_sse_c_multipart_with_a_fault(env, seaweed_bucket):
    key = "up/sse-multipart.bin"
    sse_c_key = new_sse_c_key()
    data = os.urandom(force_step(env, "upload_part", RESET_AFTER, seaweed_bucket, key))
    outcome = env.put("harness", seaweed_bucket, key, data, sse_c_key)
    assert_fault_happened(env.proxy, RESET_AFTER)
    problems = upload_violations(outcome, env.client, seaweed_bucket, key, data, sse_c_key)
    assert_rule(problems, outcome)


@pytest.mark.parametrize(
    ("step", "kind", "front"),
    [
        ("create", SLOWDOWN, "run"),
        ("upload_part", RESET, "harness"),
        ("complete", INTERNAL, "serve"),
        ("complete", RESET_AFTER, "harness"),
        ("put_object", STALL, "harness"),
    ],
    ids=str,
)
def test_put_object_with_a_fault_that_always_recurs_fails(env, seaweed_bucket, step, kind, front):
    key = f"up/always-{step}-{kind}.bin"
    data = os.urandom(force_step(env, step, kind, seaweed_bucket, key, times=ALWAYS))
    outcome = env.put(front, seaweed_bucket, key, data, always=True)
    assert_fault_happened(env.proxy, kind)
    problems = upload_violations(outcome, env.client, seaweed_bucket, key, data, must_fail=True)
    assert_rule(problems, outcome)


# --- a seeded random run ------------------------------------------------------------------------

RANDOM_SEED = 20261203
RANDOM_RATE = 0.10
NETWORK_KINDS = [RESET, SLOWDOWN, STALL, CUT_BODY]
"""What the network and the server do: every failure they cause must be transient (exit 4)."""
RANDOM_KINDS = [*NETWORK_KINDS, CORRUPT_BODY, CUT_BODY_FIX_LENGTH]
"""Bodies corrupted on the way, too: caught by checksums, so integrity (exit 5) is allowed."""
RANDOM_MIXES = {
    "network": (NETWORK_KINDS, 600, {"transient", "throttled"}),
    "with-corruption": (RANDOM_KINDS, 400, {"transient", "throttled", "integrity"}),
}
"""Each mix: its fault kinds, how many operations, and the failure kinds it may cause."""
RANDOM_RUN_PROCESSES = 36
RANDOM_HARNESS_OPERATIONS = 70
SERVE_WORKERS = 4
INLINE_LIMIT = 16 * MiB
RUN_TURNS = (("put", "inline"), ("get", "inline"), ("get", "file"), ("get", "dir"))


def random_size(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.15:
        return rng.randint(1, 1024)
    if roll < 0.65:
        return rng.randint(1025, 256 * 1024)
    if roll < 0.92:
        return rng.randint(256 * 1024, 2 * MiB)
    return rng.randint(2 * MiB, 8 * MiB)


@dataclass
class Operation:
    number: int
    front: str
    """harness, run or serve."""
    action: str
    """put or get."""
    key: str
    size: int
    data_sha: str
    sse_c_key: str | None = None
    output: str = "inline"
    """For gets: inline, file or dir."""
    data: bytes | None = field(default=None, repr=False)
    outcome: Outcome | None = None
    directory: Path | None = None


def plan_operations(rng: random.Random, sources: list[Operation], count: int) -> list[Operation]:
    """`count` operations: the first RANDOM_RUN_PROCESSES by `s3c run` processes,
    then RANDOM_HARNESS_OPERATIONS in-process, the rest on one `s3c serve`: puts of fresh
    keys (a few above 8 MiB, some SSE-C) and, more often, gets of the sources (to a file, a
    directory or inline)."""
    operations = []
    for number in range(count):
        if number < RANDOM_RUN_PROCESSES:
            front = "run"
            # in turn: a put, a get inline, a get to a file, a get to a directory
            action, output = RUN_TURNS[number % len(RUN_TURNS)]
        else:
            in_process = number < RANDOM_RUN_PROCESSES + RANDOM_HARNESS_OPERATIONS
            front = "harness" if in_process else "serve"
            action = "put" if rng.random() < 0.4 else "get"
            output = "dir" if front == "serve" and rng.random() < 0.5 else "inline"
        if action == "get":
            source = rng.choice(sources)
            if output == "inline" and front != "harness" and source.size > INLINE_LIMIT:
                output = "file" if front == "run" else "dir"
            operations.append(
                Operation(
                    number,
                    front,
                    "get",
                    source.key,
                    source.size,
                    source.data_sha,
                    source.sse_c_key,
                    output,
                )
            )
            continue
        size = random_size(rng)
        sse_c_key = new_sse_c_key() if rng.random() < 0.15 else None
        operations.append(
            Operation(number, front, "put", f"put/{number:03d}.bin", size, "", sse_c_key)
        )
    puts = {
        front: [op for op in operations if op.action == "put" and op.front == front]
        for front in ("run", "harness", "serve")
    }
    for front, count in (("run", 1), ("harness", 2), ("serve", 3)):
        for op in rng.sample(puts[front], count):
            op.size = rng.randint(8 * MiB + 1, 20 * MiB)
    for op in operations:
        if op.action == "put":
            op.data = random.Random(RANDOM_SEED * 1000 + op.number).randbytes(op.size)
            op.data_sha = sha(op.data)
    return operations


def run_random_with_harness(connection: Connection, bucket: str, op: Operation) -> None:
    config: dict[str, Any] = {"bucket": bucket, "key": op.key}
    if op.sse_c_key:
        config["sse_c_key"] = op.sse_c_key
    harness = Harness(connection)
    try:
        if op.action == "put":
            list(harness.run("put_object", config, [Document({}, op.data)]))
            op.outcome = Outcome(0)
        else:
            [document] = list(harness.run("get_object", config))
            op.outcome = Outcome(0, data=document.read())
    except Exception as exc:
        op.outcome = harness_failure(exc)


def run_random_with_s3c(env: Env, bucket: str, op: Operation, root: Path) -> None:
    params = ["-p", f"bucket={bucket}", "-p", f"key={op.key}"]
    if op.sse_c_key:
        params += ["-p", f"sse_c_key={op.sse_c_key}"]
    op.directory = root / f"op-{op.number:03d}"
    op.directory.mkdir(parents=True)
    if op.action == "put":
        path = root / f"content-{op.number:03d}.bin"
        path.write_bytes(op.data or b"")
        op.outcome = run_outcome(
            s3c("run", "put_object", "-c", env.conn_file, *params, "--input", path)
        )
        op.directory = None
        return
    args = ["run", "get_object", "-c", env.conn_file, *params]
    if op.output == "file":
        args += ["--output", op.directory / "out.bin"]
    elif op.output == "dir":
        args += ["--output", f"{op.directory}/"]
    result = s3c(*args)
    op.outcome = run_outcome(result)
    if op.output == "inline":
        op.directory.rmdir()
        op.directory = None
        if op.outcome.exit_code == 0:
            lines = result.stdout.decode().splitlines()
            op.outcome.data = inline_bytes(json.loads(lines[0])) if len(lines) == 1 else None


def serve_random_request(bucket: str, op: Operation, root: Path) -> dict[str, Any]:
    config: dict[str, Any] = {"bucket": bucket, "key": op.key}
    if op.sse_c_key:
        config["sse_c_key"] = op.sse_c_key
    request: dict[str, Any] = {"id": op.number, "activity": f"{op.action}_object", "config": config}
    if op.action == "put":
        if op.size <= 256 * 1024:
            request["documents"] = [{"content_base64": base64.b64encode(op.data or b"").decode()}]
        else:
            path = root / f"content-{op.number:03d}.bin"
            path.write_bytes(op.data or b"")
            request["documents"] = [{"path": str(path)}]
    elif op.output == "dir":
        op.directory = root / f"op-{op.number:03d}"
        request["output_dir"] = str(op.directory)
    return request


def random_violations(env: Env, bucket: str, op: Operation) -> list[str]:
    assert op.outcome is not None
    if op.action == "get":
        wanted = None
        if op.directory is not None:
            wanted = {"out.bin"} if op.output == "file" else {op.key}
            op.outcome.files = listing(op.directory)
            written = op.directory / next(iter(wanted))
            if op.outcome.exit_code == 0 and written.is_file():
                op.outcome.data = written.read_bytes()
        return violations(op.outcome, expected_sha=op.data_sha, expected_files=wanted)
    problems = violations(op.outcome)
    stored = stored_sha(env.client, bucket, op.key, op.sse_c_key)
    if op.outcome.exit_code == 0 and stored != op.data_sha:
        problems.append(f"reported success but SeaweedFS holds {stored}")
    if op.outcome.exit_code != 0 and stored not in (None, op.data_sha):
        problems.append("failed and left a wrong object")
    return problems


@pytest.mark.parametrize("mix", list(RANDOM_MIXES))
def test_seeded_random_faults_at_ten_percent(env, seaweed, tmp_path, mix, data_plane):
    kinds, count, allowed_failures = RANDOM_MIXES[mix]
    rng = random.Random(RANDOM_SEED)
    # A name of its own, the same in every session: the faults drawn depend on the requests
    # (see RandomSchedule), so the run is reproducible but for multipart upload ids and
    # races between concurrent requests of the same object.
    bucket = f"faults-random-{mix}-{data_plane}-{RANDOM_SEED}"
    env.client.create_bucket(Bucket=bucket)
    root = tmp_path / "random"
    root.mkdir()

    # Sources to read, put directly on SeaweedFS by the connector (with its checksums).
    sources = []
    for number in range(40):
        size = random_size(rng) if number < 36 else rng.randint(8 * MiB + 1, 20 * MiB)
        data = random.Random(RANDOM_SEED + number).randbytes(size)
        sse_c_key = new_sse_c_key() if number % 5 == 1 else None
        key = f"src/{number:03d}.bin"
        sources.append(
            Operation(number, "direct", "put", key, size, sha(data), sse_c_key, data=data)
        )
    direct = Harness(Connection(seaweed.connection_settings()))

    def put_source(source: Operation) -> None:
        config = {"bucket": bucket, "key": source.key}
        if source.sse_c_key:
            config["sse_c_key"] = source.sse_c_key
        list(direct.run("put_object", config, [Document({}, source.data)]))
        source.data = None

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put_source, sources))

    operations = plan_operations(rng, sources, count)
    by_front = {
        front: [op for op in operations if op.front == front]
        for front in ("run", "harness", "serve")
    }
    serve_requests = [serve_random_request(bucket, op, root) for op in by_front["serve"]]
    for op in by_front["serve"]:
        op.data = None  # written into the requests

    env.proxy.random(rate=RANDOM_RATE, seed=RANDOM_SEED, kinds=kinds)
    started = time.monotonic()
    agent = ServeProcess(env.conn_file, workers=SERVE_WORKERS)
    try:
        sender = threading.Thread(target=agent.send, args=(serve_requests,), daemon=True)
        sender.start()
        connection = Connection(env.settings)
        with ThreadPoolExecutor(3) as harness_pool, ThreadPoolExecutor(2) as run_pool:
            harness_jobs = [
                harness_pool.submit(run_random_with_harness, connection, bucket, op)
                for op in by_front["harness"]
            ]
            run_jobs = [
                run_pool.submit(run_random_with_s3c, env, bucket, op, root)
                for op in by_front["run"]
            ]
            answers = agent.answers({op.number for op in by_front["serve"]}, timeout=600)
            for job in harness_jobs + run_jobs:
                job.result()
        sender.join(10)
    finally:
        serve_exit = agent.close()
    elapsed = time.monotonic() - started
    env.proxy.clear()
    for op in by_front["serve"]:
        final, documents = answers[op.number]
        op.outcome = serve_outcome(final, documents)

    problems = []
    for op in operations:
        for problem in random_violations(env, bucket, op):
            problems.append(
                f"#{op.number} {op.front} {op.action} {op.output} {op.key} "
                f"({op.size} B{', SSE-C' if op.sse_c_key else ''}): {problem}"
            )
    temporaries = [p for p in root.rglob(f"{TEMPORARY_PREFIX}*")]
    if temporaries:
        problems.append(f"temporary files left: {temporaries[:5]}")
    left = leftover_uploads(env.client, bucket)
    if left:
        problems.append(f"multipart uploads left behind: {left}")
    if "Traceback" in agent.stderr:
        problems.append(f"s3c serve wrote a traceback: {agent.stderr[-1500:]}")
    if serve_exit != 0:
        problems.append(f"s3c serve exited {serve_exit}")

    failures = Counter(
        op.outcome.kind or f"exit {op.outcome.exit_code}"
        for op in operations
        if op.outcome is not None and op.outcome.exit_code != 0
    )
    actions = Counter(op.action for op in operations)
    summary = (
        f"random faults {mix} (seed {RANDOM_SEED}, rate {RANDOM_RATE}): "
        f"{len(operations)} operations "
        f"({actions['put']} puts, {actions['get']} gets; {len(by_front['run'])} s3c run, "
        f"{len(by_front['harness'])} harness, {len(by_front['serve'])} s3c serve) in "
        f"{elapsed:.1f} s; {env.proxy.requests} requests; faults injected "
        f"{dict(sorted(env.proxy.faults.items()))}; failures by kind {dict(failures)}; "
        f"{len(problems)} violations"
    )
    print(summary)
    assert len(operations) == count >= 300
    assert not problems, summary + "\n" + "\n".join(problems[:30])
    assert set(failures) <= allowed_failures, summary
    assert set(env.proxy.faults) >= {kind.value for kind in kinds}, summary
