import io
import json

import boto3
import pytest

from s3_connector.connector.harness import Harness
from s3_connector.connector.streaming_json import materialize, write_json


@pytest.fixture
def keys_2500(moto_bucket):
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = [f"data/{n:05d}.txt" for n in range(2500)]
    for key in keys:
        s3.put_object(Bucket=moto_bucket, Key=key, Body=b"x")
    s3.put_object(Bucket=moto_bucket, Key="other/1.txt", Body=b"x")
    return moto_bucket, keys


def listing(connection, **config):
    [document] = Harness(connection).run("list_objects", config)
    return materialize(document.properties)


def test_truncated_listing_resumes_exactly(moto_connection, keys_2500):
    bucket, keys = keys_2500
    first = listing(moto_connection, bucket=bucket, prefix="data/", max_results=2000)
    assert len(first["objects"]) == 2000 and first["truncated"] is True
    token = first["next_continuation_token"]
    rest = listing(moto_connection, bucket=bucket, prefix="data/", continuation_token=token)
    assert len(rest["objects"]) == 500 and rest["truncated"] is False
    assert rest["next_continuation_token"] is None
    listed = [o["key"] for o in first["objects"] + rest["objects"]]
    assert listed == keys


def test_listing_pages_in_requests_of_at_most_1000(moto_connection, keys_2500):
    bucket, _ = keys_2500
    sizes = []
    moto_connection.client().meta.events.register(
        "before-parameter-build.s3.ListObjectsV2",
        lambda params, **_: sizes.append(params["MaxKeys"]),
    )
    result = listing(moto_connection, bucket=bucket, max_results=2345)
    assert len(result["objects"]) == 2345
    assert sizes == [1000, 1000, 345]


def test_delimiter_returns_common_prefixes_and_start_after(moto_connection, keys_2500):
    bucket, _ = keys_2500
    result = listing(moto_connection, bucket=bucket, delimiter="/")
    assert result["objects"] == [] and result["common_prefixes"] == ["data/", "other/"]
    after = listing(moto_connection, bucket=bucket, start_after="data/02497.txt")
    assert [o["key"] for o in after["objects"]] == [
        "data/02498.txt",
        "data/02499.txt",
        "other/1.txt",
    ]
    entry = after["objects"][0]
    assert set(entry) == {"key", "size", "etag", "last_modified", "storage_class"}
    assert entry["size"] == 1 and entry["storage_class"] == "STANDARD"


def test_the_listing_streams_object_by_object(moto_connection, keys_2500):
    bucket, _ = keys_2500
    calls = []
    moto_connection.client().meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **_: calls.append(1)
    )
    [document] = Harness(moto_connection).run("list_objects", {"bucket": bucket})
    objects = document.properties["objects"]
    assert next(objects)["key"] == "data/00000.txt"
    assert len(calls) == 1
    out = io.StringIO()
    write_json(document.properties, out)
    parsed = json.loads(out.getvalue())
    assert len(parsed["objects"]) == 2500 and parsed["truncated"] is False
    assert len(calls) == 3
