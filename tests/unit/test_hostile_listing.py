"""A bucket whose keys someone else controls never places a file outside the output
directory, through `s3c run --output DIR/` or `s3c serve` with `output_dir`."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from click.testing import CliRunner
from support import MOTO_SETTINGS

from s3_connector.cli.main import cli
from s3_connector.cli.serve_command import serve

HOSTILE = [
    "//tmp/s3c-hostile.txt",
    "/etc/s3c-hostile.txt",
    "../up.txt",
    "a/../../b.txt",
    "./dot.txt",
    "a//b.txt",
    "back\\..\\slash.txt",
    "C:/win.txt",
]
SAFE = ["ok/file.txt", "dirm/", "dirm/inner.txt", "top.txt", "with:colon.txt"]


@pytest.fixture
def hostile_bucket(moto, moto_bucket):
    client = boto3.client("s3")
    for key in HOSTILE + SAFE:
        body = b"" if key.endswith("/") else key.encode()
        client.put_object(Bucket=moto_bucket, Key=key, Body=body)
    return moto_bucket


@pytest.fixture
def conn_file(tmp_path):
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(MOTO_SETTINGS))
    return str(path)


def everything_under(root):
    found = []
    for folder, dirs, names in os.walk(root):
        found += [os.path.relpath(os.path.join(folder, name), root) for name in names]
        found += [os.path.relpath(os.path.join(folder, name), root) + "/" for name in dirs]
    return sorted(found)


def get(conn_file, bucket, key, output):
    args = ["run", "get_object", "-c", conn_file, "-p", f"bucket={bucket}"]
    return CliRunner().invoke(cli, [*args, "-p", f"key={key}", "--output", str(output)])


def test_run_writes_safe_keys_and_refuses_hostile_ones(hostile_bucket, conn_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for key in HOSTILE:
        result = get(conn_file, hostile_bucket, key, f"{out}/")
        assert result.exit_code == 2, (key, result.output)
        assert result.output.startswith(f"error: key: {key!r} cannot be written"), result.output
    for key in SAFE:
        result = get(conn_file, hostile_bucket, key, f"{out}/")
        assert result.exit_code == 0, (key, result.output)
    assert everything_under(tmp_path) == [
        "conn.json",
        "out/",
        "out/dirm/",
        "out/dirm/inner.txt",
        "out/ok/",
        "out/ok/file.txt",
        "out/top.txt",
        "out/with:colon.txt",
    ]
    assert (out / "dirm" / "inner.txt").read_bytes() == b"dirm/inner.txt"
    assert not os.path.exists("/tmp/s3c-hostile.txt")


def test_a_symlink_inside_the_directory_is_not_followed(hostile_bucket, conn_file, tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "ok").symlink_to(outside, target_is_directory=True)
    result = get(conn_file, hostile_bucket, "ok/file.txt", f"{out}/")
    assert result.exit_code == 1 and "symbolic link" in result.output
    assert list(outside.iterdir()) == []


def test_serve_refuses_hostile_keys_under_output_dir(hostile_bucket, tmp_path):
    out = tmp_path / "out"
    requests = [
        {
            "id": number,
            "activity": "get_object",
            "connection": MOTO_SETTINGS,
            "config": {"bucket": hostile_bucket, "key": key},
            "output_dir": str(out),
        }
        for number, key in enumerate(HOSTILE + SAFE)
    ]
    text = "".join(json.dumps(request) + "\n" for request in requests)
    result = CliRunner().invoke(serve, [], input=text)
    finals = {
        line["request_id"]: line
        for line in map(json.loads, result.stdout.splitlines())
        if "status" in line
    }
    for number, key in enumerate(HOSTILE):
        assert finals[number]["status"] == "error", key
        assert finals[number]["error"]["kind"] == "invalid_input"
        assert finals[number]["error"]["field"] == "key"
    for number in range(len(HOSTILE), len(HOSTILE) + len(SAFE)):
        assert finals[number]["status"] == "ok"
    written = everything_under(tmp_path)
    assert [path for path in written if not path.startswith("out")] == []
    assert "out/dirm/inner.txt" in written and "out/top.txt" in written
