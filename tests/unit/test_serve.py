"""`s3c serve`: request lines in, response lines out, one warm process (moto)."""

import base64
import io
import json
import os

import boto3
import pytest
from click.testing import CliRunner
from support import MOTO_SETTINGS

from s3_connector.cli import agent as agent_module
from s3_connector.cli.main import S3cGroup
from s3_connector.cli.serve_command import serve
from s3_connector.connector import connection as connection_module
from s3_connector.connector.errors import NotFound

SSE_KEY = base64.b64encode(b"serve-test-sse-c-key-32-bytes!!!").decode()
"""A key of this file's own: redaction is process-wide, and another test file that registers
the same key with a trailing newline would change how this one is masked."""


@pytest.fixture
def conn_file(tmp_path):
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(MOTO_SETTINGS))
    return str(path)


def requests_text(*requests):
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests)


def serve_lines(*requests, args=(), conn_file=None):
    """Run `s3c serve` on these request lines; (exit code, JSON lines of stdout, stderr)."""
    options = [*(["-c", conn_file] if conn_file else []), *args]
    result = CliRunner().invoke(serve, options, input=requests_text(*requests))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, lines, result.stderr


def by_request(lines):
    grouped = {}
    for line in lines:
        grouped.setdefault(json.dumps(line["request_id"]), []).append(line)
    return grouped


def put(request_id, bucket, key, data=b"hello", **config):
    return {
        "id": request_id,
        "activity": "put_object",
        "config": {"bucket": bucket, "key": key, **config},
        "documents": [{"content_base64": base64.b64encode(data).decode()}],
    }


def get(request_id, bucket, key, **extra):
    return {"id": request_id, "activity": "get_object", "config": {"bucket": bucket, "key": key}}


def test_keeps_serving_after_errors_and_tags_every_line(moto, moto_bucket, conn_file):
    code, lines, _ = serve_lines(
        put("put-1", moto_bucket, "a/one.txt", b"first"),
        get(2, moto_bucket, "a/one.txt"),
        {"id": "bad", "activity": "copy_everything"},
        get("missing", moto_bucket, "a/none.txt"),
        put("put-2", moto_bucket, "a/two.txt", b"second"),
        conn_file=conn_file,
    )
    assert code == 0
    assert [line["request_id"] for line in lines] == [
        "put-1",
        "put-1",
        2,
        2,
        "bad",
        "missing",
        "put-2",
        "put-2",
    ]
    stored, done = lines[0:2]
    assert stored["properties"]["key"] == "a/one.txt" and stored["properties"]["size"] == 5
    assert done == {**done, "status": "ok", "documents": 1}
    fetched = lines[2]
    assert fetched["content"] == "first" and fetched["content_format"] == "text"
    assert fetched["properties"]["bucket"] == moto_bucket
    bad = lines[4]
    assert bad["status"] == "error" and bad["exit_code"] == 2 and bad["documents"] == 0
    assert bad["error"]["kind"] == "invalid_input" and bad["error"]["field"] == "activity"
    assert "unknown activity 'copy_everything'" in bad["error"]["message"]
    missing = lines[5]
    assert (missing["status"], missing["exit_code"]) == ("error", 3)
    assert missing["error"]["kind"] == "not_found"
    assert lines[7]["status"] == "ok"
    body = boto3.client("s3").get_object(Bucket=moto_bucket, Key="a/two.txt")["Body"].read()
    assert body == b"second"


def test_documents_inline_base64_text_and_path(moto, moto_bucket, conn_file, tmp_path):
    source = tmp_path / "report.csv"
    source.write_bytes(b"id,total\n1,9.50\n")
    code, lines, _ = serve_lines(
        {
            "id": "many",
            "activity": "put_object",
            "config": {"bucket": moto_bucket, "folder": "in"},
            "documents": [
                {"path": str(source)},
                {"properties": {"file_name": "b.bin"}, "content_base64": "AAEC"},
                {"properties": {"key": "in/c.json"}, "content_text": '{"a": 1}'},
                {"properties": {"key": "in/empty.txt"}},
            ],
        },
        conn_file=conn_file,
    )
    assert code == 0
    *documents, final = lines
    assert final["status"] == "ok" and final["documents"] == 4
    assert [d["properties"]["key"] for d in documents] == [
        "in/report.csv",
        "in/b.bin",
        "in/c.json",
        "in/empty.txt",
    ]
    s3 = boto3.client("s3")
    bodies = {
        key: s3.get_object(Bucket=moto_bucket, Key=key)["Body"].read()
        for key in ("in/report.csv", "in/b.bin", "in/c.json", "in/empty.txt")
    }
    assert bodies == {
        "in/report.csv": source.read_bytes(),
        "in/b.bin": b"\x00\x01\x02",
        "in/c.json": b'{"a": 1}',
        "in/empty.txt": b"",
    }


