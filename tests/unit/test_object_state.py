"""Delete Object, Exists and Head Object on moto; S3 answers moto does not give (400 for an
SSE-C object, 403, 5xx) are injected with a botocore `before-call` hook (`support.answer`)."""

import json

import boto3
import pytest
from click.testing import CliRunner
from support import MOTO_SETTINGS, answer, calls, new_sse_c_key, one_checked, run_checked

from s3_connector.activities.delete_object import DeleteObject
from s3_connector.activities.exists import Exists
from s3_connector.activities.head_object import HeadObject
from s3_connector.cli.main import cli
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import InvalidInput, NotFound, TransientFailure
from s3_connector.connector.harness import Harness
from s3_connector.sdk.testing import ActivityContract

SSE_C_KEY = new_sse_c_key()


@pytest.fixture
def harness(moto_connection):
    return Harness(moto_connection)


@pytest.fixture
def s3(moto):
    return boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def versioned_bucket(s3, moto_bucket):
    s3.put_bucket_versioning(Bucket=moto_bucket, VersioningConfiguration={"Status": "Enabled"})
    return moto_bucket


# Delete Object


def test_delete_an_existing_object(harness, moto_connection, s3, moto_bucket):
    s3.put_object(Bucket=moto_bucket, Key="dir/a.txt", Body=b"a")
    deletes = calls(moto_connection, "DeleteObject")
    response = one_checked(harness, "delete_object", {"bucket": moto_bucket, "key": "dir/a.txt"})
    assert response == {
        "bucket": moto_bucket,
        "key": "dir/a.txt",
        "folder": "dir",
        "file_name": "a.txt",
        "region": "us-east-1",
        "version_id": None,
        "delete_marker": False,
        "found": True,
        "deleted": True,
        "dry_run": False,
        "status": "deleted",
    }
    assert deletes == ["DeleteObject"]
    assert "Contents" not in s3.list_objects_v2(Bucket=moto_bucket)


def test_deleting_a_missing_key_succeeds_without_a_delete_call(
    harness, moto_connection, versioned_bucket, s3
):
    deletes = calls(moto_connection, "DeleteObject")
    response = one_checked(harness, "delete_object", {"bucket": versioned_bucket, "key": "ghost"})
    assert (response["status"], response["found"], response["deleted"]) == (
        "not_found",
        False,
        False,
    )
    assert response["delete_marker"] is False
    assert deletes == []
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket=versioned_bucket)


def test_delete_in_a_versioned_bucket_leaves_a_delete_marker(harness, versioned_bucket, s3):
    s3.put_object(Bucket=versioned_bucket, Key="k", Body=b"1")
    response = one_checked(harness, "delete_object", {"bucket": versioned_bucket, "key": "k"})
    [marker] = s3.list_object_versions(Bucket=versioned_bucket)["DeleteMarkers"]
    assert response["delete_marker"] is True and response["status"] == "deleted"
    assert response["version_id"] == marker["VersionId"]


def test_delete_one_version_for_good(harness, versioned_bucket, s3):
    old = s3.put_object(Bucket=versioned_bucket, Key="k", Body=b"old")["VersionId"]
    new = s3.put_object(Bucket=versioned_bucket, Key="k", Body=b"new")["VersionId"]
    config = {"bucket": versioned_bucket, "key": "k", "version_id": old}
    response = one_checked(harness, "delete_object", config)
    assert (response["version_id"], response["found"], response["delete_marker"]) == (
        old,
        True,
        False,
    )
    versions = s3.list_object_versions(Bucket=versioned_bucket)
    assert [v["VersionId"] for v in versions["Versions"]] == [new]
    assert "DeleteMarkers" not in versions
    again = one_checked(harness, "delete_object", config)
    assert (again["status"], again["found"], again["version_id"]) == ("not_found", False, old)
    assert s3.get_object(Bucket=versioned_bucket, Key="k")["Body"].read() == b"new"


