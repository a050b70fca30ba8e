"""Secrets sweep: no secret, in any encoding, shows in any output, error or log.

Every shipped activity runs through the harness embedded in-process, with the whole process
logging at DEBUG to a handler on the root logger (botocore, urllib3 and s3transfer included),
through `s3c run` and through `s3c serve`, in five modes:

- `ok`: against the session's SeaweedFS, succeeding (SeaweedFS refuses a session token, so
  the token is used only in the failing modes);
- `refused`: against SeaweedFS with a distinctive secret key and session token it refuses;
- `echo`: against a server on 127.0.0.1 that answers every request with a 400 S3 error whose
  Message echoes every request header (Authorization, x-amz-security-token, the SSE-C key and
  its MD5);
- `bad_token`: with a session token holding a line break, which botocore refuses to send
  ("Invalid header value b'...'"), from the environment (the default chain: AWS_SECRET_ACCESS_KEY
  and AWS_SESSION_TOKEN, so no setting holds them);
- `bad_token_setting`: the same token in the connection's settings (refused as a setting, or
  by botocore).

Everything printed and logged is collected, and none of the secrets' forms may occur in it:
the secret key and tokens carry a random marker, searched for as such (so any encoding that
keeps it, partial leaks included, is caught); each SSE-C key is searched for as base64
(plain and URL-encoded), raw bytes (as a bytes repr shows them), hex and MD5 (base64 and
hex); and no hex signature may follow `Signature=`. The one exception is Presigned Link's
`url`, a credential by design (see docs/connection.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from support import unique_bucket

from s3_connector.connector.connection import Connection
from s3_connector.connector.documents import Document
from s3_connector.connector.harness import Harness
from s3_connector.connector.registry import Registry
from s3_connector.sdk.local_server import SECRET_ACCESS_KEY as SEAWEED_SECRET

S3C = str(Path(sys.executable).with_name("s3c"))
MARK = uuid.uuid4().hex[:16]
SECRET_KEY = f"sweepSecretKey+{MARK}/k="
SESSION_TOKEN = f"sweepSessionToken+{MARK}/t=="
BAD_TOKEN = f"sweepBadToken+{MARK}\nsecond-line-{MARK}"
SSE_KEYS = {name: os.urandom(32) for name in ("object", "source", "destination")}
KEY = {name: base64.b64encode(raw).decode() for name, raw in SSE_KEYS.items()}
PRESIGNED = ("url", "link")
"""Presigned Link's properties that carry a signature, and a token, by design."""
ACTIVITIES = [
    "put_object",
    "get_object",
    "list_objects",
    "delete_object",
    "copy_object",
    "move_object",
    "exists",
    "head_object",
    "list_buckets",
    "list_prefixes",
    "purge",
    "create",
    "read",
    "write",
    "presign",
]
MODES = ["ok", "refused", "echo", "bad_token", "bad_token_setting"]
REPORTS_REFUSALS = ("exists", "presign")
"""Activities that may answer in the failing modes: Exists reports a refusal as its state, and
a link is signed without a request when the bucket's region is not found."""
SIGNED = re.compile(r"(?i)signature(?:=|%3d|:\s*)[0-9a-f]{16}")


def secret_forms() -> dict[str, str]:
    """Every form searched for, by what it is."""
    forms = {
        "secret key / session token marker": MARK,
        "SeaweedFS secret key": SEAWEED_SECRET,
    }
    for name, raw in SSE_KEYS.items():
        md5 = hashlib.md5(raw).digest()
        b64 = base64.b64encode(raw).decode()
        md5_b64 = base64.b64encode(md5).decode()
        forms |= {
            f"{name} SSE-C key, base64": b64,
            f"{name} SSE-C key, base64 URL-encoded": urllib.parse.quote(b64, safe=""),
            f"{name} SSE-C key, raw bytes": repr(raw)[2:-1],
            f"{name} SSE-C key, hex": raw.hex(),
            f"{name} SSE-C key, HEX": raw.hex().upper(),
            f"{name} SSE-C key MD5, base64": md5_b64,
            f"{name} SSE-C key MD5, base64 URL-encoded": urllib.parse.quote(md5_b64, safe=""),
            f"{name} SSE-C key MD5, hex": md5.hex(),
            f"{name} SSE-C key MD5, HEX": md5.hex().upper(),
        }
    return forms


FORMS = secret_forms()


def leaks(collected: list[tuple[str, str]]) -> list[str]:
    """Where each secret form, or a signature, occurs in the collected texts."""
    found = []
    for where, text in collected:
        for what, form in FORMS.items():
            if form in text:
                at = text.index(form)
                found.append(f"{what} in {where}: ...{text[max(0, at - 120) : at + 80]!r}...")
        match = SIGNED.search(text)
        if match:
            found.append(
                f"a signature in {where}: {text[max(0, match.start() - 80) : match.end()]!r}"
            )
    return found


