"""List Prefixes, List Buckets and Purge on moto."""

import io
import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner
from support import MOTO_SETTINGS

from s3_connector.activities import list_buckets, listing, purge
from s3_connector.cli.main import cli
from s3_connector.connector.connection import Connection
from s3_connector.connector.errors import AccessDenied, InvalidInput, PreconditionFailed
from s3_connector.connector.harness import Harness
from s3_connector.connector.streaming_json import materialize, write_json


@pytest.fixture
def s3(moto):
    return boto3.client("s3", region_name="us-east-1")


def put_keys(s3, bucket, keys):
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")


def stored_keys(s3, bucket):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def run_one(connection, activity, config, *, lazy=False):
    [document] = Harness(connection).run(activity, config, lazy=lazy)
    return materialize(document.properties)


# List Prefixes


@pytest.fixture
def folders(s3, moto_bucket):
    """25 prefixes under root/, each with two keys, and an object before each of them in
    listing order (`root/07.txt` sorts before `root/07/`), plus keys outside root/."""
    keys = []
    for n in range(25):
        keys += [f"root/{n:02d}.txt", f"root/{n:02d}/a", f"root/{n:02d}/deeper/b"]
    put_keys(s3, moto_bucket, [*keys, "rootless/x", "other/y"])
    return moto_bucket, [f"root/{n:02d}/" for n in range(25)]


@pytest.mark.parametrize("page_size", [1000, 4, 7])
def test_prefix_listing_resumes_exactly_until_done(
    moto_connection, folders, monkeypatch, page_size
):
    bucket, expected = folders
    monkeypatch.setattr(listing, "PAGE_SIZE", page_size)
    config = {"bucket": bucket, "prefix": "root/", "max_results": 7}
    listed, tokens = [], []
    token = None
    for _ in range(10):
        result = run_one(
            moto_connection,
            "list_prefixes",
            {**config, **({"continuation_token": token} if token else {})},
        )
        assert len(result["prefixes"]) <= 7
        listed += result["prefixes"]
        token = result["next_continuation_token"]
        assert result["truncated"] is (token is not None)
        if token is None:
            break
        tokens.append(token)
    assert listed == expected
    assert result["delimiter"] == "/" and result["prefix"] == "root/"
    assert result["region"] == "us-east-1"
    assert len(tokens) == 3
    ours = [t.startswith("s3c1.") for t in tokens]
    if page_size == 7:  # 7 entries hold 3 then 4 prefixes: the first stop is a page end
        assert ours[0] is False
    else:  # the stop falls inside a page
        assert all(ours)


def test_prefixes_are_streamed_after_the_first_page(moto_connection, folders, monkeypatch):
    bucket, expected = folders
    monkeypatch.setattr(listing, "PAGE_SIZE", 10)
    calls = []
    moto_connection.client().meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **_: calls.append(1)
    )
    config = {"bucket": bucket, "prefix": "root/"}
    [document] = Harness(moto_connection).run("list_prefixes", config, lazy=True)
    assert len(calls) <= 2  # the first page, and at most the next one fetched ahead
    assert next(document.properties["prefixes"]) == "root/00/"
    out = io.StringIO()
    write_json(document.properties, out)
    assert json.loads(out.getvalue())["prefixes"] == expected[1:]
    assert len(calls) == 5  # 50 entries (objects and prefixes) in pages of 10
    top = run_one(moto_connection, "list_prefixes", {"bucket": bucket})
    assert top["prefixes"] == ["other/", "root/", "rootless/"] and top["truncated"] is False
    deeper = run_one(moto_connection, "list_prefixes", {"bucket": bucket, "prefix": "root/03/"})
    assert deeper["prefixes"] == ["root/03/deeper/"]


def test_a_foreign_token_is_refused_naming_the_field(moto_connection, folders):
    bucket, _ = folders
    with pytest.raises(InvalidInput) as refused:
        run_one(
            moto_connection, "list_prefixes", {"bucket": bucket, "continuation_token": "s3c1.A"}
        )
    assert refused.value.field == "continuation_token"


# List Buckets


@pytest.fixture
def buckets(s3):
    names = ["lbt-a-1", "lbt-a-2", "lbt-a-3", "lbt-b-1", "other-bucket"]
    for name in names:
        s3.create_bucket(Bucket=name)
    return names


