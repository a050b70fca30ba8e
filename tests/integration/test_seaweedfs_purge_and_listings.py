"""Purge, List Prefixes and List Buckets against a real S3 server (SeaweedFS)."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner

from s3_connector.activities import list_buckets
from s3_connector.cli.main import cli
from s3_connector.connector.errors import PreconditionFailed
from s3_connector.connector.harness import Harness
from s3_connector.connector.streaming_json import materialize


def put_all(client, bucket, keys):
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=b"."), keys))


def stored_keys(client, bucket, prefix=""):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def run_one(connection, activity, config):
    [document] = Harness(connection).run(activity, config)
    return materialize(document.properties)


def test_purge_of_2500_objects(seaweed_connection, seaweed_client, seaweed_bucket):
    """The acceptance test: a dry run deletes nothing and reports 2,500; max_objects 1,000
    refuses; the purge deletes all 2,500 in exactly 3 DeleteObjects calls, paging the listing
    while it deletes, and nothing outside the prefix."""
    keys = [f"purge/{n:05d}.txt" for n in range(2500)]
    outside = ["purge", "purged/1", "other/purge/1"]
    put_all(seaweed_client, seaweed_bucket, keys + outside)
    region = seaweed_connection.regions.region_for(seaweed_bucket)
    events = seaweed_connection.client(region).meta.events
    batches, deletes = [], []
    events.register(
        "before-parameter-build.s3.DeleteObjects",
        lambda params, **_: batches.append(len(params["Delete"]["Objects"])),
    )
    events.register("before-call.s3.DeleteObjects", lambda **_: deletes.append(1))
    config = {"bucket": seaweed_bucket, "prefix": "purge/"}

    dry = run_one(seaweed_connection, "purge", config)
    assert dry["dry_run"] is True and dry["keys"] == keys
    assert (dry["matched"], dry["deleted"], dry["delete_calls"]) == (2500, 0, 0)
    assert deletes == [] and len(stored_keys(seaweed_client, seaweed_bucket, "purge/")) == 2500

    for dry_run in (True, False):
        with pytest.raises(PreconditionFailed) as refused:
            run_one(
                seaweed_connection, "purge", {**config, "max_objects": 1000, "dry_run": dry_run}
            )
        assert refused.value.field == "max_objects" and "nothing was deleted" in str(refused.value)
    assert deletes == [] and len(stored_keys(seaweed_client, seaweed_bucket, "purge/")) == 2500

    done = run_one(seaweed_connection, "purge", {**config, "dry_run": False})
    assert done["dry_run"] is False and done["keys"] == keys and done["failed"] == []
    assert (done["matched"], done["deleted"], done["delete_calls"]) == (2500, 2500, 3)
    assert len(deletes) == 3 and batches == [1000, 1000, 500]
    assert stored_keys(seaweed_client, seaweed_bucket) == sorted(outside)


def test_purge_with_max_objects_deletes_the_counted_keys(
    seaweed_connection, seaweed_client, seaweed_bucket
):
    keys = [f"few/{n}" for n in range(5)]
    put_all(seaweed_client, seaweed_bucket, [*keys, "fewer"])
    config = {"bucket": seaweed_bucket, "prefix": "few/", "dry_run": False, "max_objects": 5}
    result = run_one(seaweed_connection, "purge", config)
    assert result["keys"] == keys and result["deleted"] == 5 and result["delete_calls"] == 1
    assert stored_keys(seaweed_client, seaweed_bucket) == ["fewer"]


def test_list_prefixes_resumes_exactly(seaweed_connection, seaweed_client, seaweed_bucket):
    keys = [f"top/{n:02d}.txt" for n in range(25)]
    keys += [f"top/{n:02d}/{leaf}" for n in range(25) for leaf in ("a", "b/c")]
    put_all(seaweed_client, seaweed_bucket, [*keys, "topless/x"])
    expected = [f"top/{n:02d}/" for n in range(25)]
    config = {"bucket": seaweed_bucket, "prefix": "top/", "max_results": 7}
    listed, token = [], None
    for _ in range(10):
        page = run_one(
            seaweed_connection,
            "list_prefixes",
            {**config, **({"continuation_token": token} if token else {})},
        )
        listed += page["prefixes"]
        token = page["next_continuation_token"]
        if token is None:
            break
        assert token.startswith("s3c1.")  # stops inside a page resume through StartAfter
    assert listed == expected and page["truncated"] is False
    top = run_one(seaweed_connection, "list_prefixes", {"bucket": seaweed_bucket})
    assert top["prefixes"] == ["top/", "topless/"] and top["region"] == "us-east-1"


def test_list_buckets_with_a_prefix_pages_and_truncates(
    seaweed_connection, seaweed_client, monkeypatch
):
    prefix = f"lb-{uuid.uuid4().hex[:8]}-"
    names = [f"{prefix}{n}" for n in range(5)]
    for name in names:
        seaweed_client.create_bucket(Bucket=name)
    result = run_one(seaweed_connection, "list_buckets", {"prefix": prefix})
    assert [b["name"] for b in result["buckets"]] == names and result["truncated"] is False
    assert all(b["creation_date"] for b in result["buckets"])
    capped = run_one(seaweed_connection, "list_buckets", {"prefix": prefix, "max_results": 3})
    assert [b["name"] for b in capped["buckets"]] == names[:3] and capped["truncated"] is True
    monkeypatch.setattr(list_buckets, "PAGE_SIZE", 2)
    tokens = []
    seaweed_connection.client().meta.events.register(
        "before-parameter-build.s3.ListBuckets",
        lambda params, **_: tokens.append(params.get("ContinuationToken")),
    )
    paged = run_one(seaweed_connection, "list_buckets", {"prefix": prefix})
    assert [b["name"] for b in paged["buckets"]] == names and paged["truncated"] is False
    assert len(tokens) >= 3 and tokens[0] is None and all(tokens[1:])


def test_cli_purge_dry_run(seaweed_settings, seaweed_client, seaweed_bucket, tmp_path):
    put_all(seaweed_client, seaweed_bucket, ["cli/1", "cli/2", "kept"])
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps(seaweed_settings))
    result = CliRunner().invoke(
        cli,
        ["run", "purge", "-c", str(conn), "-p", f"bucket={seaweed_bucket}", "-p", "prefix=cli/"],
    )
    assert result.exit_code == 0, result.output
    [line] = [json.loads(text) for text in result.stdout.splitlines() if text.strip()]
    assert line["keys"] == ["cli/1", "cli/2"] and line["matched"] == 2 and line["deleted"] == 0
    assert stored_keys(seaweed_client, seaweed_bucket) == ["cli/1", "cli/2", "kept"]