# --- the echo server -------------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with a 400 whose S3 error Message echoes the request's headers."""

    protocol_version = "HTTP/1.1"

    def _drain(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                self.rfile.read(size + 2)
                if size == 0:
                    break
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def _answer(self) -> None:
        self._drain()
        echoed = "; ".join(f"{name}: {value}" for name, value in self.headers.items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidRequest</Code>'
            f"<Message>you sent {self.command} {escape(self.path)} with {escape(echoed)}"
            "</Message><RequestId>ECHO-1</RequestId></Error>"
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/xml")
        self.send_header("x-amz-request-id", "ECHO-1")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def echo_endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


# --- settings and configurations -------------------------------------------------------------


def connection_settings(mode: str, seaweed, echo_endpoint: str) -> dict:
    settings = dict(seaweed.connection_settings())
    if mode == "ok":
        return settings
    settings |= {"secret_access_key": SECRET_KEY, "max_attempts": 1}
    settings["session_token"] = BAD_TOKEN if mode == "bad_token_setting" else SESSION_TOKEN
    if mode != "refused":
        settings["endpoint_url"] = echo_endpoint
    if mode == "bad_token":
        for name in ("access_key_id", "secret_access_key", "session_token"):
            settings.pop(name)
        settings["auth"] = "default_chain"
    return settings


ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "AKIASWEEPENVIRONMENT",
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_SESSION_TOKEN": BAD_TOKEN,
}
"""The default chain's credentials in mode bad_token."""


@pytest.fixture
def environment(request, monkeypatch) -> dict[str, str]:
    """The process environment of the mode (for in-process runs, and for the CLI's)."""
    if request.node.callspec.params["mode"] == "bad_token":
        for name, value in ENVIRONMENT.items():
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("S3C_DEBUG", raising=False)
    return dict(os.environ)


def configuration(activity: str, place: tuple[str, str]) -> tuple[dict, bytes | None]:
    """The activity's configuration, with every SSE-C key it takes, and its input content,
    for the objects under `place` (a bucket and a prefix, see `place`)."""
    bucket, prefix = place
    on = {"bucket": bucket}
    encrypted = {**on, "key": f"{prefix}enc.txt", "sse_c_key": KEY["object"]}
    copied = {
        **on,
        "key": f"{prefix}src.txt",
        "source_sse_c_key": KEY["source"],
        "sse_c_key": KEY["destination"],
    }
    written = {**on, "sse_c_key": KEY["object"]}
    configurations = {
        "put_object": ({**written, "key": f"{prefix}new.txt"}, b"new content"),
        "get_object": (encrypted, None),
        "list_objects": ({**encrypted, "prefix": f"{prefix}enc", "include_metadata": True}, None),
        "delete_object": ({**on, "key": f"{prefix}plain.txt"}, None),
        "copy_object": ({**copied, "destination_key": f"{prefix}copy.txt"}, None),
        "move_object": ({**copied, "destination_key": f"{prefix}moved.txt"}, None),
        "exists": (encrypted, None),
        "head_object": (encrypted, None),
        "list_buckets": ({"prefix": bucket}, None),
        "list_prefixes": ({**on, "prefix": prefix}, None),
        "purge": ({**on, "prefix": f"{prefix}plain", "dry_run": False}, None),
        "create": ({**written, "key": f"{prefix}created.txt"}, None),
        "read": (encrypted, None),
        "write": ({**written, "key": f"{prefix}written.txt", "data": "data"}, None),
        "presign": ({**on, "key": f"{prefix}plain.txt"}, None),
    }
    config, content = configurations[activity]
    if activity == "list_objects":
        config.pop("key")
    return config, content


def test_the_sweep_covers_every_shipped_activity():
    assert sorted(ACTIVITIES) == Registry.shipped().ids


@pytest.fixture(scope="module")
def sweep_bucket(seaweed) -> str:
    """One bucket for the module (SeaweedFS gives each bucket volumes of its own)."""
    name = unique_bucket("sweep")
    seaweed.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def place(request, seaweed, sweep_bucket) -> tuple[str, str]:
    """The bucket and a prefix of the test's own. In mode ok, the prefix holds enc.txt (SSE-C,
    the object key), src.txt (SSE-C, the source key) and plain.txt."""
    prefix = f"{uuid.uuid4().hex[:12]}/"
    if request.node.callspec.params["mode"] == "ok":
        harness = Harness(Connection(seaweed.connection_settings()))
        for key, sse in (("enc.txt", "object"), ("src.txt", "source"), ("plain.txt", None)):
            config = {"bucket": sweep_bucket, "key": f"{prefix}{key}"}
            config |= {"sse_c_key": KEY[sse]} if sse else {}
            list(harness.run("put_object", config, [Document({}, b"stored content")]))
    return sweep_bucket, prefix


@pytest.fixture
def debug_log():
    """Every record logged in the process, at DEBUG, formatted by a plain root handler."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(level)


def shown(activity: str, properties: dict) -> str:
    """A response document as collected: all of it but Presigned Link's link."""
    if activity == "presign":
        properties = {k: v for k, v in properties.items() if k not in PRESIGNED}
    return json.dumps(properties, default=str)


def expect_outcome(mode: str, activity: str, succeeded: bool, output: str) -> None:
    if mode == "ok":
        assert succeeded, f"{activity} should succeed on SeaweedFS: {output}"
    elif activity not in REPORTS_REFUSALS:
        assert not succeeded, f"{activity} should fail in mode {mode}: {output}"


# --- the sweep -------------------------------------------------------------------------------


@pytest.mark.parametrize("activity", ACTIVITIES)
@pytest.mark.parametrize("mode", MODES)
def test_in_process_harness_at_debug(
    mode, activity, seaweed, echo_endpoint, place, debug_log, environment, capfd, data_plane
):
    settings = {**connection_settings(mode, seaweed, echo_endpoint), "data_plane": data_plane}
    config, content = configuration(activity, place)
    documents = None if content is None else [Document({"file_name": "new.txt"}, content)]
    collected: list[tuple[str, str]] = []
    try:
        responses = Harness(Connection(settings)).run(activity, config, documents)
        collected += [("a response", shown(activity, d.properties)) for d in responses]
        succeeded = True
    except Exception as exc:
        # What an embedding host does with a failure: log it, with its traceback.
        logging.getLogger("host.application").exception("%s failed: %s", activity, exc)
        to_dict = getattr(exc, "to_dict", None)
        collected += [("the error", f"{type(exc).__name__}: {exc}")]
        collected += [("the error's dict", json.dumps(to_dict()))] if to_dict else []
        succeeded = False
    expect_outcome(mode, activity, succeeded, repr(collected))
    collected += [("a log record", text) for text in debug_log]
    captured = capfd.readouterr()
    collected += [("stdout", captured.out), ("stderr", captured.err)]
    if not (data_plane == "crt" and mode == "ok"):
        # botocore logged its requests at DEBUG (with keys in the settings, a transfer on the
        # CRT plane sends no botocore request, and may log nothing)
        assert len(debug_log) > 0
    assert leaks(collected) == []


def s3c(args: list, environment: dict, stdin: bytes | None = None):
    return subprocess.run(
        [S3C, *map(str, args)],
        input=stdin or b"",
        capture_output=True,
        timeout=120,
        env=environment,
    )


def shown_lines(activity: str, stdout: str) -> str:
    lines = []
    for line in stdout.splitlines():
        try:
            properties = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        lines.append(shown(activity, properties) if isinstance(properties, dict) else line)
    return "\n".join(lines)


@pytest.mark.parametrize("activity", ACTIVITIES)
@pytest.mark.parametrize("mode", MODES)
def test_s3c_run(mode, activity, seaweed, echo_endpoint, place, environment, tmp_path):
    connection = tmp_path / "conn.json"
    connection.write_text(json.dumps(connection_settings(mode, seaweed, echo_endpoint)))
    config, content = configuration(activity, place)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    arguments = ["run", activity, "-c", connection, "--config", config_file]
    arguments += ["--input", "-"] if content is not None else []
    result = s3c(arguments, environment, content)
    stdout, stderr = result.stdout.decode(), result.stderr.decode()
    expect_outcome(mode, activity, result.returncode == 0, stdout + stderr)
    assert leaks([("stdout", shown_lines(activity, stdout)), ("stderr", stderr)]) == []


@pytest.mark.parametrize("mode", MODES)
def test_s3c_serve(mode, seaweed, echo_endpoint, place, environment):
    connection = connection_settings(mode, seaweed, echo_endpoint)
    requests = []
    for activity in ACTIVITIES:
        config, content = configuration(activity, place)
        request = {"id": activity, "activity": activity, "connection": connection}
        request["config"] = config
        if content is not None:
            request["documents"] = [{"content_text": content.decode()}]
        requests.append(json.dumps(request))
    result = s3c(["serve"], environment, "\n".join(requests).encode() + b"\n")
    assert result.returncode == 0, result.stderr
    finals = {}
    for line in result.stdout.decode().splitlines():
        answer = json.loads(line)
        if "status" in answer:
            finals[answer["request_id"]] = answer
    assert sorted(finals) == sorted(ACTIVITIES)
    for activity, final in finals.items():
        expect_outcome(mode, activity, final["status"] == "ok", json.dumps(final))
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    for answer in lines:
        if answer["request_id"] == "presign" and "properties" in answer:
            answer["properties"] = json.loads(shown("presign", answer["properties"]))
    stdout = "\n".join(json.dumps(answer) for answer in lines)
    assert leaks([("stdout", stdout), ("stderr", result.stderr.decode())]) == []