def test_list_buckets_with_a_prefix_and_max_results(moto_connection, buckets):
    result = run_one(moto_connection, "list_buckets", {"prefix": "lbt-a-"})
    assert [b["name"] for b in result["buckets"]] == ["lbt-a-1", "lbt-a-2", "lbt-a-3"]
    assert result["truncated"] is False
    assert all(
        set(b) == {"name", "creation_date"} and b["creation_date"] for b in result["buckets"]
    )
    capped = run_one(moto_connection, "list_buckets", {"prefix": "lbt-a-", "max_results": 2})
    assert [b["name"] for b in capped["buckets"]] == ["lbt-a-1", "lbt-a-2"]
    assert capped["truncated"] is True
    exact = run_one(moto_connection, "list_buckets", {"prefix": "lbt-", "max_results": 4})
    assert len(exact["buckets"]) == 4 and exact["truncated"] is False
    for config in ({}, {"prefix": ""}):
        everything = run_one(moto_connection, "list_buckets", config)
        assert [b["name"] for b in everything["buckets"]] == sorted(buckets)


def test_list_buckets_filters_when_the_server_ignores_the_prefix(moto_connection, buckets):
    def drop_prefix(params, **_):
        params.pop("Prefix", None)

    moto_connection.client().meta.events.register(
        "before-parameter-build.s3.ListBuckets", drop_prefix
    )
    result = run_one(moto_connection, "list_buckets", {"prefix": "lbt-b"})
    assert [b["name"] for b in result["buckets"]] == ["lbt-b-1"]


def test_list_buckets_reports_the_region_when_the_server_tells_it(moto_connection, buckets):
    def add_region(parsed, **_):
        for entry in parsed.get("Buckets", []):
            entry["BucketRegion"] = "eu-west-3"

    moto_connection.client().meta.events.register("after-call.s3.ListBuckets", add_region)
    result = run_one(moto_connection, "list_buckets", {"prefix": "lbt-b"})
    assert result["buckets"][0]["region"] == "eu-west-3"


def test_list_buckets_pages_with_the_continuation_token(moto_connection, buckets, monkeypatch):
    """moto returns no ContinuationToken: serve pages of at most 2 from the real names."""
    monkeypatch.setattr(list_buckets, "PAGE_SIZE", 2)
    names = sorted(buckets)
    requests = []

    def page(**_):
        params = requests[-1]
        start = int(params.get("ContinuationToken", 0))
        chosen = names[start : start + params["MaxBuckets"]]
        body = {"Buckets": [{"Name": name} for name in chosen]}
        if start + len(chosen) < len(names):
            body["ContinuationToken"] = str(start + len(chosen))
        return AWSResponse("https://s3", 200, {}, None), body

    events = moto_connection.client().meta.events
    events.register(
        "before-parameter-build.s3.ListBuckets", lambda params, **_: requests.append(params)
    )
    events.register("before-call.s3.ListBuckets", page)
    result = run_one(moto_connection, "list_buckets", {"max_results": 4})
    assert [b["name"] for b in result["buckets"]] == names[:4]
    assert result["truncated"] is True
    assert [(r["MaxBuckets"], r.get("ContinuationToken")) for r in requests] == [
        (2, None),
        (2, "2"),
        (1, "4"),
    ]
    requests.clear()
    result = run_one(moto_connection, "list_buckets", {"max_results": 5})
    assert [b["name"] for b in result["buckets"]] == names and result["truncated"] is False


# Purge


@pytest.fixture
def tree(s3, moto_bucket, monkeypatch):
    """25 keys under data/ and keys beside it; batches of 10 keys and listing pages of 7, so
    that batches are made across pages (the real sizes, 1,000 and 1,000, are proven on
    SeaweedFS with 2,500 objects)."""
    monkeypatch.setattr(purge, "BATCH_SIZE", 10)
    monkeypatch.setattr(listing, "PAGE_SIZE", 7)
    inside = [f"data/{n:02d}" for n in range(25)]
    outside = ["data", "data-other/1", "dat/1", "other/data/1"]
    put_keys(s3, moto_bucket, inside + outside)
    return moto_bucket, inside, outside


def count_deletes(connection):
    sizes = []
    connection.client().meta.events.register(
        "before-parameter-build.s3.DeleteObjects",
        lambda params, **_: sizes.append(len(params["Delete"]["Objects"])),
    )
    return sizes


