"""Copy Object and Move Object on moto (conditional writes and SSE-C are proven on SeaweedFS)."""

import json
import os

import boto3
import pytest
from support import MOTO_SETTINGS, answer, new_sse_c_key, run_one, unique_bucket

from s3_connector.activities import copying, move_object, storing
from s3_connector.connector.connection import Connection
from s3_connector.connector.errors import ConnectorError, InvalidInput, PreconditionFailed
from s3_connector.connector.harness import Harness

MiB = 1024 * 1024


@pytest.fixture
def connection(moto):
    return Connection(MOTO_SETTINGS)


@pytest.fixture
def harness(connection):
    return Harness(connection)


def s3(region="us-east-1"):
    return boto3.client("s3", region_name=region)


def exists(bucket, key):
    listed = s3().list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
    return any(item["Key"] == key for item in listed)


def body(bucket, key, **extra):
    return s3().get_object(Bucket=bucket, Key=key, **extra)["Body"].read()


def put_versions(bucket, key, *bodies):
    """Turn versioning on and store each of `bodies` under `key` in turn; their version ids."""
    s3().put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return [s3().put_object(Bucket=bucket, Key=key, Body=data)["VersionId"] for data in bodies]


@pytest.fixture
def source(moto_bucket):
    s3().put_object(
        Bucket=moto_bucket,
        Key="in/report.csv",
        Body=b"a,b\n1,2\n",
        ContentType="text/csv",
        Metadata={"owner": "ops"},
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="r.csv"',
        ContentLanguage="en",
    )
    return moto_bucket


def test_destination_key_alone_copies_within_the_source_bucket(harness, source):
    copied = run_one(
        harness,
        "copy_object",
        {"bucket": source, "key": "in/report.csv", "destination_key": "out/report.csv"},
    )
    assert (copied["bucket"], copied["key"]) == (source, "out/report.csv")
    assert (copied["folder"], copied["file_name"], copied["region"]) == (
        "out",
        "report.csv",
        "us-east-1",
    )
    assert copied["size"] == 8 and copied["multipart"] is False
    assert copied["source"] == {
        "bucket": source,
        "key": "in/report.csv",
        "version_id": None,
        "region": "us-east-1",
    }
    assert body(source, "out/report.csv") == b"a,b\n1,2\n"
    assert copied["etag"] == s3().head_object(Bucket=source, Key="out/report.csv")["ETag"].strip(
        '"'
    )
    assert exists(source, "in/report.csv")


def test_destination_bucket_alone_copies_to_the_same_key(harness, source):
    other = unique_bucket("moto")
    s3().create_bucket(Bucket=other)
    copied = run_one(
        harness,
        "copy_object",
        {"bucket": source, "key": "in/report.csv", "destination_bucket": other},
    )
    assert (copied["bucket"], copied["key"]) == (other, "in/report.csv")
    assert body(other, "in/report.csv") == b"a,b\n1,2\n"


def test_copy_keeps_content_type_metadata_and_headers(harness, source):
    copied = run_one(
        harness, "copy_object", {"bucket": source, "key": "in/report.csv", "destination_key": "k"}
    )
    head = s3().head_object(Bucket=source, Key="k")
    assert copied["content_type"] == head["ContentType"] == "text/csv"
    assert head["Metadata"] == {"owner": "ops"}
    assert head["CacheControl"] == "max-age=60"
    assert head["ContentDisposition"] == 'attachment; filename="r.csv"'
    assert head["ContentLanguage"] == "en"


def test_copy_replaces_content_type_and_metadata_when_given(harness, source):
    copied = run_one(
        harness,
        "copy_object",
        {
            "bucket": source,
            "key": "in/report.csv",
            "destination_key": "k",
            "content_type": "application/x-report",
            "metadata": {"stage": "done"},
        },
    )
    head = s3().head_object(Bucket=source, Key="k")
    assert copied["content_type"] == head["ContentType"] == "application/x-report"
    assert head["Metadata"] == {"stage": "done"}
    assert head["CacheControl"] == "max-age=60"


def test_copy_in_place_replaces_metadata(harness, source):
    run_one(harness, "copy_object", {"bucket": source, "key": "in/report.csv", "metadata": {}})
    head = s3().head_object(Bucket=source, Key="in/report.csv")
    assert head["Metadata"] == {} and head["ContentType"] == "text/csv"


