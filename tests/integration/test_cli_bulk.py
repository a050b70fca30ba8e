"""Bulk work from the shell with the real `s3c` against SeaweedFS: repeatable and globbed
--input, JSON lines of one run feeding the next (--documents), a failure of one document not
stopping the others (or stopping them with --fail-fast), --quiet, --format table, dry runs."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

S3C = str(Path(sys.executable).with_name("s3c"))


def s3c(*args, input=None):
    return subprocess.run([S3C, *map(str, args)], input=input, capture_output=True, timeout=300)


def json_lines(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def stderr_lines(done) -> list[str]:
    text = done.stderr.decode()
    assert "Traceback" not in text
    return text.splitlines()


@pytest.fixture
def conn_file(seaweed_settings, tmp_path):
    """On both data planes."""
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(seaweed_settings))
    return path


@pytest.fixture
def one_conn(seaweed, tmp_path):
    """On the default data plane only (what the test checks is the command line's)."""
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(seaweed.connection_settings()))
    return path


def keys(client, bucket, prefix=""):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def test_a_listing_feeds_get_object_which_downloads_a_prefix_of_500_objects(
    conn_file, seaweed_client, seaweed_bucket, tmp_path
):
    contents = {f"pfx/{n // 100}/obj-{n:03}.bin": os.urandom(n * 7 % 3000) for n in range(500)}
    contents["other/not-this.txt"] = b"outside the prefix"

    def put(item):
        seaweed_client.put_object(Bucket=seaweed_bucket, Key=item[0], Body=item[1])

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, contents.items()))
    out = tmp_path / "d"
    common = f"-c {conn_file} -p bucket={seaweed_bucket}"
    pipeline = (
        f"set -o pipefail; {S3C} run list_objects {common} -p prefix=pfx/ -p emit=objects"
        f" | {S3C} run get_object {common} --documents - --output {out}/"
    )
    done = subprocess.run(["bash", "-c", pipeline], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    responses = json_lines(done.stdout)
    assert len(responses) == 500
    for key, body in contents.items():
        if key.startswith("pfx/"):
            assert (out / key).read_bytes() == body, key
    assert not (out / "other").exists()
    assert {r["output"] for r in responses} == {str(out / k) for k in contents if "pfx" in k}
    assert stderr_lines(done) == ["500 read, 0 failed"]


def test_a_directory_put_where_3_of_50_keys_exist_stores_47_and_refuses_3(
    conn_file, seaweed_client, seaweed_bucket, tmp_path
):
    source = tmp_path / "in"
    source.mkdir()
    for n in range(50):
        (source / f"f{n:02}.txt").write_bytes(b"new %d" % n)
    taken = ["f05.txt", "f20.txt", "f49.txt"]
    for name in taken:
        seaweed_client.put_object(Bucket=seaweed_bucket, Key=name, Body=b"old")
    args = ["-c", conn_file, "-p", f"bucket={seaweed_bucket}", "-p", "overwrite=false"]
    done = s3c("run", "put_object", *args, "--input", source)
    assert done.returncode == 1, done.stderr
    lines = json_lines(done.stdout)
    assert len(lines) == 50, "every document gets its line, in input order"
    for n, line in enumerate(lines):
        name = f"f{n:02}.txt"
        if name in taken:
            assert line["error"]["kind"] == "precondition_failed", line
            assert line["exit_code"] == 1
            assert line["document"]["number"] == n + 1
            assert line["document"]["file_name"] == name
            assert line["document"]["input"] == f"--input {source / name}"
        else:
            assert "error" not in line and line["key"] == name
    errors = stderr_lines(done)
    assert errors[-1] == "47 stored, 3 failed (3 precondition_failed)"
    assert len(errors) == 4 and all(e.startswith("error: ") for e in errors[:3])
    assert all(f"(--input {source / name})" in e for e, name in zip(errors, taken, strict=False))
    for n in range(50):
        name = f"f{n:02}.txt"
        body = seaweed_client.get_object(Bucket=seaweed_bucket, Key=name)["Body"].read()
        assert body == (b"old" if name in taken else b"new %d" % n)

    def only_taken_left():
        for name in keys(seaweed_client, seaweed_bucket):
            if name not in taken:
                seaweed_client.delete_object(Bucket=seaweed_bucket, Key=name)

    # The same with --fail-fast: today's behaviour, the run stops at the first failure.
    only_taken_left()
    fast = s3c("run", "put_object", *args, "--input", source, "--fail-fast")
    assert fast.returncode == 1
    [line] = stderr_lines(fast)
    assert line.startswith("error: ") and "f05.txt" in line
    assert [r["key"] for r in json_lines(fast.stdout)] == [f"f{n:02}.txt" for n in range(5)]

    # --quiet: only the error lines, and the summary.
    only_taken_left()
    quiet = s3c("run", "put_object", *args, "--input", source, "--quiet")
    assert quiet.returncode == 1
    assert [line["document"]["file_name"] for line in json_lines(quiet.stdout)] == taken
    assert stderr_lines(quiet)[-1].endswith("3 failed (3 precondition_failed)")


def test_input_is_repeatable_and_takes_globs(one_conn, seaweed_client, seaweed_bucket, tmp_path):
    data = tmp_path / "data"
    (data / "deep").mkdir(parents=True)
    for name in ("a.csv", "b.csv", "deep/c.csv", "notes.json", "readme.txt"):
        (data / name).write_text(name)
    common = ["-c", one_conn, "-p", f"bucket={seaweed_bucket}"]
    done = s3c(
        "run",
        "put_object",
        *common,
        "--input",
        f"{data}/*.csv",
        "--input",
        data / "readme.txt",
        "--input",
        f"{data}/**/c.csv",  # deep/c.csv again: read once
    )
    assert done.returncode == 0, done.stderr
    assert [r["key"] for r in json_lines(done.stdout)] == ["a.csv", "b.csv", "readme.txt", "c.csv"]
    assert keys(seaweed_client, seaweed_bucket) == ["a.csv", "b.csv", "c.csv", "readme.txt"]
    assert stderr_lines(done) == ["4 stored, 0 failed"]

    nothing = s3c("run", "put_object", *common, "--input", data / "a.csv", "--input", "none/*.csv")
    assert nothing.returncode == 2 and nothing.stdout == b""
    assert stderr_lines(nothing) == ["error: --input: none/*.csv matches no file"]
    twice = s3c("run", "put_object", *common, "--input", data / "a.csv", "--input", f"{data}/*/c*")
    assert twice.returncode == 0, twice.stderr  # a.csv and deep/c.csv: different names
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a.csv").write_text("another a.csv")
    clash = s3c("run", "put_object", *common, "--input", data, "--input", f"{tmp_path}/o*/*")
    assert clash.returncode == 2 and clash.stdout == b""
    [line] = stderr_lines(clash)
    assert line.startswith("error: --input: ") and "would both be named a.csv" in line
    assert keys(seaweed_client, seaweed_bucket) == ["a.csv", "b.csv", "c.csv", "readme.txt"]


def test_table_format_and_dry_run_delete_from_a_listing(
    one_conn, seaweed_client, seaweed_bucket, tmp_path
):
    for n in range(3):
        seaweed_client.put_object(Bucket=seaweed_bucket, Key=f"t/k{n}.txt", Body=b"x" * n)
    common = ["-c", one_conn, "-p", f"bucket={seaweed_bucket}"]
    table = s3c("run", "list_objects", *common, "-p", "prefix=t/", "--format", "table")
    assert table.returncode == 0, table.stderr
    text = table.stdout.decode().splitlines()
    assert text[0].startswith(f"bucket: {seaweed_bucket}")
    assert "prefix: t/" in text[0] and text[1] == ""
    header = text[2].split()
    assert header[0] == "key" and "size" in header and "bucket" not in header
    assert [row.split()[0] for row in text[4:]] == ["t/k0.txt", "t/k1.txt", "t/k2.txt"]

    listing = s3c("run", "list_objects", *common, "-p", "prefix=t/", "-p", "emit=objects")
    assert listing.returncode == 0, listing.stderr
    dry = s3c(
        "run", "delete_object", *common, "-p", "dry_run=true", "--documents", "-",
        input=listing.stdout,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert [(r["key"], r["status"], r["dry_run"]) for r in json_lines(dry.stdout)] == [
        (f"t/k{n}.txt", "would_delete", True) for n in range(3)
    ]
    assert keys(seaweed_client, seaweed_bucket) == ["t/k0.txt", "t/k1.txt", "t/k2.txt"]
    move = s3c(
        "run", "move_object", *common, "-p", "dry_run=true", "-p", "destination_bucket="
        + seaweed_bucket, "-p", "destination_key=moved.txt", "-p", "key=t/k1.txt",
        "--format", "table",
    )  # fmt: skip
    assert move.returncode == 0, move.stderr
    rows = dict(line.split(None, 1) for line in move.stdout.decode().splitlines())
    assert rows["key"] == "moved.txt" and rows["dry_run"] == "true"
    assert rows["destination_exists"] == "false"
    assert keys(seaweed_client, seaweed_bucket) == ["t/k0.txt", "t/k1.txt", "t/k2.txt"]


def test_error_lines_of_an_earlier_run_are_skipped_and_bad_lines_refused(
    one_conn, seaweed_client, seaweed_bucket, tmp_path
):
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="here.txt", Body=b"1")
    common = ["-c", one_conn, "-p", f"bucket={seaweed_bucket}"]
    lines = [{"bucket": seaweed_bucket, "key": key} for key in ("here.txt", "gone.txt")]
    documents = "".join(json.dumps(line) + "\n" for line in lines).encode()
    heads = s3c("run", "head_object", *common, "--documents", "-", input=documents)
    assert heads.returncode == 3, heads.stderr  # gone.txt: not_found, exit status 3
    first, second = json_lines(heads.stdout)
    assert first["key"] == "here.txt" and second["error"]["kind"] == "not_found"
    assert second["document"] == {
        "number": 2,
        "input": "--documents line 2",
        "bucket": seaweed_bucket,
        "key": "gone.txt",
    }
    errors = stderr_lines(heads)
    assert errors[0].startswith("error: ") and errors[0].endswith("(--documents line 2)")
    assert errors[1] == "1 done, 1 failed (1 not_found)"

    again = s3c("run", "head_object", *common, "--documents", "-", input=heads.stdout)
    assert again.returncode == 1
    assert [r["key"] for r in json_lines(again.stdout)] == ["here.txt"]
    assert stderr_lines(again) == ["1 done, 0 failed, 1 skipped (error lines of an earlier run)"]

    out = tmp_path / "out"
    for stdin, rule in (
        (documents + b"[1, 2]\n", "line 3 must be a JSON object, not an array"),
        (documents + b"\n{oops\n", "line 4 is not valid JSON"),
        (b'{"key": ""}\n', "(--documents line 1)"),
    ):
        bad = s3c("run", "get_object", *common, "--documents", "-", "--output", out, input=stdin)
        assert bad.returncode == 2, bad.stderr
        [line] = stderr_lines(bad)
        assert line.startswith("error: ") and rule in line, line
        assert bad.stdout == b"" and not out.exists()
    both = s3c("run", "get_object", *common, "--documents", "-", "--input", "x", input=b"")
    assert both.returncode == 2
    assert stderr_lines(both) == [
        "error: --documents: give either --input or --documents, not both"
    ]
    put = s3c("run", "put_object", *common, "--documents", "-", input=documents)
    assert put.returncode == 2 and stderr_lines(put)[0].startswith("error: --documents: ")