def test_content_goes_inline_or_under_output_dir(moto, moto_bucket, conn_file, tmp_path):
    data = os.urandom(300)
    s3 = boto3.client("s3")
    s3.put_object(Bucket=moto_bucket, Key="d/raw.bin", Body=data)
    s3.put_object(
        Bucket=moto_bucket, Key="d/doc.json", Body=b'{"n": [1, 2]}', ContentType="application/json"
    )
    out = tmp_path / "out"
    code, lines, _ = serve_lines(
        get(1, moto_bucket, "d/raw.bin"),
        get(2, moto_bucket, "d/doc.json"),
        {**get(3, moto_bucket, "d/raw.bin"), "output_dir": str(out)},
        conn_file=conn_file,
    )
    assert code == 0
    raw, json_doc, written = lines[0], lines[2], lines[4]
    assert raw["content_format"] == "base64" and base64.b64decode(raw["content"]) == data
    assert json_doc["content"] == {"n": [1, 2]} and json_doc["content_format"] == "json"
    assert "content" not in written
    assert written["output"] == str(out / "d" / "raw.bin")
    assert (out / "d" / "raw.bin").read_bytes() == data


@pytest.mark.parametrize(
    ("line", "field", "rule"),
    [
        ('{"id": 1, "activity": ', "request", "not valid JSON"),
        ("[1, 2]", "request", "must be a JSON object"),
        ('{"id": true, "activity": "put_object"}', "id", "string or number"),
        ('{"activity": "put_object", "colour": "red"}', "colour", "unknown field"),
        ('{"config": {}}', "activity", "required"),
        ('{"activity": "put_object", "config": [1]}', "config", "JSON object"),
        ('{"activity": "put_object", "connection": "conn.json"}', "connection", "JSON object"),
        ('{"activity": "put_object", "documents": {}}', "documents", "JSON array"),
        (
            '{"activity": "put_object", "documents": [{"content_base64": "@@"}]}',
            "documents[0].content_base64",
            "base64",
        ),
        (
            '{"activity": "put_object", "documents": [{"path": "/nonexistent/x"}]}',
            "documents[0].path",
            "not a readable file",
        ),
        (
            '{"activity": "put_object", "documents": [{"path": "/etc/hostname", '
            '"content_text": "x"}]}',
            "documents[0].path",
            "at most one of",
        ),
        (
            '{"activity": "put_object", "documents": [{"body": "x"}]}',
            "documents[0].body",
            "unknown field",
        ),
        ('{"activity": "put_object", "config": {"bucket": "demo"}}', "documents", "needs input"),
        ('{"activity": "get_object", "config": {"bucket": "demo"}}', "key", "required"),
        (
            '{"activity": "put_object", "connection": {"auth": "sso"}, "documents": []}',
            "connection.auth",
            "must be one of",
        ),
    ],
)
def test_bad_lines_get_invalid_input_lines_and_serving_goes_on(
    moto, moto_bucket, conn_file, line, field, rule
):
    code, lines, stderr = serve_lines(line, put("after", moto_bucket, "k.txt"), conn_file=conn_file)
    assert code == 0
    error, stored, done = lines
    assert error["status"] == "error" and error["exit_code"] == 2
    assert error["error"]["kind"] == "invalid_input"
    assert error["error"]["field"] == field and rule in error["error"]["message"]
    assert error["request_id"] == 1
    assert stored["request_id"] == done["request_id"] == "after" and done["status"] == "ok"
    assert "Traceback" not in stderr


def test_request_id_is_the_line_number_when_absent_and_blank_lines_count(moto, conn_file):
    code, lines, _ = serve_lines("", '{"activity": "nothing"}', "   ", "{", conn_file=conn_file)
    assert code == 0
    assert [(line["request_id"], line["exit_code"]) for line in lines] == [(2, 2), (4, 2)]


def test_same_connection_is_reused_across_requests(moto, moto_bucket, conn_file, monkeypatch):
    created = []

    class Counting(connection_module.Connection):
        def __init__(self, settings=None):
            super().__init__(settings)
            created.append(self)

    monkeypatch.setattr(connection_module, "Connection", Counting)
    reordered = dict(reversed(list(MOTO_SETTINGS.items())))
    other = {**MOTO_SETTINGS, "max_attempts": 2}
    code, lines, _ = serve_lines(
        {**put(1, moto_bucket, "r1"), "connection": MOTO_SETTINGS},
        {**get(2, moto_bucket, "r1"), "connection": reordered},
        {**put(3, moto_bucket, "r3"), "connection": MOTO_SETTINGS},
        {**put(4, moto_bucket, "r4"), "connection": other},
        put(5, moto_bucket, "r5"),
        put(6, moto_bucket, "r6"),
        conn_file=conn_file,
    )
    assert code == 0 and all(line.get("status", "ok") == "ok" for line in lines)
    # one from -c (the default of requests 5 and 6), one for 1-3, one for 4
    assert len(created) == 3
    warm = created[1]
    assert "max_attempts" not in warm.settings and len(warm._clients) == 1
    assert created[2].settings["max_attempts"] == 2
    assert warm.regions._regions == {moto_bucket: "us-east-1"}