def test_an_empty_prefix_is_refused_without_force_before_any_call(moto_connection, tree, s3):
    bucket, inside, outside = tree
    calls = []
    moto_connection.client().meta.events.register("before-call.s3", lambda **_: calls.append(1))
    for config in ({}, {"prefix": "", "dry_run": False}):
        with pytest.raises(InvalidInput) as refused:
            run_one(moto_connection, "purge", {"bucket": bucket, **config})
        assert refused.value.field == "prefix" and "force" in refused.value.message
    assert calls == []
    assert len(stored_keys(s3, bucket)) == len(inside + outside)


def test_dry_run_lists_and_counts_and_deletes_nothing(moto_connection, tree, s3):
    bucket, inside, outside = tree
    sizes = count_deletes(moto_connection)
    result = run_one(moto_connection, "purge", {"bucket": bucket, "prefix": "data/"})
    assert result["dry_run"] is True and result["keys"] == inside
    assert (result["matched"], result["deleted"], result["delete_calls"]) == (25, 0, 0)
    assert result["failed"] == [] and sizes == []
    assert result["bucket"] == bucket and result["region"] == "us-east-1"
    assert len(stored_keys(s3, bucket)) == len(inside + outside)


@pytest.mark.parametrize("dry_run", [True, False])
def test_max_objects_refuses_and_deletes_nothing(moto_connection, tree, s3, dry_run):
    bucket, inside, outside = tree
    sizes = count_deletes(moto_connection)
    config = {"bucket": bucket, "prefix": "data/", "dry_run": dry_run, "max_objects": 24}
    with pytest.raises(PreconditionFailed) as refused:
        run_one(moto_connection, "purge", config)
    assert refused.value.field == "max_objects"
    assert str(refused.value) == (
        "max_objects: at least 25 objects match prefix 'data/', more than max_objects 24; "
        "nothing was deleted"
    )
    assert sizes == [] and len(stored_keys(s3, bucket)) == len(inside + outside)


def test_max_objects_counts_no_further_than_one_past_it(moto_connection, tree):
    bucket, _, _ = tree
    sizes = []
    moto_connection.client().meta.events.register(
        "before-parameter-build.s3.ListObjectsV2",
        lambda params, **_: sizes.append(params["MaxKeys"]),
    )
    with pytest.raises(PreconditionFailed, match="at least 10 objects"):
        run_one(moto_connection, "purge", {"bucket": bucket, "prefix": "da", "max_objects": 9})
    assert sizes == [7, 3]


def test_max_objects_allows_a_purge_of_that_size(moto_connection, tree, s3):
    bucket, inside, outside = tree
    sizes = count_deletes(moto_connection)
    config = {"bucket": bucket, "prefix": "data/", "dry_run": False, "max_objects": 25}
    result = run_one(moto_connection, "purge", config)
    assert result["deleted"] == 25 and result["keys"] == inside and sizes == [10, 10, 5]
    assert sorted(stored_keys(s3, bucket)) == sorted(outside)


def test_purge_deletes_only_under_the_prefix_in_full_batches(moto_connection, tree, s3):
    bucket, inside, outside = tree
    sizes = count_deletes(moto_connection)
    config = {"bucket": bucket, "prefix": "data/", "dry_run": False}
    result = run_one(moto_connection, "purge", config)
    assert result["keys"] == inside and result["dry_run"] is False
    assert (result["matched"], result["deleted"], result["delete_calls"]) == (25, 25, 3)
    assert result["failed"] == [] and sizes == [10, 10, 5]
    assert sorted(stored_keys(s3, bucket)) == sorted(outside)


def test_force_purges_the_whole_bucket(moto_connection, tree, s3):
    bucket, inside, outside = tree
    config = {"bucket": bucket, "force": True, "dry_run": False}
    result = run_one(moto_connection, "purge", config)
    assert result["deleted"] == len(inside + outside) and stored_keys(s3, bucket) == []


def test_keys_stream_batch_by_batch(moto_connection, tree):
    bucket, _, _ = tree
    sizes = count_deletes(moto_connection)
    [document] = Harness(moto_connection).run(
        "purge", {"bucket": bucket, "prefix": "data/", "dry_run": False}, lazy=True
    )
    assert sizes == []
    keys = document.properties["keys"]
    assert next(keys) == "data/00" and sizes == [10]
    assert len(list(keys)) == 24 and sizes == [10, 10, 5]


