"""Delete Object, Exists and Head Object against a real S3 server (SeaweedFS): SSE-C objects,
versions, and a 403 from an identity without rights on the bucket."""

import base64
import json

import pytest
from support import new_sse_c_key, one_checked

from s3_connector.connector.connection import Connection
from s3_connector.connector.errors import InvalidInput, NotFound
from s3_connector.connector.harness import Harness
from s3_connector.sdk.local_server import LocalS3Server


@pytest.fixture
def harness(seaweed_connection):
    return Harness(seaweed_connection)


def test_exists_head_and_delete_a_real_object(harness, seaweed_client, seaweed_bucket):
    seaweed_client.put_object(
        Bucket=seaweed_bucket,
        Key="docs/a.json",
        Body=b'{"a": 1}',
        ContentType="application/json",
        CacheControl="no-cache",
        Metadata={"owner": "ops"},
        ChecksumAlgorithm="SHA256",
    )
    config = {"bucket": seaweed_bucket, "key": "docs/a.json"}
    found = one_checked(harness, "exists", config)
    assert (found["state"], found["exists"], found["region"]) == ("found", True, "us-east-1")

    head = one_checked(harness, "head_object", config)
    raw = seaweed_client.head_object(Bucket=seaweed_bucket, Key="docs/a.json")
    assert head["size"] == 8 and head["content_type"] == "application/json"
    assert head["etag"] == raw["ETag"].strip('"')
    assert head["metadata"] == {"owner": "ops"} and head["cache_control"] == "no-cache"
    assert head["checksum"]["algorithm"] == "SHA256" and head["sse_c"] is False

    deleted = one_checked(harness, "delete_object", config)
    assert (deleted["status"], deleted["found"], deleted["deleted"]) == ("deleted", True, True)
    assert "Contents" not in seaweed_client.list_objects_v2(Bucket=seaweed_bucket)
    again = one_checked(harness, "delete_object", config)
    assert (again["status"], again["found"], again["deleted"]) == ("not_found", False, False)
    gone = one_checked(harness, "exists", config)
    assert (gone["state"], gone["reason"]) == ("not_found", "no_such_key")
    with pytest.raises(NotFound):
        one_checked(harness, "head_object", config)


def test_a_missing_bucket(harness):
    config = {"bucket": "sw-no-such-bucket-anywhere", "key": "k"}
    assert one_checked(harness, "exists", config)["reason"] == "no_such_bucket"
    with pytest.raises(NotFound, match="bucket does not exist"):
        one_checked(harness, "delete_object", config)


def test_sse_c_object(harness, seaweed_client, seaweed_bucket):
    key = new_sse_c_key()
    seaweed_client.put_object(
        Bucket=seaweed_bucket,
        Key="secret.bin",
        Body=b"0123456789",
        SSECustomerAlgorithm="AES256",
        SSECustomerKey=base64.b64decode(key),
    )
    config = {"bucket": seaweed_bucket, "key": "secret.bin"}
    head = one_checked(harness, "head_object", {**config, "sse_c_key": key})
    assert head["size"] == 10 and head["sse_c"] is True
    assert key not in json.dumps(head)

    assert one_checked(harness, "exists", config)["state"] == "found"
    assert one_checked(harness, "exists", {**config, "sse_c_key": key})["state"] == "found"
    with pytest.raises(InvalidInput, match="needs its key") as missing:
        one_checked(harness, "head_object", config)
    assert missing.value.field == "sse_c_key"

    deleted = one_checked(harness, "delete_object", config)
    assert (deleted["found"], deleted["status"]) == (True, "deleted")
    assert one_checked(harness, "exists", config)["state"] == "not_found"


def test_versions(harness, seaweed_client, seaweed_bucket):
    seaweed_client.put_bucket_versioning(
        Bucket=seaweed_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    old = seaweed_client.put_object(Bucket=seaweed_bucket, Key="k", Body=b"old!")["VersionId"]
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="k", Body=b"new")
    config = {"bucket": seaweed_bucket, "key": "k"}
    assert one_checked(harness, "head_object", {**config, "version_id": old})["size"] == 4

    deleted = one_checked(harness, "delete_object", {**config, "version_id": old})
    assert (deleted["version_id"], deleted["delete_marker"]) == (old, False)
    gone = one_checked(harness, "exists", {**config, "version_id": old})
    assert (gone["state"], gone["reason"]) == ("not_found", "no_such_version")

    hidden = one_checked(harness, "delete_object", config)
    assert hidden["delete_marker"] is True and hidden["version_id"]
    # SeaweedFS answers a plain 404 (no x-amz-delete-marker header) for a key whose latest
    # version is a delete marker, and 404 rather than 405 for the marker's version id.
    assert one_checked(harness, "exists", config)["state"] == "not_found"
    marker = {**config, "version_id": hidden["version_id"]}
    assert one_checked(harness, "exists", marker)["state"] == "not_found"

    # Deleting the marker's version restores the object: the DeleteObject is sent for a
    # version id even after a 404, and S3 says it removed a delete marker.
    restored = one_checked(harness, "delete_object", marker)
    assert (restored["status"], restored["found"], restored["delete_marker"]) == (
        "deleted",
        True,
        True,
    )
    assert one_checked(harness, "head_object", config)["size"] == 3


RESTRICTED = ("RESTRICTEDKEY", "RESTRICTEDSECRET")


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A second server with an admin and an identity that may only read `other-bucket`."""
    directory = tmp_path_factory.mktemp("seaweedfs-identities")
    config = directory / "s3-config.json"
    identities = [
        {
            "name": "admin",
            "credentials": [{"accessKey": "GUARDADMIN", "secretKey": "GUARDADMINSECRET"}],
            "actions": ["Admin", "Read", "List", "Write", "Tagging"],
        },
        {
            "name": "restricted",
            "credentials": [{"accessKey": RESTRICTED[0], "secretKey": RESTRICTED[1]}],
            "actions": ["Read:other-bucket", "List:other-bucket"],
        },
    ]
    config.write_text(json.dumps({"identities": identities}))
    server = LocalS3Server(directory / "data", s3_config=config, stop_timeout=0)
    server.start()
    yield server
    server.stop()


def test_exists_says_forbidden_not_not_found_without_rights(guarded):
    admin = guarded.client()
    admin.create_bucket(Bucket="guarded-bucket")
    admin.put_object(Bucket="guarded-bucket", Key="present", Body=b"1")
    settings = {
        **guarded.connection_settings(),
        "access_key_id": RESTRICTED[0],
        "secret_access_key": RESTRICTED[1],
    }
    harness = Harness(Connection(settings))
    admin_harness = Harness(Connection(guarded.connection_settings()))
    for key in ("present", "absent"):
        config = {"bucket": "guarded-bucket", "key": key}
        response = one_checked(harness, "exists", config)
        assert (response["state"], response["exists"], response["reason"]) == (
            "forbidden",
            False,
            "access_denied",
        )
        expected = "found" if key == "present" else "not_found"
        assert one_checked(admin_harness, "exists", config)["state"] == expected
