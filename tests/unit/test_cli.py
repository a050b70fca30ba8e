import base64
import json
import os

import boto3
import pytest
from click.testing import CliRunner
from support import MOTO_SETTINGS

from s3_connector.cli.main import cli
from s3_connector.sdk.export import DESCRIPTORS_DIR, exported_paths


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def conn_file(tmp_path):
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(MOTO_SETTINGS))
    return str(path)


def invoke(runner, *args, input=None):
    return runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


def run(runner, conn_file, activity, bucket, *args, input=None):
    """`s3c run ACTIVITY -c CONN -p bucket=BUCKET ARGS...`"""
    return invoke(
        runner, "run", activity, "-c", conn_file, "-p", f"bucket={bucket}", *args, input=input
    )


def lines(output):
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_version(runner):
    result = invoke(runner, "--version")
    assert result.exit_code == 0 and result.output.startswith("s3c, version ")


@pytest.mark.parametrize(
    ("args", "field", "rule"),
    [
        (["run", "put_object", "-p", "bucket=ab"], "bucket", "valid S3 bucket name"),
        (
            ["run", "list_objects", "-p", "bucket=abc", "-p", "max_results=100001"],
            "max_results",
            "less than or equal to 100000",
        ),
        (
            [
                "run",
                "put_object",
                "-p",
                "bucket=abc",
                "-p",
                "sse_c_key=" + base64.b64encode(b"k" * 16).decode(),
            ],
            "sse_c_key",
            "32-byte",
        ),
        (["run", "copy_everything"], "activity", "unknown activity"),
        (["run", "put_object", "-p", "bucket=abc", "-p", "colour=red"], "colour", "unknown field"),
        (
            ["run", "put_object", "-p", "bucket=abc", "-p", "overwrite=maybe"],
            "overwrite",
            "not a valid boolean",
        ),
        (["run", "put_object", "-p", "nonsense"], "-p", "must be NAME=VALUE"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_field_and_rule(
    runner, moto, moto_bucket, args, field, rule, tmp_path
):
    source = tmp_path / "in.txt"
    source.write_text("data")
    result = invoke(runner, *args, "--input", source)
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"error: {field}: ") and rule in line
    assert boto3.client("s3").list_objects_v2(Bucket=moto_bucket).get("KeyCount") == 0


def test_malformed_connection_json_exits_2(runner, tmp_path):
    bad = tmp_path / "conn.json"
    bad.write_text('{"auth": "access_keys",')
    result = invoke(runner, "run", "list_objects", "-c", bad, "-p", "bucket=abc")
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: connection: ") and "not valid JSON" in line


def test_invalid_connection_setting_names_the_connection_field(runner, tmp_path):
    bad = tmp_path / "conn.json"
    bad.write_text(json.dumps({"auth": "access_keys", "access_key_id": "A"}))
    result = invoke(runner, "connection", "test", "-c", bad)
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: connection.secret_access_key: required when auth is access_keys or "
        "access_key_id is set"
    )


def test_put_directory_then_list_then_get(runner, moto, moto_bucket, conn_file, tmp_path):
    source = tmp_path / "in"
    (source / "sub").mkdir(parents=True)
    (source / "a.json").write_text('{"n": 1}')
    (source / "sub" / "b.txt").write_text("bee")
    put = run(runner, conn_file, "put_object", moto_bucket, "-p", "folder=up", "--input", source)
    assert put.exit_code == 0, put.output
    assert [r["key"] for r in lines(put.stdout)] == ["up/a.json", "up/sub/b.txt"]

    listed = run(runner, conn_file, "list_objects", moto_bucket, "-p", "prefix=up/")
    [listing] = lines(listed.output)
    assert [o["key"] for o in listing["objects"]] == ["up/a.json", "up/sub/b.txt"]
    assert listing["truncated"] is False

    inline = run(runner, conn_file, "get_object", moto_bucket, "-p", "key=up/a.json")
    [response] = lines(inline.output)
    assert response["content"] == {"n": 1} and response["content_format"] == "json"

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    saved = run(
        runner, conn_file, "get_object", moto_bucket, "-p", "key=up/sub/b.txt", "--output", out_dir
    )
    [response] = lines(saved.output)
    assert (out_dir / "up" / "sub" / "b.txt").read_text() == "bee"
    assert response["output"] == str(out_dir / "up" / "sub" / "b.txt")
    assert "content" not in response


def test_parameters_are_json_when_they_parse(runner, moto, moto_bucket, conn_file, tmp_path):
    config = tmp_path / "put.json"
    config.write_text(json.dumps({"bucket": moto_bucket, "metadata": {"from": "config"}}))
    result = invoke(
        runner,
        "run",
        "put_object",
        "-c",
        conn_file,
        "--config",
        config,
        "-p",
        "key=007",
        "-p",
        'metadata={"from": "cli"}',
        "--input",
        "-",
        input="hello",
    )
    assert result.exit_code == 0, result.output
    [response] = lines(result.output)
    assert response["key"] == "007"
    head = boto3.client("s3").head_object(Bucket=moto_bucket, Key="007")
    assert head["Metadata"] == {"from": "cli"} and head["ContentLength"] == 5


def test_output_dash_streams_content_to_stdout(runner, moto, moto_bucket, conn_file):
    boto3.client("s3").put_object(Bucket=moto_bucket, Key="raw.bin", Body=b"\x00\x01raw")
    result = runner.invoke(
        cli,
        [
            "run",
            "get_object",
            "-c",
            conn_file,
            "-p",
            f"bucket={moto_bucket}",
            "-p",
            "key=raw.bin",
            "--output",
            "-",
        ],
    )
    assert result.exit_code == 0
    assert result.stdout_bytes == b"\x00\x01raw"
    assert json.loads(result.stderr)["key"] == "raw.bin"


def test_missing_object_exits_3_and_keeps_the_request_id(runner, moto, moto_bucket, conn_file):
    result = run(runner, conn_file, "get_object", moto_bucket, "-p", "key=absent")
    assert result.exit_code == 3
    assert "NoSuchKey" in result.output and "request id" in result.output


def test_existing_key_with_overwrite_false_fails_and_keeps_the_object(
    runner, moto, moto_bucket, conn_file
):
    args = [
        "run",
        "put_object",
        "-c",
        conn_file,
        "-p",
        f"bucket={moto_bucket}",
        "-p",
        "key=k",
        "-p",
        "overwrite=false",
        "--input",
        "-",
    ]
    assert invoke(runner, *args, input="one").exit_code == 0
    second = invoke(runner, *args, input="two")
    assert second.exit_code == 1 and "PreconditionFailed" in second.output
    body = boto3.client("s3").get_object(Bucket=moto_bucket, Key="k")["Body"].read()
    assert body == b"one"


def test_connection_test_prints_json(runner, moto, moto_bucket, conn_file):
    result = invoke(runner, "connection", "test", "-c", conn_file)
    assert result.exit_code == 0 and json.loads(result.output)["ok"] is True
    missing = invoke(runner, "connection", "test", "-c", conn_file, "--bucket", "not-a-bucket")
    assert missing.exit_code == 3 and json.loads(missing.output)["error"] == "not_found"


def test_default_chain_uses_the_environment(runner, seaweed, seaweed_bucket, monkeypatch):
    settings = seaweed.connection_settings()
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", settings["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", settings["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", settings["secret_access_key"])
    result = invoke(runner, "run", "list_objects", "-p", f"bucket={seaweed_bucket}")
    assert result.exit_code == 0 and lines(result.output)[0]["objects"] == []


def test_secrets_never_reach_the_output(runner, moto, moto_bucket, tmp_path):
    secret = "s3cr3t-" + "z" * 30
    sse = base64.b64encode(b"Q" * 32).decode()
    conn = tmp_path / "conn.json"
    conn.write_text(
        json.dumps({**MOTO_SETTINGS, "secret_access_key": secret, "session_token": secret})
    )
    outputs = []
    for args in (
        ["connection", "test", "-c", conn],
        [
            "run",
            "put_object",
            "-c",
            conn,
            "-p",
            f"bucket={moto_bucket}",
            "-p",
            "key=x",
            "-p",
            f"sse_c_key={sse}",
            "--input",
            "-",
        ],
        ["run", "put_object", "-c", conn, "-p", "bucket=ab", "-p", f"sse_c_key={sse}"],
        [
            "run",
            "get_object",
            "-c",
            conn,
            "-p",
            f"bucket={moto_bucket}",
            "-p",
            "key=nope",
            "-p",
            f"sse_c_key={sse}",
        ],
    ):
        outputs.append(invoke(runner, *args, input="data").output)
    text = "\n".join(outputs)
    assert secret not in text and sse not in text and "moto-secret" not in text
    assert "error:" in text


def test_descriptors_list_show_export_validate(runner, tmp_path):
    listed = invoke(runner, "descriptors", "list")
    rows = [line.split() for line in listed.output.strip().splitlines()]
    assert rows[0] == ["ID", "NAME", "ROLE"]
    assert ["put_object", "Put", "Object", "target"] in rows
    assert ["get_object", "Get", "Object", "source"] in rows
    shown = json.loads(invoke(runner, "descriptors", "show", "list_objects").output)
    assert shown["id"] == "list_objects"
    bundle_file = tmp_path / "bundle.json"
    assert invoke(runner, "descriptors", "export", "-o", bundle_file).exit_code == 0
    bundle = json.loads(bundle_file.read_text())
    assert bundle["connection"]["kind"] == "connection"
    shipped = sorted(path.stem for path in exported_paths() if path.stem != "connection")
    assert [a["id"] for a in bundle["activities"]] == shipped
    valid = invoke(runner, "descriptors", "validate")
    assert valid.exit_code == 0 and f"{len(shipped) + 1} descriptors valid" in valid.output


def test_validate_names_a_missing_role(runner, tmp_path):
    broken = json.loads((DESCRIPTORS_DIR / "put_object.json").read_text())
    del broken["role"]
    path = tmp_path / "put_object.json"
    path.write_text(json.dumps(broken))
    result = invoke(runner, "descriptors", "validate", path)
    assert result.exit_code == 2
    assert "'role' is a required property" in result.output


def test_run_without_input_for_a_consuming_activity(runner, moto, moto_bucket, conn_file):
    result = invoke(runner, "run", "put_object", "-c", conn_file, "-p", f"bucket={moto_bucket}")
    assert result.exit_code == 2
    assert result.output.startswith("error: --input: put_object needs input documents")


def test_output_file_refuses_path_escape(runner, moto, moto_bucket, conn_file, tmp_path):
    boto3.client("s3").put_object(Bucket=moto_bucket, Key="../escape.txt", Body=b"x")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = run(
        runner, conn_file, "get_object", moto_bucket, "-p", "key=../escape.txt", "--output", out_dir
    )
    assert result.exit_code == 2 and "error: key: '../escape.txt'" in result.output
    assert not (tmp_path / "escape.txt").exists()
    assert os.listdir(out_dir) == []


def test_unreachable_endpoint_is_a_transient_failure_exit_4(runner, tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conn = tmp_path / "conn.json"
    conn.write_text(
        json.dumps(
            {
                **MOTO_SETTINGS,
                "endpoint_url": f"http://127.0.0.1:{port}",
                "max_attempts": 2,
                "connect_timeout": 1,
            }
        )
    )
    result = invoke(
        runner, "run", "list_objects", "-c", conn, "-p", "bucket=abc", "-p", "region=us-east-1"
    )
    assert result.exit_code == 4
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ListObjectsV2 s3://abc/ failed after retries")