def test_connection_cache_keeps_a_few_least_recently_used(moto):
    cache = agent_module.ConnectionCache(lambda: None, size=2)
    settings = [{**MOTO_SETTINGS, "max_attempts": n} for n in (1, 2, 3)]
    first = cache.get(settings[0])
    cache.get(settings[1])
    assert cache.get(settings[0]) is first
    cache.get(settings[2])  # evicts settings[1], the least recently used
    assert cache.get(settings[0]) is first and cache.created == 3
    cache.get(settings[1])
    assert cache.created == 4


def test_secrets_never_appear_in_output_or_logs(moto, moto_bucket, monkeypatch):
    secret = "wJalrXUtnFEMI-very-secret-KEY"
    connection = {**MOTO_SETTINGS, "secret_access_key": secret}
    real_prepare = agent_module.Harness.prepare

    def prepare(self, activity_id, config=None):
        if activity_id == "list_objects":
            raise RuntimeError(f"a library that echoes {secret} and {SSE_KEY}\nsecond line")
        return real_prepare(self, activity_id, config)

    monkeypatch.setattr(agent_module.Harness, "prepare", prepare)
    code, lines, stderr = serve_lines(
        {**put(1, moto_bucket, "s.txt", sse_c_key=SSE_KEY), "connection": connection},
        {**get(2, moto_bucket, "missing"), "connection": connection},
        {
            "id": 3,
            "activity": "list_objects",
            "connection": connection,
            "config": {"bucket": moto_bucket, "sse_c_key": SSE_KEY},
        },
        {"id": 4, "activity": "put_object", "connection": {**connection, "auth": "x"}},
    )
    assert code == 0
    text = json.dumps(lines) + stderr
    assert secret not in text and SSE_KEY not in text
    unexpected = by_request(lines)["3"][-1]
    assert unexpected["error"]["kind"] == "error" and unexpected["exit_code"] == 1
    assert unexpected["error"]["message"] == (
        "unexpected RuntimeError: a library that echoes **** and **** second line"
    )
    assert by_request(lines)["4"][-1]["error"]["field"] == "connection.auth"


def test_a_failure_inside_a_streamed_listing_leaves_no_half_line(moto, conn_file, monkeypatch):
    def broken_objects():
        yield {"key": "a"}
        raise NotFound("the bucket went away")

    def run(self, documents=None, check_first=False):
        yield agent_module.Document({"objects": broken_objects(), "count": 2})

    monkeypatch.setattr(
        agent_module.Harness, "prepare", lambda *a, **k: type("P", (), {"run": run})()
    )
    code, lines, _ = serve_lines({"id": "l", "activity": "list_objects"}, conn_file=conn_file)
    assert code == 0
    assert lines == [
        {
            "request_id": "l",
            "status": "error",
            "error": {
                "kind": "not_found",
                "field": None,
                "message": "the bucket went away",
                "s3_request_id": None,
            },
            "exit_code": 3,
            "documents": 0,
            "elapsed_ms": lines[0]["elapsed_ms"],
        }
    ]


def test_listing_properties_are_streamed_into_one_line(moto, moto_bucket, conn_file):
    s3 = boto3.client("s3")
    for index in range(3):
        s3.put_object(Bucket=moto_bucket, Key=f"l/{index}", Body=b"x")
    code, lines, _ = serve_lines(
        {"id": 1, "activity": "list_objects", "config": {"bucket": moto_bucket}},
        conn_file=conn_file,
    )
    assert code == 0
    assert [o["key"] for o in lines[0]["properties"]["objects"]] == ["l/0", "l/1", "l/2"]
    assert lines[0]["properties"]["truncated"] is False


def test_workers_answer_every_request_once_with_its_lines_in_order(moto, moto_bucket, conn_file):
    requests = [put(f"r{n}", moto_bucket, f"w/{n}.txt", str(n).encode()) for n in range(24)]
    requests.insert(5, {"id": "bad", "activity": "nope"})
    code, lines, _ = serve_lines(*requests, args=["--workers", "4"], conn_file=conn_file)
    assert code == 0
    grouped = by_request(lines)
    assert len(grouped) == 25
    for request_id, group in grouped.items():
        if request_id == '"bad"':
            assert [line["exit_code"] for line in group] == [2]
            continue
        assert [("properties" in line, line.get("status")) for line in group] == [
            (True, None),
            (False, "ok"),
        ]
    listed = boto3.client("s3").list_objects_v2(Bucket=moto_bucket, Prefix="w/")
    assert listed["KeyCount"] == 24