def test_deleting_a_delete_marker_version_restores_the_object(harness, versioned_bucket, s3):
    s3.put_object(Bucket=versioned_bucket, Key="k", Body=b"1")
    marker = s3.delete_object(Bucket=versioned_bucket, Key="k")["VersionId"]
    config = {"bucket": versioned_bucket, "key": "k", "version_id": marker}
    response = one_checked(harness, "delete_object", config)
    assert (response["status"], response["found"], response["version_id"]) == (
        "deleted",
        True,
        marker,
    )
    assert s3.get_object(Bucket=versioned_bucket, Key="k")["Body"].read() == b"1"


def test_delete_when_head_is_forbidden_reports_found_null_and_deletes(
    harness, moto_connection, s3, moto_bucket
):
    s3.put_object(Bucket=moto_bucket, Key="k", Body=b"1")
    answer(moto_connection, "HeadObject", 403)
    response = one_checked(harness, "delete_object", {"bucket": moto_bucket, "key": "k"})
    assert (response["found"], response["deleted"], response["status"]) == (None, True, "deleted")
    assert "Contents" not in s3.list_objects_v2(Bucket=moto_bucket)


def test_delete_of_an_sse_c_object_asked_without_its_key_counts_as_found(
    harness, moto_connection, s3, moto_bucket
):
    s3.put_object(Bucket=moto_bucket, Key="k", Body=b"1")
    answer(moto_connection, "HeadObject", 400)
    response = one_checked(harness, "delete_object", {"bucket": moto_bucket, "key": "k"})
    assert (response["found"], response["status"]) == (True, "deleted")


def test_delete_in_a_missing_bucket_is_not_found(harness, moto_connection, moto):
    deletes = calls(moto_connection, "DeleteObject")
    with pytest.raises(NotFound, match="bucket does not exist") as caught:
        run_checked(harness, "delete_object", {"bucket": "no-such-bucket-here", "key": "k"})
    assert caught.value.field == "bucket"
    assert deletes == []


def test_delete_with_a_version_id_s3_refuses_names_the_field(
    harness, moto_connection, s3, moto_bucket
):
    s3.put_object(Bucket=moto_bucket, Key="k", Body=b"1")
    answer(moto_connection, "HeadObject", 400)
    answer(moto_connection, "DeleteObject", 400, "InvalidArgument", "Invalid version id specified")
    with pytest.raises(InvalidInput, match="Invalid version id") as caught:
        run_checked(
            harness, "delete_object", {"bucket": moto_bucket, "key": "k", "version_id": "x"}
        )
    assert caught.value.field == "version_id"


def test_delete_runs_documents_concurrently_in_order(harness, s3, moto_bucket):
    for n in range(5):
        s3.put_object(Bucket=moto_bucket, Key=f"k{n}", Body=b".")
    documents = [Document({"key": f"k{n}"}) for n in range(8)]
    responses = run_checked(harness, "delete_object", {"bucket": moto_bucket}, documents)
    assert [r["key"] for r in responses] == [f"k{n}" for n in range(8)]
    assert [r["status"] for r in responses] == ["deleted"] * 5 + ["not_found"] * 3


# Exists


def test_exists_found_and_not_found(harness, s3, moto_bucket):
    s3.put_object(Bucket=moto_bucket, Key="a/b.txt", Body=b"1")
    found = one_checked(harness, "exists", {"bucket": moto_bucket, "key": "a/b.txt"})
    assert found == {
        "bucket": moto_bucket,
        "key": "a/b.txt",
        "folder": "a",
        "file_name": "b.txt",
        "region": "us-east-1",
        "version_id": None,
        "state": "found",
        "exists": True,
        "delete_marker": False,
        "reason": None,
    }
    missing = one_checked(harness, "exists", {"bucket": moto_bucket, "key": "a/c.txt"})
    assert (missing["state"], missing["exists"], missing["reason"]) == (
        "not_found",
        False,
        "no_such_key",
    )


def test_exists_checks_a_version(harness, versioned_bucket, s3):
    old = s3.put_object(Bucket=versioned_bucket, Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket=versioned_bucket, Key="k", Body=b"2")
    config = {"bucket": versioned_bucket, "key": "k", "version_id": old}
    assert one_checked(harness, "exists", config)["state"] == "found"
    s3.delete_object(Bucket=versioned_bucket, Key="k", VersionId=old)
    gone = one_checked(harness, "exists", config)
    assert (gone["state"], gone["reason"], gone["version_id"]) == (
        "not_found",
        "no_such_version",
        old,
    )