def test_counts_read_first_finish_the_purge(moto_connection, tree, s3):
    bucket, _, outside = tree
    [document] = Harness(moto_connection).run(
        "purge", {"bucket": bucket, "prefix": "data/", "dry_run": False}, lazy=True
    )
    assert document.properties["deleted"]() == 25
    assert sorted(stored_keys(s3, bucket)) == sorted(outside)


class RefuseKey:
    """Makes S3 answer that `key` was not deleted, when a DeleteObjects request names it."""

    def __init__(self, key):
        self.key = key
        self.requested: set[str] = set()

    def register(self, client):
        events = client.meta.events
        events.register("before-parameter-build.s3.DeleteObjects", self.remember, "remember")
        events.register("after-call.s3.DeleteObjects", self.refuse, "refuse")

    def remember(self, params, **_):
        self.requested = {item["Key"] for item in params["Delete"]["Objects"]}

    def refuse(self, parsed, **_):
        if self.key in self.requested:
            error = {"Key": self.key, "Code": "AccessDenied", "Message": "Access Denied"}
            parsed.setdefault("Errors", []).append(error)


def test_keys_s3_did_not_delete_are_reported_then_raised(moto_connection, tree):
    bucket, _, _ = tree
    RefuseKey("data/07").register(moto_connection.client())
    config = {"bucket": bucket, "prefix": "data/", "dry_run": False}
    responses = Harness(moto_connection).run("purge", config, lazy=True)
    document = next(responses)
    out = io.StringIO()
    write_json(document.properties, out)  # as `s3c run` writes it, before the next response
    result = json.loads(out.getvalue())
    assert result["failed"] == [
        {"key": "data/07", "code": "AccessDenied", "message": "Access Denied"}
    ]
    assert result["deleted"] == 24 and "data/07" not in result["keys"]
    with pytest.raises(AccessDenied, match=r"^1 of 25 objects under s3://.*/data/ were not"):
        next(responses)


def test_a_response_read_after_the_run_reports_failures_without_raising(moto_connection, tree):
    bucket, _, _ = tree
    RefuseKey("data/24").register(moto_connection.client())
    config = {"bucket": bucket, "prefix": "data/", "dry_run": False}
    result = run_one(moto_connection, "purge", config, lazy=True)
    assert [f["key"] for f in result["failed"]] == ["data/24"] and result["deleted"] == 24


def _refuse_delete_objects(**_):
    body = {
        "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
        "ResponseMetadata": {"HTTPStatusCode": 403, "RequestId": "REQ123"},
    }
    return AWSResponse("https://s3", 403, {}, None), body


def test_a_refused_delete_request_stops_the_purge(moto_connection, tree, s3):
    bucket, inside, outside = tree
    listings = []
    client = moto_connection.client()
    client.meta.events.register("before-call.s3.ListObjectsV2", lambda **_: listings.append(1))
    client.meta.events.register("before-call.s3.DeleteObjects", _refuse_delete_objects)
    responses = Harness(moto_connection).run(
        "purge", {"bucket": bucket, "prefix": "data/", "dry_run": False}, lazy=True
    )
    result = materialize(next(responses).properties)
    assert result["keys"] == [] and result["deleted"] == 0 and result["delete_calls"] == 1
    assert [f["key"] for f in result["failed"]] == inside[:10]
    assert result["failed"][0] == {
        "key": "data/00",
        "code": "AccessDenied",
        "message": "Access Denied",
    }
    assert len(listings) == 2  # pages of 7: no listing after the refused batch
    with pytest.raises(AccessDenied, match="REQ123"):
        next(responses)
    assert len(stored_keys(s3, bucket)) == len(inside + outside)


def test_cli_prints_the_response_then_fails_on_a_partial_purge(tree, tmp_path, monkeypatch):
    bucket, _, _ = tree
    original = Connection.client
    refuse = RefuseKey("data/03")

    def client(self, *args, **kwargs):
        made = original(self, *args, **kwargs)
        refuse.register(made)
        return made

    monkeypatch.setattr(Connection, "client", client)
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps(MOTO_SETTINGS))
    args = ["run", "purge", "-c", str(conn), "-p", f"bucket={bucket}", "-p", "prefix=data/"]
    result = CliRunner().invoke(cli, [*args, "-p", "dry_run=false"])
    assert result.exit_code == 3
    [line] = [json.loads(text) for text in result.stdout.splitlines() if text.strip()]
    assert line["deleted"] == 24 and line["failed"][0]["key"] == "data/03"
    assert result.stderr.startswith("error: 1 of 25 objects under s3://")
