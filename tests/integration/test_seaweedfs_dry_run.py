"""dry_run on Delete Object and Move Object against SeaweedFS: nothing is deleted, copied or
moved, and the response (checked against the descriptor) says what would be done."""

import pytest
from botocore.exceptions import ClientError
from support import run_checked

from s3_connector.connector.errors import InvalidInput, PreconditionFailed
from s3_connector.connector.harness import Harness


@pytest.fixture
def harness(seaweed_connection):
    return Harness(seaweed_connection)


def exists(client, bucket, key):
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        return False
    return True


def test_delete_dry_run_deletes_nothing(harness, seaweed_client, seaweed_bucket):
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="keep/a.txt", Body=b"a")
    config = {"bucket": seaweed_bucket, "key": "keep/a.txt", "dry_run": True}
    [response] = run_checked(harness, "delete_object", config)
    assert (response["status"], response["found"], response["deleted"]) == (
        "would_delete",
        True,
        False,
    )
    assert response["dry_run"] is True
    assert exists(seaweed_client, seaweed_bucket, "keep/a.txt")
    [missing] = run_checked(harness, "delete_object", {**config, "key": "keep/none.txt"})
    assert (missing["status"], missing["found"], missing["dry_run"]) == ("not_found", False, True)
    [done] = run_checked(harness, "delete_object", {**config, "dry_run": False})
    assert (done["status"], done["deleted"], done["dry_run"]) == ("deleted", True, False)
    assert not exists(seaweed_client, seaweed_bucket, "keep/a.txt")


def test_move_dry_run_moves_nothing(harness, seaweed_client, seaweed_bucket):
    seaweed_client.put_object(
        Bucket=seaweed_bucket, Key="from/a.txt", Body=b"hello", ContentType="text/plain"
    )
    config = {
        "bucket": seaweed_bucket,
        "key": "from/a.txt",
        "destination_key": "to/a.txt",
        "dry_run": True,
    }
    [plan] = run_checked(harness, "move_object", config)
    assert plan["dry_run"] is True and "steps" not in plan
    assert (plan["key"], plan["size"], plan["content_type"]) == ("to/a.txt", 5, "text/plain")
    assert plan["destination_exists"] is False and plan["multipart"] is False
    assert plan["source"]["key"] == "from/a.txt"
    assert exists(seaweed_client, seaweed_bucket, "from/a.txt")
    assert not exists(seaweed_client, seaweed_bucket, "to/a.txt")

    seaweed_client.put_object(Bucket=seaweed_bucket, Key="to/a.txt", Body=b"there")
    [replace] = run_checked(harness, "move_object", config)
    assert replace["destination_exists"] is True
    with pytest.raises(PreconditionFailed, match="overwrite is false") as refused:
        run_checked(harness, "move_object", {**config, "overwrite": False})
    assert refused.value.field == "destination_key"
    with pytest.raises(InvalidInput):  # a move onto itself is refused in a dry run too
        run_checked(harness, "move_object", {**config, "destination_key": "from/a.txt"})
    assert seaweed_client.get_object(Bucket=seaweed_bucket, Key="to/a.txt")["Body"].read() == (
        b"there"
    )
    [moved] = run_checked(harness, "move_object", {**config, "dry_run": False})
    assert moved["dry_run"] is False and moved["steps"]["delete"] is not None
    assert not exists(seaweed_client, seaweed_bucket, "from/a.txt")