def test_exists_reports_a_delete_marker_as_not_found(harness, versioned_bucket, s3):
    s3.put_object(Bucket=versioned_bucket, Key="k", Body=b"1")
    marker = s3.delete_object(Bucket=versioned_bucket, Key="k")["VersionId"]
    latest = one_checked(harness, "exists", {"bucket": versioned_bucket, "key": "k"})
    assert (latest["state"], latest["delete_marker"], latest["reason"]) == (
        "not_found",
        True,
        "delete_marker",
    )
    assert latest["version_id"] == marker
    config = {"bucket": versioned_bucket, "key": "k", "version_id": marker}
    named = one_checked(harness, "exists", config)
    assert (named["state"], named["exists"], named["delete_marker"]) == ("not_found", False, True)


def test_exists_reports_403_as_forbidden_never_not_found(harness, moto_connection, moto_bucket):
    answer(moto_connection, "HeadObject", 403)
    response = one_checked(harness, "exists", {"bucket": moto_bucket, "key": "anything"})
    assert (response["state"], response["exists"], response["reason"]) == (
        "forbidden",
        False,
        "access_denied",
    )


def test_exists_counts_an_sse_c_400_as_found(harness, moto_connection, moto_bucket):
    gets = calls(moto_connection, "GetObject")
    answer(moto_connection, "HeadObject", 400)
    assert one_checked(harness, "exists", {"bucket": moto_bucket, "key": "k"})["state"] == "found"
    assert gets == []


def test_exists_reads_s3s_error_code_when_a_400_may_be_the_version_id(
    harness, moto_connection, moto_bucket
):
    config = {"bucket": moto_bucket, "key": "k", "version_id": "dsf"}
    answer(moto_connection, "HeadObject", 400)
    answer(moto_connection, "GetObject", 400, "InvalidArgument", "Invalid version id specified")
    with pytest.raises(InvalidInput, match="Invalid version id specified") as caught:
        run_checked(harness, "exists", config)
    assert (caught.value.field, caught.value.request_id) == ("version_id", "REQ123")


def test_exists_counts_a_400_with_a_version_as_found_when_it_is_sse_c(
    harness, moto_connection, moto_bucket
):
    answer(moto_connection, "HeadObject", 400)
    answer(
        moto_connection,
        "GetObject",
        400,
        "InvalidRequest",
        "The object was stored using a form of Server Side Encryption.",
    )
    config = {"bucket": moto_bucket, "key": "k", "version_id": "v1"}
    assert one_checked(harness, "exists", config)["state"] == "found"


def test_exists_in_a_missing_bucket_is_not_found_with_the_reason(harness, moto):
    response = one_checked(harness, "exists", {"bucket": "no-such-bucket-here", "key": "k"})
    assert (response["state"], response["reason"]) == ("not_found", "no_such_bucket")


def test_exists_checks_the_bucket_once_per_run(harness, moto_connection, moto_bucket):
    head_buckets = calls(moto_connection, "HeadBucket")
    moto_connection.regions.region_for(moto_bucket)
    head_buckets.clear()
    documents = [Document({"key": f"missing-{n}"}) for n in range(4)]
    responses = run_checked(harness, "exists", {"bucket": moto_bucket}, documents)
    assert {r["reason"] for r in responses} == {"no_such_key"}
    assert len(head_buckets) == 1


def test_exists_raises_transient_failures(harness, moto_connection, moto_bucket):
    answer(moto_connection, "HeadObject", 503, "SlowDown")
    with pytest.raises(TransientFailure):
        run_checked(harness, "exists", {"bucket": moto_bucket, "key": "k"})


# Head Object


