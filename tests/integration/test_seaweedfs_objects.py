"""Put, Get and List Objects against a real S3 server (SeaweedFS), SSE-C included."""

import base64
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from support import new_sse_c_key

from s3_connector.connector.documents import Document
from s3_connector.connector.errors import AccessDenied, InvalidInput, PreconditionFailed
from s3_connector.connector.harness import Harness
from s3_connector.connector.streaming_json import materialize
from s3_connector.connector.uploads import PART_SIZE


@pytest.fixture
def harness(seaweed_connection):
    return Harness(seaweed_connection)


def put(harness, config, content):
    [response] = harness.run("put_object", config, [Document({}, content)])
    return response.properties


def get(harness, config):
    [document] = harness.run("get_object", config)
    return document


def test_put_then_get_round_trips_bytes_and_properties(harness, seaweed_bucket, seaweed):
    data = os.urandom(100_000)
    stored = put(
        harness,
        {"bucket": seaweed_bucket, "key": "dir/blob.bin", "metadata": {"origin": "test"}},
        data,
    )
    assert stored["size"] == len(data) and stored["region"] == "us-east-1"
    assert stored["link"] == f"{seaweed.endpoint_url}/{seaweed_bucket}/dir/blob.bin"
    document = get(harness, {"bucket": seaweed_bucket, "key": "dir/blob.bin"})
    assert document.read() == data
    assert document.properties["metadata"] == {"origin": "test"}
    assert document.properties["etag"] == stored["etag"]


def test_region_falls_back_to_the_connection_region(seaweed_connection, seaweed_bucket):
    assert seaweed_connection.regions.region_for(seaweed_bucket) == "us-east-1"


def test_multipart_stream_upload_round_trips(harness, seaweed_bucket):
    data = os.urandom(PART_SIZE * 2 + 999)
    stored = put(harness, {"bucket": seaweed_bucket, "key": "big"}, _Unseekable(data))
    assert stored["size"] == len(data)
    assert get(harness, {"bucket": seaweed_bucket, "key": "big"}).read() == data


@pytest.mark.parametrize("size", [10, PART_SIZE + 10])
def test_overwrite_false_refuses_an_existing_key_atomically(harness, seaweed_bucket, size):
    config = {"bucket": seaweed_bucket, "key": f"once-{size}", "overwrite": False}
    first = os.urandom(size)
    put(harness, config, first)
    with pytest.raises(PreconditionFailed, match="PreconditionFailed"):
        put(harness, config, _Unseekable(os.urandom(size)))
    assert get(harness, {"bucket": seaweed_bucket, "key": f"once-{size}"}).read() == first


@pytest.mark.parametrize("size", [1000, PART_SIZE + 10])
def test_sse_c_object_reads_only_with_its_key(harness, seaweed_bucket, seaweed_client, size):
    key, other = new_sse_c_key(), new_sse_c_key()
    data = os.urandom(size)
    put(
        harness,
        {"bucket": seaweed_bucket, "key": "secret.bin", "sse_c_key": key},
        _Unseekable(data),
    )
    config = {"bucket": seaweed_bucket, "key": "secret.bin"}
    assert get(harness, {**config, "sse_c_key": key}).read() == data
    with pytest.raises(InvalidInput) as missing:
        get(harness, config)
    assert missing.value.field == "sse_c_key"
    assert "needs its key" in str(missing.value)
    with pytest.raises(AccessDenied):
        get(harness, {**config, "sse_c_key": other})
    raw = seaweed_client.get_object(
        Bucket=seaweed_bucket,
        Key="secret.bin",
        SSECustomerAlgorithm="AES256",
        SSECustomerKey=base64.b64decode(key),
    )
    assert raw["Body"].read() == data


def test_listing_2500_keys_truncates_at_2000_and_resumes(harness, seaweed_bucket, seaweed_client):
    keys = [f"many/{n:05d}" for n in range(2500)]
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda k: seaweed_client.put_object(Bucket=seaweed_bucket, Key=k, Body=b"."), keys
            )
        )
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="outside", Body=b".")
    config = {"bucket": seaweed_bucket, "prefix": "many/"}
    [first] = harness.run("list_objects", {**config, "max_results": 2000})
    first = materialize(first.properties)
    assert len(first["objects"]) == 2000 and first["truncated"] is True
    [rest] = harness.run(
        "list_objects", {**config, "continuation_token": first["next_continuation_token"]}
    )
    rest = materialize(rest.properties)
    assert len(rest["objects"]) == 500 and rest["truncated"] is False
    assert [o["key"] for o in first["objects"] + rest["objects"]] == keys


def test_connection_test_against_seaweedfs(seaweed_connection, seaweed_bucket):
    assert seaweed_connection.test()["ok"]
    result = seaweed_connection.test(seaweed_bucket)
    assert result["ok"] and result["call"] == "HeadBucket"
    missing = seaweed_connection.test("no-such-bucket-anywhere")
    assert not missing["ok"] and missing["error"] == "not_found"


def test_wrong_credentials_are_access_denied(seaweed_settings, seaweed_bucket):
    from s3_connector.connector.connection import Connection

    bad = Connection({**seaweed_settings, "secret_access_key": "wrong-secret"})
    with pytest.raises(AccessDenied):
        list(
            Harness(bad).run(
                "put_object",
                {"bucket": seaweed_bucket, "key": "k", "region": "us-east-1"},
                [Document({}, b"x")],
            )
        )
    result = bad.test()
    assert not result["ok"] and result["error"] == "access_denied"
    assert "wrong-secret" not in str(result)


class _Unseekable:
    def __init__(self, data):
        self._data = memoryview(data)

    def read(self, size=-1):
        size = len(self._data) if size < 0 else size
        chunk, self._data = self._data[:size], self._data[size:]
        return bytes(chunk)
