import io
import json
import time

import boto3
import pytest

from s3_connector.activities import listing as list_pages_module
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


def test_listing_pages_in_requests_of_at_most_the_page_size(
    moto_connection, keys_2500, monkeypatch
):
    monkeypatch.setattr(list_pages_module, "PAGE_SIZE", 1000)
    bucket, _ = keys_2500
    sizes = []
    moto_connection.client().meta.events.register(
        "before-parameter-build.s3.ListObjectsV2",
        lambda params, **_: sizes.append(params["MaxKeys"]),
    )
    result = listing(moto_connection, bucket=bucket, max_results=2345)
    assert len(result["objects"]) == 2345
    assert sizes == [1000, 1000, 345]


def test_a_server_returning_fewer_keys_than_asked_is_asked_for_what_is_still_wanted(
    moto_connection, keys_2500
):
    """As Amazon S3 does: at most 1,000 keys a page, whatever MaxKeys asks for. Each page
    fetched ahead asks for what the listing still wants after the page before it."""
    bucket, keys = keys_2500
    sizes = []

    def at_most_1000(params, **_):
        sizes.append(params["MaxKeys"])
        params["MaxKeys"] = min(params["MaxKeys"], 1000)

    moto_connection.client().meta.events.register(
        "before-parameter-build.s3.ListObjectsV2", at_most_1000
    )
    [document] = Harness(moto_connection).run(
        "list_objects", {"bucket": bucket, "max_results": 2345}, lazy=True
    )
    objects = document.properties["objects"]
    assert next(objects)["key"] == keys[0]
    deadline = time.monotonic() + 10
    while len(sizes) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sizes == [2345, 1345], "the second page is fetched while the first is read"
    result = materialize(document.properties)
    assert [entry["key"] for entry in result["objects"]] == keys[1:2345]
    assert sizes == [2345, 1345, 345] and result["truncated"] is True


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


def test_the_listing_streams_object_by_object(moto_connection, keys_2500, monkeypatch):
    monkeypatch.setattr(list_pages_module, "PAGE_SIZE", 1000)
    bucket, _ = keys_2500
    calls = []
    moto_connection.client().meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **_: calls.append(1)
    )
    [document] = Harness(moto_connection).run("list_objects", {"bucket": bucket}, lazy=True)
    objects = document.properties["objects"]
    assert next(objects)["key"] == "data/00000.txt"
    assert len(calls) <= 2  # the first page, and at most the next one fetched ahead
    out = io.StringIO()
    write_json(document.properties, out)
    parsed = json.loads(out.getvalue())
    assert len(parsed["objects"]) == 2500 and parsed["truncated"] is False
    assert len(calls) == 3


@pytest.fixture
def mixed_tree(moto_bucket):
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = [f"tree/{n:03d}.{'CSV' if n % 3 == 0 else 'json'}" for n in range(60)]
    keys += [f"tree/sub{n}/inner.csv" for n in range(5)]
    for key in keys:
        s3.put_object(Bucket=moto_bucket, Key=key, Body=b"x")
    return moto_bucket, sorted(keys)


def resume_all(connection, **config):
    """Every listing document of a listing resumed until it is no longer truncated."""
    pages = [listing(connection, **config)]
    while pages[-1]["truncated"]:
        token = pages[-1]["next_continuation_token"]
        pages.append(listing(connection, **config, continuation_token=token))
    return pages


def test_filter_is_a_case_insensitive_glob_on_the_name_by_default(moto_connection, mixed_tree):
    bucket, keys = mixed_tree
    found = [o["key"] for o in listing(moto_connection, bucket=bucket, filter="*.csv")["objects"]]
    assert found == [k for k in keys if k.lower().endswith(".csv")]
    exact = listing(moto_connection, bucket=bucket, filter="*.csv", case_sensitive=True)
    assert [o["key"] for o in exact["objects"]] == [k for k in keys if k.endswith(".csv")]
    on_key = listing(moto_connection, bucket=bucket, filter="tree/sub*/*")
    assert [o["key"] for o in on_key["objects"]] == [k for k in keys if "/sub" in k]


def test_filtered_listing_counts_matches_and_resumes_inside_a_page(moto_connection, mixed_tree):
    bucket, keys = mixed_tree
    pages = resume_all(moto_connection, bucket=bucket, filter="*.json", max_results=7)
    assert [len(page["objects"]) for page in pages][:-1] == [7] * (len(pages) - 1)
    listed = [o["key"] for page in pages for o in page["objects"]]
    assert listed == [k for k in keys if k.endswith(".json")]


def test_one_level_listing_resumes_across_objects_and_prefixes(moto_connection, mixed_tree):
    bucket, keys = mixed_tree
    pages = resume_all(moto_connection, bucket=bucket, prefix="tree/", recurse=False, max_results=4)
    objects = [o["key"] for page in pages for o in page["objects"]]
    prefixes = [p for page in pages for p in page["common_prefixes"]]
    assert objects == [k for k in keys if k.count("/") == 1]
    assert prefixes == [f"tree/sub{n}/" for n in range(5)]


def test_include_metadata_heads_each_object(moto_connection, moto_bucket):
    s3 = boto3.client("s3", region_name="us-east-1")
    for n in range(3):
        s3.put_object(
            Bucket=moto_bucket,
            Key=f"m/{n}.txt",
            Body=b"x",
            ContentType="text/plain",
            Metadata={"n": str(n)},
        )
    result = listing(moto_connection, bucket=moto_bucket, include_metadata=True)
    assert [o["metadata"] for o in result["objects"]] == [{"n": "0"}, {"n": "1"}, {"n": "2"}]
    assert {o["content_type"] for o in result["objects"]} == {"text/plain"}


def test_emit_objects_gives_one_document_per_object(moto_connection, keys_2500):
    bucket, keys = keys_2500
    config = {"bucket": bucket, "prefix": "data/", "emit": "objects", "max_results": 3}
    documents = list(Harness(moto_connection).run("list_objects", config))
    assert [d.properties["key"] for d in documents] == keys[:3]
    assert documents[0].properties["folder"] == "data"
    assert documents[0].properties["file_name"] == "00000.txt"
    assert [d.properties["truncated"] for d in documents] == [False, False, True]
    token = documents[-1].properties["next_continuation_token"]
    resumed = listing(moto_connection, bucket=bucket, prefix="data/", continuation_token=token)
    assert [o["key"] for o in resumed["objects"]] == keys[3:]