def test_head_object_describes_the_object_without_its_body(harness, s3, moto_bucket):
    s3.put_object(
        Bucket=moto_bucket,
        Key="in/report.json",
        Body=b'{"a": 1}',
        ContentType="application/json",
        ContentEncoding="gzip",
        ContentDisposition='attachment; filename="r.json"',
        CacheControl="max-age=60",
        Metadata={"owner": "ops"},
        StorageClass="STANDARD_IA",
        ChecksumAlgorithm="SHA256",
    )
    response = one_checked(harness, "head_object", {"bucket": moto_bucket, "key": "in/report.json"})
    head = s3.head_object(Bucket=moto_bucket, Key="in/report.json", ChecksumMode="ENABLED")
    assert response["size"] == 8 and response["content_type"] == "application/json"
    assert response["etag"] == head["ETag"].strip('"')
    assert response["metadata"] == {"owner": "ops"}
    assert response["storage_class"] == "STANDARD_IA"
    assert response["checksum"]["algorithm"] == "SHA256"
    assert response["checksum"]["value"] == head["ChecksumSHA256"]
    assert response["content_encoding"] == "gzip"
    assert response["content_disposition"] == 'attachment; filename="r.json"'
    assert response["cache_control"] == "max-age=60"
    assert (response["folder"], response["file_name"]) == ("in", "report.json")
    assert response["last_modified"] and response["sse_c"] is False
    assert "content" not in response


def test_head_object_has_nulls_for_absent_headers(harness, s3, moto_bucket):
    s3.put_object(Bucket=moto_bucket, Key="plain", Body=b"x")
    response = one_checked(harness, "head_object", {"bucket": moto_bucket, "key": "plain"})
    assert response["content_encoding"] is None
    assert response["content_disposition"] is None
    assert response["cache_control"] is None


def test_head_object_of_a_version(harness, versioned_bucket, s3):
    old = s3.put_object(Bucket=versioned_bucket, Key="k", Body=b"old!")["VersionId"]
    s3.put_object(Bucket=versioned_bucket, Key="k", Body=b"new")
    config = {"bucket": versioned_bucket, "key": "k", "version_id": old}
    response = one_checked(harness, "head_object", config)
    assert (response["size"], response["version_id"]) == (4, old)


def test_head_object_of_a_missing_object_is_not_found(harness, moto_bucket):
    with pytest.raises(NotFound) as caught:
        run_checked(harness, "head_object", {"bucket": moto_bucket, "key": "nope"})
    assert caught.value.exit_code == 3


def test_head_object_says_when_a_delete_marker_hides_the_object(harness, versioned_bucket, s3):
    s3.put_object(Bucket=versioned_bucket, Key="k", Body=b"1")
    marker = s3.delete_object(Bucket=versioned_bucket, Key="k")["VersionId"]
    with pytest.raises(NotFound, match=r"latest version of .* is a delete marker"):
        run_checked(harness, "head_object", {"bucket": versioned_bucket, "key": "k"})
    config = {"bucket": versioned_bucket, "key": "k", "version_id": marker}
    with pytest.raises(NotFound, match=rf"version {marker} of .* is a delete marker"):
        run_checked(harness, "head_object", config)


def test_head_object_of_an_sse_c_object_without_its_key_names_the_field(
    harness, moto_connection, moto_bucket
):
    answer(moto_connection, "HeadObject", 400)
    with pytest.raises(InvalidInput, match="encrypted with SSE-C and needs its key") as caught:
        run_checked(harness, "head_object", {"bucket": moto_bucket, "key": "k"})
    assert caught.value.field == "sse_c_key"
    assert caught.value.request_id == "REQ123"


def test_head_object_with_a_version_id_s3_refuses_names_the_field(
    harness, moto_connection, moto_bucket
):
    answer(moto_connection, "HeadObject", 400)
    answer(moto_connection, "GetObject", 400, "InvalidArgument", "Invalid version id specified")
    with pytest.raises(InvalidInput, match="Invalid version id") as caught:
        run_checked(
            harness, "head_object", {"bucket": moto_bucket, "key": "k", "version_id": "dsf"}
        )
    assert caught.value.field == "version_id"


