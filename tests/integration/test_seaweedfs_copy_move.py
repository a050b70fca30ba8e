"""Copy Object and Move Object on a real S3 server (SeaweedFS): SSE-C key rotation,
conditional writes, the multipart copy path, versioned buckets and the CLI's exit code."""

import base64
import hashlib
import json
import os

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner
from support import new_sse_c_key, run_one

from s3_connector.activities import copying
from s3_connector.cli.main import cli
from s3_connector.connector.errors import InvalidInput, PreconditionFailed
from s3_connector.connector.harness import Harness

MiB = 1024 * 1024


@pytest.fixture
def harness(seaweed_connection):
    return Harness(seaweed_connection)


@pytest.fixture
def in_parts(monkeypatch):
    """Copy objects of 5 MiB and more in 5 MiB parts, as objects over 5 GiB would be."""
    monkeypatch.setattr(copying.COPY_CONFIG, "multipart_threshold", 5 * MiB)
    monkeypatch.setattr(copying.COPY_CONFIG, "multipart_chunksize", 5 * MiB)


def sse(key: str) -> dict:
    raw = base64.b64decode(key)
    return {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": key,
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(raw).digest()).decode(),
    }


def read(client, bucket, key, sse_key=None):
    return client.get_object(Bucket=bucket, Key=key, **(sse(sse_key) if sse_key else {}))[
        "Body"
    ].read()


def exists(client, bucket, key):
    listed = client.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
    return any(item["Key"] == key for item in listed)


def assert_reads_only_with(client, bucket, key, data, good, bad):
    with pytest.raises(ClientError):
        read(client, bucket, key)
    with pytest.raises(ClientError):
        read(client, bucket, key, bad)
    assert read(client, bucket, key, good) == data


def from_vault(bucket, destination_key, **config):
    """The configuration that copies or moves the `encrypted` object to `destination_key`."""
    return {"bucket": bucket, "key": "vault/doc.bin", "destination_key": destination_key, **config}


@pytest.fixture
def encrypted(seaweed_client, seaweed_bucket):
    """An SSE-C object, its bytes and its key."""
    key, data = new_sse_c_key(), os.urandom(200_000)
    seaweed_client.put_object(
        Bucket=seaweed_bucket,
        Key="vault/doc.bin",
        Body=data,
        ContentType="application/x-doc",
        Metadata={"owner": "ops"},
        **sse(key),
    )
    return data, key


def test_copy_rotates_the_sse_c_key_and_keeps_the_source(
    harness, seaweed_client, seaweed_bucket, encrypted
):
    data, old = encrypted
    new = new_sse_c_key()
    config = from_vault(seaweed_bucket, "vault/rotated.bin", source_sse_c_key=old, sse_c_key=new)
    copied = run_one(harness, "copy_object", config)
    assert copied["size"] == len(data) and copied["multipart"] is False
    assert_reads_only_with(seaweed_client, seaweed_bucket, "vault/rotated.bin", data, new, old)
    assert read(seaweed_client, seaweed_bucket, "vault/doc.bin", old) == data
    head = seaweed_client.head_object(Bucket=seaweed_bucket, Key="vault/rotated.bin", **sse(new))
    assert (head["ContentType"], head["Metadata"]) == ("application/x-doc", {"owner": "ops"})
    assert old not in json.dumps(copied) and new not in json.dumps(copied)


def test_copy_of_an_sse_c_object_keeps_its_key_by_default(
    harness, seaweed_client, seaweed_bucket, encrypted
):
    data, old = encrypted
    config = from_vault(seaweed_bucket, "vault/same-key.bin", source_sse_c_key=old)
    run_one(harness, "copy_object", config)
    assert_reads_only_with(
        seaweed_client, seaweed_bucket, "vault/same-key.bin", data, old, new_sse_c_key()
    )