def test_storage_class_is_kept_unless_given(harness, moto_bucket):
    s3().put_object(Bucket=moto_bucket, Key="ia", Body=b"x", StorageClass="STANDARD_IA")
    run_one(harness, "copy_object", {"bucket": moto_bucket, "key": "ia", "destination_key": "kept"})
    assert s3().head_object(Bucket=moto_bucket, Key="kept")["StorageClass"] == "STANDARD_IA"
    config = {"bucket": moto_bucket, "key": "ia", "destination_key": "std"}
    run_one(harness, "copy_object", {**config, "storage_class": "STANDARD"})
    assert "StorageClass" not in s3().head_object(Bucket=moto_bucket, Key="std")


def test_copy_across_buckets_in_two_regions(harness, source):
    europe = unique_bucket("moto-eu")
    s3("eu-west-1").create_bucket(
        Bucket=europe, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    copied = run_one(
        harness,
        "copy_object",
        {
            "bucket": source,
            "key": "in/report.csv",
            "destination_bucket": europe,
            "destination_key": "eu/report.csv",
        },
    )
    assert copied["region"] == "eu-west-1" and copied["source"]["region"] == "us-east-1"
    assert body(europe, "eu/report.csv") == b"a,b\n1,2\n"
    assert s3().head_object(Bucket=europe, Key="eu/report.csv")["Metadata"] == {"owner": "ops"}


def test_copy_of_a_given_version(harness, moto_bucket):
    first, _ = put_versions(moto_bucket, "v", b"one", b"two")
    copied = run_one(
        harness,
        "copy_object",
        {"bucket": moto_bucket, "key": "v", "version_id": first, "destination_key": "old"},
    )
    assert copied["source"]["version_id"] == first
    assert copied["version_id"] and copied["version_id"] != first
    assert body(moto_bucket, "old") == b"one"


def test_multipart_copy_keeps_bytes_and_metadata(harness, moto_bucket, monkeypatch):
    monkeypatch.setattr(copying.COPY_CONFIG, "multipart_threshold", 5 * MiB)
    monkeypatch.setattr(copying.COPY_CONFIG, "multipart_chunksize", 5 * MiB)
    data = os.urandom(6 * MiB)
    s3().put_object(
        Bucket=moto_bucket, Key="big", Body=data, ContentType="video/mp4", Metadata={"a": "1"}
    )
    copied = run_one(
        harness, "copy_object", {"bucket": moto_bucket, "key": "big", "destination_key": "big2"}
    )
    assert copied["multipart"] is True and copied["size"] == len(data)
    head = s3().head_object(Bucket=moto_bucket, Key="big2")
    assert head["ETag"].endswith('-2"') and copied["etag"] == head["ETag"].strip('"')
    assert (head["ContentType"], head["Metadata"]) == ("video/mp4", {"a": "1"})
    assert body(moto_bucket, "big2") == data


def test_archived_source_is_refused_naming_the_key(harness, moto_bucket):
    s3().put_object(Bucket=moto_bucket, Key="cold", Body=b"x", StorageClass="GLACIER")
    with pytest.raises(InvalidInput, match=r"archived \(GLACIER\); restore it") as caught:
        run_one(
            harness, "copy_object", {"bucket": moto_bucket, "key": "cold", "destination_key": "w"}
        )
    assert caught.value.field == "key"
    assert not exists(moto_bucket, "w")


def test_missing_source_is_not_found(harness, moto_bucket):
    with pytest.raises(ConnectorError) as caught:
        run_one(
            harness, "copy_object", {"bucket": moto_bucket, "key": "nope", "destination_key": "w"}
        )
    assert caught.value.kind == "not_found"


def test_an_sse_c_source_without_its_key_names_the_field(harness, connection, source):
    answer(connection, "HeadObject", 400)  # S3's answer: a HEAD has no body to say more
    config = {"bucket": source, "key": "in/report.csv", "destination_key": "w"}
    with pytest.raises(
        InvalidInput, match="may be encrypted with SSE-C and need its key"
    ) as caught:
        run_one(harness, "copy_object", config)
    assert (caught.value.field, caught.value.request_id) == ("source_sse_c_key", "REQ123")
    with pytest.raises(InvalidInput) as refused:
        run_one(harness, "copy_object", {**config, "source_sse_c_key": new_sse_c_key()})
    assert refused.value.field is None and "SSE-C" not in refused.value.message
    assert not exists(source, "w")


@pytest.mark.parametrize(
    ("config", "field", "rule"),
    [
        ({"destination_bucket": "Bad_Bucket"}, "destination_bucket", "valid S3 bucket name"),
        ({"destination_key": ""}, "destination_key", "1 to 1024"),
        ({"destination_region": "EU West"}, "destination_region", "region name"),
        ({"storage_class": "COLD"}, "storage_class", "must be one of"),
        ({"content_type": "csv"}, "content_type", "media type"),
        ({"metadata": {"a b": "1"}}, "metadata", "token"),
        ({"sse_c_key": "c2hvcnQ="}, "sse_c_key", "32-byte"),
        ({"source_sse_c_key": "not base64!"}, "source_sse_c_key", "base64"),
        ({"key": None}, "key", ""),
    ],
)
@pytest.mark.parametrize("activity", ["copy_object", "move_object"])
def test_bad_input_names_the_field(harness, source, activity, config, field, rule):
    settings = {"bucket": source, "key": "in/report.csv", "destination_key": "w", **config}
    if settings["key"] is None:
        del settings["key"]
    with pytest.raises(InvalidInput) as caught:
        run_one(harness, activity, settings)
    assert caught.value.field == field and rule in caught.value.message
    assert exists(source, "in/report.csv") and not exists(source, "w")


def test_move_copies_verifies_then_deletes_the_source(harness, source):
    moved = run_one(
        harness,
        "move_object",
        {"bucket": source, "key": "in/report.csv", "destination_key": "done/report.csv"},
    )
    assert not exists(source, "in/report.csv")
    assert body(source, "done/report.csv") == b"a,b\n1,2\n"
    head = s3().head_object(Bucket=source, Key="done/report.csv")
    assert (head["ContentType"], head["Metadata"]) == ("text/csv", {"owner": "ops"})
    assert (moved["bucket"], moved["key"], moved["file_name"]) == (
        source,
        "done/report.csv",
        "report.csv",
    )
    assert moved["source"]["key"] == "in/report.csv" and moved["size"] == 8
    steps = moved["steps"]
    assert steps["copy"] == {"etag": moved["etag"], "version_id": None, "multipart": False}
    # moto keeps the source's CRC32 on a CopyObject, so both sides share a checksum
    assert steps["verify"] == {"method": "checksum", "algorithm": "CRC32", "size": 8}
    assert steps["delete"] == {"version_id": None, "delete_marker": False}


def test_move_of_a_multipart_copy_is_verified_by_sha256(harness, moto_bucket, monkeypatch):
    monkeypatch.setattr(copying.COPY_CONFIG, "multipart_threshold", 5 * MiB)
    monkeypatch.setattr(copying.COPY_CONFIG, "multipart_chunksize", 5 * MiB)
    data = os.urandom(6 * MiB)
    s3().put_object(Bucket=moto_bucket, Key="big", Body=data)
    moved = run_one(
        harness, "move_object", {"bucket": moto_bucket, "key": "big", "destination_key": "b2"}
    )
    assert moved["steps"]["verify"] == {"method": "sha256", "algorithm": None, "size": len(data)}
    assert moved["steps"]["copy"]["multipart"] is True
    assert body(moto_bucket, "b2") == data and not exists(moto_bucket, "big")


def test_move_in_a_versioned_bucket_leaves_a_delete_marker(harness, moto_bucket):
    [version] = put_versions(moto_bucket, "a", b"x")
    moved = run_one(
        harness, "move_object", {"bucket": moto_bucket, "key": "a", "destination_key": "b"}
    )
    assert moved["source"]["version_id"] == version
    assert moved["steps"]["delete"]["delete_marker"] is True
    assert not exists(moto_bucket, "a")
    assert body(moto_bucket, "a", VersionId=version) == b"x"


def test_move_of_a_given_version_deletes_that_version(harness, moto_bucket):
    first, _ = put_versions(moto_bucket, "a", b"one", b"two")
    moved = run_one(
        harness,
        "move_object",
        {"bucket": moto_bucket, "key": "a", "version_id": first, "destination_key": "b"},
    )
    assert moved["steps"]["delete"] == {"version_id": first, "delete_marker": False}
    versions = s3().list_object_versions(Bucket=moto_bucket, Prefix="a")["Versions"]
    assert [v["VersionId"] for v in versions if v["Key"] == "a"] != [] and first not in [
        v["VersionId"] for v in versions
    ]
    assert body(moto_bucket, "a") == b"two" and body(moto_bucket, "b") == b"one"


@pytest.mark.parametrize("config", [{}, {"destination_key": "in/report.csv"}])
def test_move_onto_itself_is_refused_before_any_request(harness, source, monkeypatch, config):
    calls = []
    monkeypatch.setattr(
        harness.connection.regions, "call", lambda *args, **kwargs: calls.append(args)
    )
    with pytest.raises(InvalidInput) as caught:
        run_one(harness, "move_object", {"bucket": source, "key": "in/report.csv", **config})
    assert caught.value.field == "destination_key" and "onto itself" in caught.value.message
    assert calls == []


def test_move_whose_verification_fails_keeps_the_source(harness, source, monkeypatch):
    real_head = move_object.head_object

    def head_reporting_another_size(connection, bucket, key, **kwargs):
        response, region = real_head(connection, bucket, key, **kwargs)
        if key == "moved.csv":
            response = {**response, "ContentLength": response["ContentLength"] + 1}
        return response, region

    monkeypatch.setattr(move_object, "head_object", head_reporting_another_size)
    with pytest.raises(ConnectorError) as caught:
        run_one(
            harness,
            "move_object",
            {"bucket": source, "key": "in/report.csv", "destination_key": "moved.csv"},
        )
    message = str(caught.value)
    assert message.startswith("move step verify failed")
    assert f"the source s3://{source}/in/report.csv was kept" in message
    assert "has 9 bytes" in message
    assert body(source, "in/report.csv") == b"a,b\n1,2\n"


def test_move_whose_copy_fails_keeps_the_source_and_the_error_class(harness, source):
    with pytest.raises(ConnectorError) as caught:
        run_one(
            harness,
            "move_object",
            {"bucket": source, "key": "in/report.csv", "destination_bucket": "no-such-bucket-x"},
        )
    assert caught.value.kind == "not_found"
    assert str(caught.value).startswith("move step copy failed")
    assert exists(source, "in/report.csv")


def test_move_does_not_delete_a_source_overwritten_after_the_copy(harness, source, monkeypatch):
    real_verify = move_object.verify

    def verify_then_overwrite(*args, **kwargs):
        result = real_verify(*args, **kwargs)
        s3().put_object(Bucket=source, Key="in/report.csv", Body=b"newer")
        return result

    monkeypatch.setattr(move_object, "verify", verify_then_overwrite)
    with pytest.raises(PreconditionFailed) as caught:
        run_one(
            harness,
            "move_object",
            {"bucket": source, "key": "in/report.csv", "destination_key": "moved.csv"},
        )
    assert str(caught.value).startswith("move step delete failed")
    assert "changed after it was copied" in str(caught.value)
    assert body(source, "in/report.csv") == b"newer"
    assert body(source, "moved.csv") == b"a,b\n1,2\n"


def test_secrets_never_show_in_output_or_errors(harness, moto_bucket):
    old, new = new_sse_c_key(), new_sse_c_key()
    s3().put_object(Bucket=moto_bucket, Key="s", Body=b"secret")
    config = {
        "bucket": moto_bucket,
        "key": "s",
        "destination_key": "t",
        "source_sse_c_key": old,
        "sse_c_key": new,
    }
    prepared = harness.prepare("copy_object", config)
    settings = prepared.settings_for(next(iter(prepared.requests(None))))
    shown = repr(settings) + repr(copying.destination(settings))
    for activity in ("copy_object", "move_object"):
        try:
            shown += json.dumps([d.properties for d in harness.run(activity, config)])
        except ConnectorError as exc:
            shown += str(exc) + json.dumps(exc.to_dict())
    with pytest.raises(ConnectorError) as caught:
        run_one(harness, "copy_object", {**config, "key": "missing"})
    shown += str(caught.value)
    assert old not in shown and new not in shown
    assert old[:12] not in shown and new[:12] not in shown


def test_descriptors_declare_the_contract(harness):
    where = [
        "bucket",
        "region",
        "key",
        "version_id",
        "destination_bucket",
        "destination_region",
        "destination_key",
    ]
    for activity in ("copy_object", "move_object"):
        descriptor = harness.registry.descriptor(activity)
        fields = {field["name"]: field for field in descriptor["fields"]}
        assert list(fields) == [
            *where,
            "content_type",
            "metadata",
            "storage_class",
            "overwrite",
            "source_sse_c_key",
            "sse_c_key",
            *(["dry_run"] if activity == "move_object" else []),
        ]
        assert fields["overwrite"]["default"] is True
        assert fields["sse_c_key"]["secret"] and fields["source_sse_c_key"]["secret"]
        dynamic = {name for name, field in fields.items() if field["dynamic"]}
        assert dynamic == set(where)  # the fields that say where the source and the copy are
        assert fields["storage_class"]["enum"] == list(storing.STORAGE_CLASSES)
    actions = [p["action"] for p in harness.registry.descriptor("move_object")["permissions"]]
    assert {"s3:DeleteObject", "s3:AbortMultipartUpload", "s3:PutObject"} <= set(actions)