def test_the_sse_c_key_is_sent_and_never_returned(harness, moto_connection, s3, moto_bucket):
    s3.put_object(Bucket=moto_bucket, Key="k", Body=b"1")
    sent = []
    moto_connection.client().meta.events.register(
        "before-call.s3.HeadObject",
        lambda params, **_: sent.append(
            params["headers"].get("x-amz-server-side-encryption-customer-key")
        ),
    )
    config = {"bucket": moto_bucket, "key": "k", "sse_c_key": SSE_C_KEY}
    outputs = [one_checked(harness, activity, config) for activity in ("exists", "head_object")]
    assert sent == [SSE_C_KEY, SSE_C_KEY]
    assert SSE_C_KEY not in json.dumps(outputs)


# Bad input, for all three


@pytest.mark.parametrize("activity", ["delete_object", "exists", "head_object"])
@pytest.mark.parametrize(
    ("config", "field", "rule"),
    [
        ({"bucket": "ab", "key": "k"}, "bucket", "valid S3 bucket name"),
        ({"bucket": "abc"}, "key", "required"),
        ({"bucket": "abc", "key": ""}, "key", "1 to 1024 characters"),
        ({"bucket": "abc", "key": "k", "version_id": ""}, "version_id", "between 1 and 1024"),
    ],
)
def test_bad_input_names_the_field(harness, moto, activity, config, field, rule):
    sent = calls(harness.connection, "*")
    with pytest.raises(InvalidInput, match=rule) as caught:
        run_checked(harness, activity, config)
    assert caught.value.field == field
    assert sent == []


@pytest.mark.parametrize("activity", ["exists", "head_object"])
def test_a_bad_sse_c_key_is_refused_without_echoing_it(harness, moto, activity):
    with pytest.raises(InvalidInput) as caught:
        run_checked(harness, activity, {"bucket": "abc", "key": "k", "sse_c_key": "c2hvcnQ="})
    assert caught.value.field == "sse_c_key" and "32-byte" in str(caught.value)
    assert "c2hvcnQ=" not in str(caught.value)


# CLI


@pytest.fixture
def conn_file(tmp_path):
    path = tmp_path / "conn.json"
    path.write_text(json.dumps(MOTO_SETTINGS))
    return str(path)


def s3c(conn_file, activity, *params):
    args = ["run", activity, "-c", conn_file]
    for param in params:
        args += ["-p", param]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_cli_exists_prints_the_state_and_exits_0(conn_file, s3, moto_bucket):
    s3.put_object(Bucket=moto_bucket, Key="here", Body=b"1")
    for key, state in [("here", "found"), ("gone", "not_found")]:
        result = s3c(conn_file, "exists", f"bucket={moto_bucket}", f"key={key}")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["state"] == state


def test_cli_delete_object_twice(conn_file, s3, moto_bucket):
    s3.put_object(Bucket=moto_bucket, Key="k", Body=b"1")
    statuses = []
    for _ in range(2):
        result = s3c(conn_file, "delete_object", f"bucket={moto_bucket}", "key=k")
        assert result.exit_code == 0, result.output
        statuses.append(json.loads(result.output)["status"])
    assert statuses == ["deleted", "not_found"]


def test_cli_head_object_prints_properties_and_exits_3_when_missing(conn_file, s3, moto_bucket):
    s3.put_object(Bucket=moto_bucket, Key="k", Body=b"12345")
    result = s3c(conn_file, "head_object", f"bucket={moto_bucket}", "key=k")
    assert result.exit_code == 0 and json.loads(result.output)["size"] == 5
    missing = s3c(conn_file, "head_object", f"bucket={moto_bucket}", "key=nope")
    assert missing.exit_code == 3


# The activity test kit


class ObjectContract(ActivityContract):
    """The kit's contract with contract/a.txt stored; the input documents name `keys`."""

    config = {"key": "contract/a.txt"}
    keys: tuple[str, ...] = ()

    def prepare(self, client, bucket):
        client.put_object(
            Bucket=bucket, Key="contract/a.txt", Body=b"a", ChecksumAlgorithm="SHA256"
        )
        return [Document({"key": key}) for key in self.keys] or None


class TestDeleteObjectContract(ObjectContract):
    activity = DeleteObject
    keys = ("contract/a.txt", "contract/missing")


class TestExistsContract(ObjectContract):
    activity = Exists
    keys = ("contract/a.txt", "contract/missing")


class TestHeadObjectContract(ObjectContract):
    activity = HeadObject