def test_move_rotates_the_sse_c_key_and_deletes_the_source(
    harness, seaweed_client, seaweed_bucket, encrypted
):
    data, old = encrypted
    new = new_sse_c_key()
    config = from_vault(seaweed_bucket, "archive/doc.bin", source_sse_c_key=old, sse_c_key=new)
    moved = run_one(harness, "move_object", config)
    assert_reads_only_with(seaweed_client, seaweed_bucket, "archive/doc.bin", data, new, old)
    assert not exists(seaweed_client, seaweed_bucket, "vault/doc.bin")
    # SSE-C ETags are not an MD5 of the content: the move reads both objects to compare them
    assert moved["steps"]["verify"] == {"method": "sha256", "algorithm": None, "size": len(data)}
    assert moved["steps"]["delete"]["delete_marker"] is False


def test_sse_c_source_without_its_key_names_the_field(harness, seaweed_bucket, encrypted):
    with pytest.raises(InvalidInput) as caught:
        run_one(harness, "copy_object", from_vault(seaweed_bucket, "x"))
    assert caught.value.field == "source_sse_c_key"


@pytest.mark.parametrize("size", [0, 1000, 6 * MiB])
def test_overwrite_false_refuses_an_existing_destination(
    harness, seaweed_client, seaweed_bucket, in_parts, size
):
    data = os.urandom(size)
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="src", Body=data)
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="taken", Body=b"keep me")
    config = {"bucket": seaweed_bucket, "key": "src", "overwrite": False}
    with pytest.raises(PreconditionFailed, match="PreconditionFailed") as caught:
        run_one(harness, "copy_object", {**config, "destination_key": "taken"})
    assert "the destination exists and overwrite is false" in str(caught.value)
    assert read(seaweed_client, seaweed_bucket, "taken") == b"keep me"
    copied = run_one(harness, "copy_object", {**config, "destination_key": "free"})
    assert copied["multipart"] is (size >= 5 * MiB)
    assert read(seaweed_client, seaweed_bucket, "free") == data
    assert not seaweed_client.list_multipart_uploads(Bucket=seaweed_bucket).get("Uploads")


def test_sse_c_copy_with_overwrite_false(harness, seaweed_client, seaweed_bucket, encrypted):
    data, old = encrypted
    new = new_sse_c_key()
    config = from_vault(
        seaweed_bucket, "vault/new.bin", source_sse_c_key=old, sse_c_key=new, overwrite=False
    )
    run_one(harness, "copy_object", config)
    assert read(seaweed_client, seaweed_bucket, "vault/new.bin", new) == data
    with pytest.raises(PreconditionFailed):
        run_one(harness, "copy_object", config)


def test_multipart_copy_keeps_bytes_content_type_and_metadata(
    harness, seaweed_client, seaweed_bucket, in_parts
):
    data = os.urandom(12 * MiB)
    seaweed_client.put_object(
        Bucket=seaweed_bucket,
        Key="big/in.bin",
        Body=data,
        ContentType="video/mp4",
        Metadata={"camera": "2"},
        CacheControl="no-store",
        ContentDisposition="inline",
    )
    copied = run_one(
        harness,
        "copy_object",
        {"bucket": seaweed_bucket, "key": "big/in.bin", "destination_key": "big/out.bin"},
    )
    assert copied["multipart"] is True and copied["size"] == len(data)
    head = seaweed_client.head_object(Bucket=seaweed_bucket, Key="big/out.bin")
    assert head["ETag"].endswith('-3"') and copied["etag"] == head["ETag"].strip('"')
    assert (head["ContentType"], head["Metadata"]) == ("video/mp4", {"camera": "2"})
    assert (head["CacheControl"], head["ContentDisposition"]) == ("no-store", "inline")
    assert read(seaweed_client, seaweed_bucket, "big/out.bin") == data

    moved = run_one(
        harness,
        "move_object",
        {
            "bucket": seaweed_bucket,
            "key": "big/out.bin",
            "destination_key": "big/moved.bin",
            "metadata": {"camera": "3"},
        },
    )
    assert moved["steps"]["copy"]["multipart"] is True
    assert moved["steps"]["verify"]["method"] == "sha256"
    assert read(seaweed_client, seaweed_bucket, "big/moved.bin") == data
    head = seaweed_client.head_object(Bucket=seaweed_bucket, Key="big/moved.bin")
    assert (head["ContentType"], head["Metadata"]) == ("video/mp4", {"camera": "3"})
    assert not exists(seaweed_client, seaweed_bucket, "big/out.bin")


