"""A transfer on the CRT data plane, with keys in the connection's settings and an AWS config
chain with nothing to add, never imports boto3 (about 0.2 s of a short process): region
detection, multipart part sizes and the cleanup of a failed upload go through CRT too. The
same runs on the boto3 plane import it, the control. Each run is a fresh interpreter with an
empty HOME and no AWS_* variable, against SeaweedFS."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

BOTO3_MODULES = ("boto3", "botocore.session", "botocore.client", "s3transfer")


def run_s3c(args: list[str], home, stdin: bytes | None = None) -> tuple[int, str, str, list]:
    """`s3c ARGS` in a fresh interpreter: exit code, stdout, stderr and the modules loaded."""
    script = (
        "import json, sys\n"
        "from s3_connector.cli.main import cli\n"
        "try:\n"
        f"    cli.main({args!r}, prog_name='s3c')\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
        "sys.exit(code)\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(HOME=str(home), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.pop("REQUESTS_CA_BUNDLE", None)
    result = subprocess.run(
        [sys.executable, "-c", script], input=stdin, capture_output=True, timeout=120, env=env
    )
    stderr = result.stderr.decode()
    stderr, _, modules = stderr.rpartition("\nMODULES ")
    return result.returncode, result.stdout.decode(), stderr, json.loads(modules)


def boto3_loaded(modules: list[str]) -> list[str]:
    return [name for name in BOTO3_MODULES if name in modules]


@pytest.fixture
def conn_file(seaweed_settings, tmp_path):
    assert seaweed_settings["auth"] == "access_keys" and seaweed_settings["region"]
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(seaweed_settings))
    return path


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "empty-home"
    path.mkdir()
    return path


def test_put_get_and_list_import_boto3_only_on_the_boto3_plane(
    conn_file, seaweed_bucket, data_plane, home, tmp_path
):
    small = tmp_path / "small.bin"
    small.write_bytes(os.urandom(1024))
    big = tmp_path / "big.bin"  # over one part (8 MiB): a multipart upload, a composite checksum
    big.write_bytes(os.urandom(9 * 1024 * 1024 + 5))
    common = ["-c", str(conn_file), "-p", f"bucket={seaweed_bucket}"]
    runs = {
        "put small": run_s3c(["run", "put_object", *common, "--input", str(small)], home),
        "put big": run_s3c(["run", "put_object", *common, "--input", str(big)], home),
        "put pipe": run_s3c(
            ["run", "put_object", *common, "-p", "key=piped.bin", "--input", "-"],
            home,
            stdin=big.read_bytes(),
        ),
        "get to file": run_s3c(
            ["run", "get_object", *common, "-p", "key=big.bin", "--output", str(tmp_path / "out")],
            home,
        ),
        "get inline": run_s3c(["run", "get_object", *common, "-p", "key=small.bin"], home),
        "list": run_s3c(["run", "list_objects", *common], home),
    }
    for name, (code, _, stderr, _) in runs.items():
        assert code == 0, (name, stderr)
    assert (tmp_path / "out").read_bytes() == big.read_bytes()
    inline = json.loads(runs["get inline"][1])
    assert base64.b64decode(inline["content"]) == small.read_bytes()
    assert inline["verified"] == "CRC32C"
    listed = {item["key"]: item["size"] for item in json.loads(runs["list"][1])["objects"]}
    assert listed == {"small.bin": 1024, "big.bin": big.stat().st_size, "piped.bin": 9437189}
    for name, (_, _, _, modules) in runs.items():
        if data_plane == "crt":
            assert boto3_loaded(modules) == [], name
        else:
            assert "boto3" in modules, name


def test_a_missing_bucket_is_not_found_without_boto3(conn_file, data_plane, home, tmp_path):
    source = tmp_path / "x.bin"
    source.write_bytes(b"x")
    put = ["run", "put_object", "-c", str(conn_file), "-p", "bucket=no-such-bucket-lean"]
    code, stdout, stderr, modules = run_s3c([*put, "--input", str(source)], home)
    assert code == 3 and stdout == "", stderr  # not found
    assert "NoSuchBucket" in stderr and "Traceback" not in stderr
    assert (boto3_loaded(modules) == []) is (data_plane == "crt")


def test_a_config_chain_with_something_to_say_goes_through_botocore(
    conn_file, seaweed_bucket, data_plane, home, tmp_path
):
    """A profile that sets retries: botocore reads it, so boto3 is imported, and the transfer
    works as well."""
    (home / ".aws").mkdir()
    (home / ".aws" / "config").write_text("[default]\nmax_attempts = 4\n")
    source = tmp_path / "x.bin"
    source.write_bytes(b"chain")
    put = ["run", "put_object", "-c", str(conn_file), "-p", f"bucket={seaweed_bucket}"]
    code, _, stderr, modules = run_s3c([*put, "--input", str(source)], home)
    assert code == 0, stderr
    assert "boto3" in modules