def test_only_protocol_lines_on_stdout(moto, moto_bucket, conn_file, monkeypatch):
    real_prepare = agent_module.Harness.prepare

    def chatty(self, activity_id, config=None):
        print("a stray print from a library")
        return real_prepare(self, activity_id, config)

    monkeypatch.setattr(agent_module.Harness, "prepare", chatty)
    code, lines, stderr = serve_lines(put(1, moto_bucket, "p.txt"), conn_file=conn_file)
    assert code == 0 and [line["request_id"] for line in lines] == [1, 1]
    assert "a stray print" in stderr


def test_a_bad_connection_file_stops_before_serving_with_exit_2(tmp_path):
    path = tmp_path / "conn.json"
    path.write_text('{"auth": "access_keys"}')
    group = S3cGroup(name="s3c", commands={"serve": serve})
    result = CliRunner().invoke(group, ["serve", "-c", str(path)], input="")
    assert result.exit_code == 2
    assert "connection.access_key_id: required" in result.stderr and result.stdout == ""


def test_no_requests_no_lines_exit_0(moto, conn_file):
    assert serve_lines(conn_file=conn_file) == (0, [], "")


def test_an_error_after_some_documents_counts_them(moto, moto_bucket, conn_file):
    boto3.client("s3").put_object(
        Bucket=moto_bucket, Key="here.txt", Body=b"x", ContentType="text/plain"
    )
    code, lines, _ = serve_lines(
        {
            "id": "two",
            "activity": "get_object",
            "config": {"bucket": moto_bucket},
            "documents": [{"properties": {"key": "here.txt"}}, {"properties": {"key": "gone"}}],
        },
        conn_file=conn_file,
    )
    assert code == 0
    found, failed = lines
    assert found["properties"]["key"] == "here.txt" and found["content"] == "x"
    assert (failed["status"], failed["exit_code"], failed["documents"]) == ("error", 3, 1)


@pytest.mark.parametrize("workers", [1, 3])
def test_a_closed_stdout_stops_serving(moto, workers):
    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    agent = agent_module.Agent(Closed(), lambda: None, workers=workers, log=io.StringIO())
    with pytest.raises(BrokenPipeError):
        agent.serve(io.BytesIO(b'{"activity": "nope"}\n' * 50))
    assert agent.requests < 50


def test_protocol_2_ready_line_and_ping_never_call_s3(tmp_path, monkeypatch):
    path = tmp_path / "conn.json"
    path.write_text(json.dumps({**MOTO_SETTINGS, "endpoint_url": "http://127.0.0.1:9"}))
    monkeypatch.setattr(connection_module.Connection, "client", None)  # any S3 call fails
    code, lines, _ = serve_lines(
        {"id": "p", "ping": True}, args=("--protocol", "2"), conn_file=str(path)
    )
    ready, pong = lines
    assert code == 0 and ready["ready"] is True and ready["protocol"] == 2
    assert "put_object" in ready["activities"] and "request_id" not in ready
    assert pong == {"request_id": "p", "status": "ok", "pong": True, "documents": 0}


def test_protocol_2_refusals_carry_a_null_id_and_the_line(moto, conn_file):
    code, lines, _ = serve_lines(
        "not json",
        "",
        {"activity": "get_object"},
        {"id": "x", "activity": "get_object", "deadline_ms": 0},
        {"cancel": "nobody"},
        args=("--protocol", "2"),
        conn_file=conn_file,
    )
    refused = [(line["request_id"], line["line"], line["error"]["field"]) for line in lines[1:]]
    assert code == 0
    assert refused == [(None, 1, "request"), (None, 3, "id"), (None, 4, "deadline_ms")]


def test_protocol_2_reports_every_validation_error(moto, conn_file):
    request = {
        "id": "v",
        "activity": "put_object",
        "config": {"bucket": "B!", "key": "", "storage_class": "CHEAP"},
    }
    _, lines, _ = serve_lines(request, args=("--protocol", "2"), conn_file=conn_file)
    error = lines[1]["error"]
    assert [item["field"] for item in error["errors"]] == ["bucket", "key", "storage_class"]
    assert (error["field"], error["message"]) == (
        error["errors"][0]["field"],
        error["errors"][0]["message"],
    )
    assert error["s3_request_id"] is None