def test_plain_move_is_verified_by_etag(harness, seaweed_client, seaweed_bucket):
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="a.txt", Body=b"hello")
    moved = run_one(
        harness, "move_object", {"bucket": seaweed_bucket, "key": "a.txt", "destination_key": "b"}
    )
    assert moved["steps"]["verify"] == {"method": "etag", "algorithm": None, "size": 5}
    assert read(seaweed_client, seaweed_bucket, "b") == b"hello"
    assert not exists(seaweed_client, seaweed_bucket, "a.txt")


def test_move_in_a_versioned_bucket(harness, seaweed_client, seaweed_bucket):
    seaweed_client.put_bucket_versioning(
        Bucket=seaweed_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    first = seaweed_client.put_object(Bucket=seaweed_bucket, Key="v", Body=b"one")["VersionId"]
    second = seaweed_client.put_object(Bucket=seaweed_bucket, Key="v", Body=b"two")["VersionId"]
    old = run_one(
        harness,
        "move_object",
        {"bucket": seaweed_bucket, "key": "v", "version_id": first, "destination_key": "v1"},
    )
    assert old["source"]["version_id"] == first
    assert old["steps"]["delete"] == {"version_id": first, "delete_marker": False}
    assert read(seaweed_client, seaweed_bucket, "v1") == b"one"
    assert read(seaweed_client, seaweed_bucket, "v") == b"two"
    latest = run_one(
        harness, "move_object", {"bucket": seaweed_bucket, "key": "v", "destination_key": "v2"}
    )
    assert latest["source"]["version_id"] == second
    assert latest["steps"]["delete"]["delete_marker"] is True
    assert read(seaweed_client, seaweed_bucket, "v2") == b"two"
    assert not exists(seaweed_client, seaweed_bucket, "v")
    kept = seaweed_client.get_object(Bucket=seaweed_bucket, Key="v", VersionId=second)
    assert kept["Body"].read() == b"two"


@pytest.fixture
def conn_file(seaweed_settings, tmp_path):
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(seaweed_settings))
    return str(path)


def test_move_refused_by_a_conditional_write_keeps_the_source_and_exits_1(
    conn_file, seaweed_client, seaweed_bucket
):
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="in/a.txt", Body=b"source")
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="out/a.txt", Body=b"existing")
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "move_object",
            "-c",
            conn_file,
            "-p",
            f"bucket={seaweed_bucket}",
            "-p",
            "key=in/a.txt",
            "-p",
            "destination_key=out/a.txt",
            "-p",
            "overwrite=false",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "move step copy failed" in result.output and "PreconditionFailed" in result.output
    assert f"the source s3://{seaweed_bucket}/in/a.txt was kept" in result.output
    assert read(seaweed_client, seaweed_bucket, "in/a.txt") == b"source"
    assert read(seaweed_client, seaweed_bucket, "out/a.txt") == b"existing"


def test_move_refused_in_parts_keeps_the_source(harness, seaweed_client, seaweed_bucket, in_parts):
    data = os.urandom(6 * MiB)
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="in/big", Body=data)
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="out/big", Body=b"existing")
    with pytest.raises(PreconditionFailed) as caught:
        run_one(
            harness,
            "move_object",
            {
                "bucket": seaweed_bucket,
                "key": "in/big",
                "destination_key": "out/big",
                "overwrite": False,
            },
        )
    assert "CompleteMultipartUpload" in str(caught.value) and caught.value.request_id
    assert read(seaweed_client, seaweed_bucket, "in/big") == data
    assert read(seaweed_client, seaweed_bucket, "out/big") == b"existing"
