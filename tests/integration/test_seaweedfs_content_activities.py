"""Create, Write, Read and Presigned Link against a real S3 server (SeaweedFS)."""

import base64
import json
import os
import time
import urllib.error
import urllib.request

import pytest
from support import new_sse_c_key, run_one

from s3_connector.connector.errors import AccessDenied, InvalidInput, PreconditionFailed
from s3_connector.connector.harness import Harness


@pytest.fixture
def harness(seaweed_connection):
    return Harness(seaweed_connection)


def body_of(client, bucket, key, **extra):
    response = client.get_object(Bucket=bucket, Key=key, **extra)
    return response["Body"].read(), response["ContentType"]


def fetch(url, data=None, method="GET", headers=None):
    """A plain HTTP request, no credentials: (status, body)."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_create_an_empty_object_and_a_folder_marker(harness, seaweed_bucket, seaweed_client):
    empty = run_one(harness, "create", {"bucket": seaweed_bucket, "key": "docs/empty.txt"})
    marker = run_one(harness, "create", {"bucket": seaweed_bucket, "key": "docs/archive/"})
    assert (empty["size"], empty["folder_marker"]) == (0, False)
    assert (marker["size"], marker["folder_marker"]) == (0, True)
    assert body_of(seaweed_client, seaweed_bucket, "docs/empty.txt") == (b"", "text/plain")
    head = seaweed_client.head_object(Bucket=seaweed_bucket, Key="docs/archive/")
    assert head["ContentType"] == "application/x-directory" and head["ContentLength"] == 0
    listed = seaweed_client.list_objects_v2(Bucket=seaweed_bucket, Prefix="docs/")
    assert [o["Key"] for o in listed["Contents"]] == ["docs/archive/", "docs/empty.txt"]


@pytest.mark.parametrize("key", ["flag.txt", "folder/"])
def test_create_is_atomic_on_an_existing_key(harness, seaweed_bucket, seaweed_client, key):
    # SeaweedFS keeps no user metadata on keys that end in /, so the content type tells
    # whether the object was replaced.
    seaweed_client.put_object(Bucket=seaweed_bucket, Key=key, Body=b"", ContentType="text/x-seed")
    with pytest.raises(PreconditionFailed, match="PreconditionFailed"):
        run_one(harness, "create", {"bucket": seaweed_bucket, "key": key})
    head = seaweed_client.head_object(Bucket=seaweed_bucket, Key=key)
    assert head["ContentType"] == "text/x-seed"
    replaced = run_one(harness, "create", {"bucket": seaweed_bucket, "key": key, "overwrite": True})
    head = seaweed_client.head_object(Bucket=seaweed_bucket, Key=key)
    assert head["ContentType"] == replaced["content_type"] != "text/x-seed"


def test_write_then_read_round_trips_json_and_text(harness, seaweed_bucket, seaweed_client):
    data = {"order": 7, "lines": [{"sku": "é-1", "qty": 2}], "paid": False, "note": None}
    written = run_one(harness, "write", {"bucket": seaweed_bucket, "key": "o/7.json", "data": data})
    assert written["content_type"] == "application/json"
    body, content_type = body_of(seaweed_client, seaweed_bucket, "o/7.json")
    assert json.loads(body) == data and content_type == "application/json"
    read = run_one(harness, "read", {"bucket": seaweed_bucket, "key": "o/7.json"})
    assert (read["content"], read["content_format"]) == (data, "json")
    assert read["etag"] == written["etag"] and read["size"] == written["size"] == len(body)

    run_one(harness, "write", {"bucket": seaweed_bucket, "key": "o/7.txt", "data": "ligne 1\n"})
    read = run_one(harness, "read", {"bucket": seaweed_bucket, "key": "o/7.txt"})
    assert (read["content"], read["content_format"]) == ("ligne 1\n", "text")
    assert read["content_type"] == "text/plain; charset=utf-8"


def test_read_binary_as_base64(harness, seaweed_bucket, seaweed_client):
    data = os.urandom(3000)
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="b.bin", Body=data)
    read = run_one(harness, "read", {"bucket": seaweed_bucket, "key": "b.bin"})
    assert read["content_format"] == "base64"
    assert base64.b64decode(read["content"]) == data


def test_write_with_overwrite_false_leaves_an_existing_object(harness, seaweed_bucket):
    config = {"bucket": seaweed_bucket, "key": "state.json", "data": {"v": 1}}
    first = run_one(harness, "write", config)
    with pytest.raises(PreconditionFailed, match="PreconditionFailed"):
        run_one(harness, "write", {**config, "data": {"v": 2}})
    read = run_one(harness, "read", {"bucket": seaweed_bucket, "key": "state.json"})
    assert read["content"] == {"v": 1} and read["etag"] == first["etag"]
    run_one(harness, "write", {**config, "data": {"v": 3}, "overwrite": True})
    assert run_one(harness, "read", {"bucket": seaweed_bucket, "key": "state.json"})["content"] == {
        "v": 3
    }


def test_read_an_sse_c_object_written_by_write(harness, seaweed_bucket, seaweed_client):
    key, other = new_sse_c_key(), new_sse_c_key()
    config = {"bucket": seaweed_bucket, "key": "secret.json"}
    run_one(harness, "write", {**config, "data": {"pin": "1234"}, "sse_c_key": key})
    read = run_one(harness, "read", {**config, "sse_c_key": key})
    assert read["content"] == {"pin": "1234"}
    with pytest.raises(InvalidInput, match="needs its key") as missing:
        run_one(harness, "read", config)
    assert missing.value.field == "sse_c_key"
    with pytest.raises(AccessDenied):
        run_one(harness, "read", {**config, "sse_c_key": other})
    assert key not in str(read)


def test_presigned_get_downloads_without_credentials(harness, seaweed_bucket, seaweed_client):
    data = os.urandom(5000)
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="share/a b.bin", Body=data)
    link = run_one(harness, "presign", {"bucket": seaweed_bucket, "key": "share/a b.bin"})
    assert fetch(link["url"]) == (200, data)
    status, _ = fetch(link["url"].split("?")[0])
    assert status == 403  # the same object without the signature


def test_presigned_put_uploads_with_the_signed_content_type(
    harness, seaweed_bucket, seaweed_client
):
    config = {
        "bucket": seaweed_bucket,
        "key": "inbox/upload.csv",
        "method": "PUT",
        "content_type": "text/csv",
    }
    link = run_one(harness, "presign", config)
    assert link["headers"] == {"Content-Type": "text/csv"}
    status, _ = fetch(link["url"], b"a,b\n", "PUT", {"Content-Type": "text/html"})
    assert status == 403  # a different content type breaks the signature
    status, _ = fetch(link["url"], b"a,b\n1,2\n", "PUT", link["headers"])
    assert status == 200
    assert body_of(seaweed_client, seaweed_bucket, "inbox/upload.csv") == (
        b"a,b\n1,2\n",
        "text/csv",
    )


def test_presigned_get_of_an_old_version(harness, seaweed_bucket, seaweed_client):
    seaweed_client.put_bucket_versioning(
        Bucket=seaweed_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    first = seaweed_client.put_object(Bucket=seaweed_bucket, Key="v", Body=b"one")["VersionId"]
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="v", Body=b"two")
    link = run_one(harness, "presign", {"bucket": seaweed_bucket, "key": "v", "version_id": first})
    assert fetch(link["url"]) == (200, b"one")


def test_an_expired_link_is_refused(harness, seaweed_bucket, seaweed_client):
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="brief", Body=b"now you see me")
    link = run_one(harness, "presign", {"bucket": seaweed_bucket, "key": "brief", "expires_in": 1})
    time.sleep(2.1)
    status, body = fetch(link["url"])
    assert status == 403 and b"expired" in body


def test_a_tampered_link_is_refused(harness, seaweed_bucket, seaweed_client):
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="public.txt", Body=b"public")
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="private.txt", Body=b"private")
    link = run_one(harness, "presign", {"bucket": seaweed_bucket, "key": "public.txt"})
    assert fetch(link["url"]) == (200, b"public")
    status, body = fetch(link["url"].replace("/public.txt?", "/private.txt?"))
    assert status == 403 and b"SignatureDoesNotMatch" in body
    longer = link["url"].replace("X-Amz-Expires=3600", "X-Amz-Expires=7200")
    assert fetch(longer)[0] == 403
