"""`s3c policy`: the generated IAM policy, checked for shape and on a moto that enforces IAM.

moto enforces identity policies when `enable_iam_authentication()` is on: it checks each S3
request's signature against the IAM user's access key and the request's action and resource
against the user's policies. It does not evaluate conditions (every condition holds, so a
conditional Allow allows and a conditional Deny denies; the prefix condition on s3:ListBucket
and the SSE-C Deny are checked here for shape only), never consults KMS, cannot
authorize presigned URLs, and checks a CopyObject's destination only. Where it differs from S3
in a way that matters here (DeleteObjects), `moto_compatible` says how.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto.core import disable_iam_authentication, enable_iam_authentication
from support import unique_bucket

from s3_connector.cli.main import S3cGroup
from s3_connector.cli.policy_command import policy
from s3_connector.connector.connection import Connection
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import AccessDenied, ConnectorError, InvalidInput
from s3_connector.connector.harness import Harness
from s3_connector.connector.registry import Registry
from s3_connector.connector.streaming_json import materialize
from s3_connector.sdk.policy import (
    SID_ACCOUNT,
    SID_BUCKETS,
    SID_KMS,
    SID_LIST_UNDER_PREFIX,
    SID_OBJECTS,
    SID_REQUIRE_SSE_C,
    granted_actions,
    policy_document,
    render,
)

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
PREFIX = "data/"


def activity(activity_id: str, *permissions: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "activity", "id": activity_id, "permissions": list(permissions)}


def allow(action: str, resource: str, when: Any = None) -> dict[str, Any]:
    permission = {"action": action, "resource": resource}
    if when is not None:
        permission["when"] = when
    return permission


FAKE = {
    descriptor["id"]: descriptor
    for descriptor in [
        activity("lister", allow("s3:ListBucket", "bucket"), allow("s3:GetObject", "object", "m")),
        activity("reader", allow("s3:GetObject", "object"), allow("s3:GetObjectVersion", "object")),
        activity("writer", allow("s3:PutObject", "object")),
        activity("versions", allow("s3:ListBucketVersions", "bucket")),
        activity("locator", allow("s3:GetBucketLocation", "bucket")),
        activity("account", allow("s3:ListAllMyBuckets", "*")),
        activity("nothing"),
    ]
}


def statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in document["Statement"]}


# --- shape ------------------------------------------------------------------------------------


def test_policy_grants_the_union_of_declared_actions_grouped_by_resource():
    document = policy_document(FAKE, ["lister", "reader", "account"], ["data-in"])
    assert document["Version"] == "2012-10-17"
    assert [s["Sid"] for s in document["Statement"]] == [SID_ACCOUNT, SID_BUCKETS, SID_OBJECTS]
    by_sid = statements(document)
    assert by_sid[SID_ACCOUNT]["Action"] == ["s3:ListAllMyBuckets"]
    assert by_sid[SID_ACCOUNT]["Resource"] == ["*"]
    assert by_sid[SID_BUCKETS]["Action"] == ["s3:ListBucket"]
    assert by_sid[SID_BUCKETS]["Resource"] == ["arn:aws:s3:::data-in"]
    assert by_sid[SID_OBJECTS]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert by_sid[SID_OBJECTS]["Resource"] == ["arn:aws:s3:::data-in/*"]
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in document["Statement"])


def test_only_the_chosen_activities_count():
    document = policy_document(FAKE, ["writer"], ["data-in"])
    assert granted_actions(document) == {"s3:PutObject"}
    assert [s["Sid"] for s in document["Statement"]] == [SID_OBJECTS]


def test_every_activity_and_every_bucket_by_default():
    document = policy_document(FAKE)
    assert granted_actions(document) == {
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListAllMyBuckets",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:PutObject",
    }
    by_sid = statements(document)
    assert by_sid[SID_BUCKETS]["Resource"] == ["arn:aws:s3:::*"]
    assert by_sid[SID_OBJECTS]["Resource"] == ["arn:aws:s3:::*/*"]
    assert policy_document(FAKE, buckets=["*", "data-in"]) == document


def test_output_is_stable_whatever_the_order_of_the_inputs():
    one = policy_document(FAKE, ["reader", "lister", "writer"], ["b-two", "a-one", "b-two"])
    two = policy_document(FAKE, ["writer", "reader", "lister", "reader"], ["a-one", "b-two"])
    assert render(one) == render(two)
    assert statements(one)[SID_OBJECTS]["Resource"] == [
        "arn:aws:s3:::a-one/*",
        "arn:aws:s3:::b-two/*",
    ]
    assert render(one).endswith("}\n") and json.loads(render(one)) == one


def test_prefix_scopes_objects_and_listings():
    document = policy_document(FAKE, ["lister", "versions", "locator"], ["data-in"], "in/2024/")
    assert [s["Sid"] for s in document["Statement"]] == [
        SID_BUCKETS,
        SID_LIST_UNDER_PREFIX,
        SID_OBJECTS,
    ]
    by_sid = statements(document)
    assert by_sid[SID_BUCKETS]["Action"] == ["s3:GetBucketLocation"]
    assert "Condition" not in by_sid[SID_BUCKETS]
    listing = by_sid[SID_LIST_UNDER_PREFIX]
    assert listing["Action"] == ["s3:ListBucket", "s3:ListBucketVersions"]
    assert listing["Resource"] == ["arn:aws:s3:::data-in"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["in/2024/*"]}}
    assert by_sid[SID_OBJECTS]["Resource"] == ["arn:aws:s3:::data-in/in/2024/*"]


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_partition_goes_into_every_arn(partition):
    document = policy_document(FAKE, ["lister"], ["data-in"], partition=partition)
    by_sid = statements(document)
    assert by_sid[SID_BUCKETS]["Resource"] == [f"arn:{partition}:s3:::data-in"]
    assert by_sid[SID_OBJECTS]["Resource"] == [f"arn:{partition}:s3:::data-in/*"]


@pytest.mark.parametrize(
    ("activities", "expected"),
    [
        (["reader"], ["kms:Decrypt"]),
        (["writer"], ["kms:Decrypt", "kms:GenerateDataKey"]),
        (["reader", "writer"], ["kms:Decrypt", "kms:GenerateDataKey"]),
        (["lister"], ["kms:Decrypt"]),
    ],
)
def test_kms_actions_follow_the_object_reads_and_writes(activities, expected):
    document = policy_document(FAKE, activities, ["data-in"], kms_keys=[OTHER_KMS_KEY, KMS_KEY])
    kms = statements(document)[SID_KMS]
    assert kms["Action"] == expected
    assert kms["Resource"] == sorted([KMS_KEY, OTHER_KMS_KEY])
    assert document["Statement"][-1] is kms


def test_no_kms_statement_without_keys_or_without_object_content():
    assert SID_KMS not in statements(policy_document(FAKE, ["reader", "writer"]))
    assert SID_KMS not in statements(policy_document(FAKE, ["versions"], kms_keys=[KMS_KEY]))


def test_require_sse_c_denies_uploads_without_the_sse_c_header():
    document = policy_document(FAKE, ["writer", "reader"], ["data-in"], PREFIX, require_sse_c=True)
    deny = document["Statement"][-1]
    assert deny == {
        "Sid": SID_REQUIRE_SSE_C,
        "Effect": "Deny",
        "Action": ["s3:PutObject"],
        "Resource": ["arn:aws:s3:::data-in/data/*"],
        "Condition": {
            "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "true"},
        },
    }
    assert granted_actions(document) == {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"}


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"activities": ["nope"]}, "activity", "unknown activity 'nope'"),
        ({"activities": ["nothing"]}, "activity", "declare no IAM permissions"),
        ({"buckets": ["Bad_Bucket"]}, "bucket", "valid S3 bucket name"),
        ({"buckets": ["ab"]}, "bucket", "valid S3 bucket name"),
        ({"prefix": "in/*"}, "prefix", "must not contain '*'"),
        ({"prefix": "in/?"}, "prefix", "must not contain '?'"),
        ({"prefix": "${aws:username}/"}, "prefix", "must not contain '${'"),
        ({"prefix": "k" * 1025}, "prefix", "at most 1024"),
        ({"partition": "aws-mars"}, "partition", "must be one of aws, aws-cn, aws-us-gov"),
        ({"kms_keys": ["alias/mine"]}, "kms_key", "must be a KMS key ARN"),
        (
            {"kms_keys": ["arn:aws:kms:us-east-1:123456789012:alias/mine"]},
            "kms_key",
            "must be a KMS key ARN",
        ),
        ({"kms_keys": [KMS_KEY], "partition": "aws-cn"}, "kms_key", "not aws-cn"),
        ({"activities": ["reader"], "require_sse_c": True}, "require_sse_c", "s3:PutObject"),
    ],
)
def test_bad_input_is_refused_naming_the_field(arguments, field, rule):
    arguments = {"activities": ["reader"], **arguments}
    activities = arguments.pop("activities")
    with pytest.raises(InvalidInput, match=re.escape(rule)) as caught:
        policy_document(FAKE, activities, **arguments)
    assert caught.value.field == field


# --- the command ------------------------------------------------------------------------------


def s3c(*args: str):
    """`s3c policy ARGS...` through the real top-level group's error handling."""
    group = S3cGroup(name="s3c", commands=[policy])
    return CliRunner().invoke(group, ["policy", *args])


def test_command_prints_exactly_what_put_object_and_get_object_declare():
    result = s3c("--activity", "put_object", "--activity", "get_object", "--bucket", "data-in")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    catalog = Registry.installed()
    declared = {
        permission["action"]
        for activity_id in ("put_object", "get_object")
        for permission in catalog.descriptor(activity_id)["permissions"]
    }
    assert declared >= {"s3:PutObject", "s3:GetObject"}
    assert granted_actions(document) == declared
    [statement] = document["Statement"]
    assert statement["Resource"] == ["arn:aws:s3:::data-in/*"]
    assert statement["Action"] == sorted(declared)
    assert result.output == render(
        policy_document(catalog.activities, ["put_object", "get_object"], ["data-in"])
    )


def test_command_passes_every_option_on():
    result = s3c(
        "--activity",
        "put_object",
        "--bucket",
        "data-in",
        "--prefix",
        PREFIX,
        "--partition",
        "aws-us-gov",
        "--kms-key",
        KMS_KEY.replace("arn:aws:", "arn:aws-us-gov:"),
        "--require-sse-c",
    )
    assert result.exit_code == 0, result.output
    by_sid = statements(json.loads(result.output))
    assert by_sid[SID_OBJECTS]["Resource"] == ["arn:aws-us-gov:s3:::data-in/data/*"]
    assert by_sid[SID_KMS]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert by_sid[SID_REQUIRE_SSE_C]["Effect"] == "Deny"


def test_command_without_options_covers_every_activity_on_every_bucket():
    result = s3c()
    assert result.exit_code == 0, result.output
    catalog = Registry.installed()
    declared = {
        permission["action"]
        for descriptor in catalog.activities.values()
        for permission in descriptor["permissions"]
    }
    assert granted_actions(json.loads(result.output)) == declared


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--activity", "copy_everything"], "activity"),
        (["--bucket", "Not_A_Bucket"], "bucket"),
        (["--prefix", "a*"], "prefix"),
        (["--partition", "mars"], "partition"),
        (["--kms-key", "not-an-arn"], "kms_key"),
    ],
)
def test_command_bad_input_exits_2_with_one_line_naming_the_field(args, field):
    result = s3c(*args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}: ")


# --- on moto, with IAM enforced ---------------------------------------------------------------


def moto_compatible(document: dict[str, Any], buckets: list[str]) -> dict[str, Any]:
    """The policy, plus what moto needs where it checks differently from S3: moto authorizes a
    DeleteObjects request as s3:DeleteObject on the bucket ARN, where S3 checks s3:DeleteObject
    on each object. So s3:DeleteObject, when granted, is also granted on the bucket ARNs."""
    if "s3:DeleteObject" not in granted_actions(document):
        return document
    extra = {
        "Sid": "MotoDeleteObjects",
        "Effect": "Allow",
        "Action": ["s3:DeleteObject"],
        "Resource": [f"arn:aws:s3:::{bucket}" for bucket in buckets],
    }
    return {**document, "Statement": [*document["Statement"], extra]}


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    """The policy with one action removed (and statements left empty dropped)."""
    kept = []
    for statement in document["Statement"]:
        actions = [a for a in statement["Action"] if a != action]
        if actions:
            kept.append({**statement, "Action": actions})
    return {**document, "Statement": kept}


class World:
    """A versioned bucket and another bucket made by an admin, and an IAM user whose policy
    the test sets. Scenarios use a fresh folder under `data/` each time they run."""

    def __init__(self):
        self.bucket = unique_bucket("pol")
        self.other_bucket = unique_bucket("pol-other")
        self.admin = boto3.client("s3", region_name="us-east-1")
        for name in (self.bucket, self.other_bucket):
            self.admin.create_bucket(Bucket=name)
        self.admin.put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        self.iam = boto3.client("iam", region_name="us-east-1")
        self.iam.create_user(UserName="connector")
        key = self.iam.create_access_key(UserName="connector")["AccessKey"]
        self.harness = Harness(
            Connection(
                {
                    "auth": "access_keys",
                    "access_key_id": key["AccessKeyId"],
                    "secret_access_key": key["SecretAccessKey"],
                    "region": "us-east-1",
                    "data_plane": "boto3",
                }
            )
        )
        """One connection for the test (clients are costly to make). What it learns does not
        depend on the policy: moto never lets the user detect the bucket's region (HeadBucket
        and GetBucketLocation are refused), so it is always the connection's, us-east-1."""
        self._folders = itertools.count()

    def folder(self, name: str) -> str:
        return f"{PREFIX}{name}-{next(self._folders)}/"

    def grant(self, document: dict[str, Any]) -> None:
        document = moto_compatible(document, [self.bucket, self.other_bucket])
        with disable_iam_authentication():
            self.iam.put_user_policy(
                UserName="connector", PolicyName="s3c", PolicyDocument=json.dumps(document)
            )

    def put(self, key: str, body: bytes = b"payload") -> str | None:
        """Store an object as the admin; return its version id."""
        with disable_iam_authentication():
            return self.admin.put_object(Bucket=self.bucket, Key=key, Body=body).get("VersionId")

    def keys(self, prefix: str) -> list[str]:
        with disable_iam_authentication():
            listing = self.admin.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for item in listing.get("Contents", [])]

    def run(self, activity_id: str, config: dict[str, Any], *documents: Document) -> list:
        """Run the activity as the IAM user; return the materialized response properties,
        with each response's content (if any) under `_content`."""
        fields = {field["name"] for field in SHIPPED[activity_id]["fields"]}
        if "bucket" in fields:
            config = {"bucket": self.bucket, **config}
        with enable_iam_authentication():
            responses = self.harness.run(activity_id, config, list(documents) or None)
            return [
                {**materialize(response.properties), "_content": read_content(response)}
                for response in responses
            ]


def read_content(document: Document) -> bytes | None:
    if not document.has_content:
        return None
    with document.open() as stream:
        return stream.read()


@pytest.fixture
def world(moto):
    return World()


class Refused(AccessDenied):
    """An activity reported a refusal in its response instead of raising."""


def put_object(world):
    key = world.folder("put") + "put.txt"
    [response] = world.run("put_object", {"key": key}, Document({}, b"put"))
    assert response["key"] == key and world.keys(key) == [key]


def write(world):
    key = world.folder("write") + "write.json"
    [response] = world.run("write", {"key": key, "data": {"a": 1}})
    assert response["size"] > 0 and world.keys(key) == [key]


def create(world):
    folder = world.folder("create")
    [response] = world.run("create", {"key": folder})
    assert response["folder_marker"] is True and world.keys(folder) == [folder]


def get_object(world):
    key = world.folder("get") + "get.txt"
    world.put(key, b"get me")
    [response] = world.run("get_object", {"key": key})
    assert response["_content"] == b"get me"


def get_object_version(world):
    key = world.folder("get-version") + "get.txt"
    version = world.put(key, b"first")
    world.put(key, b"second")
    [response] = world.run("get_object", {"key": key, "version_id": version})
    assert response["_content"] == b"first" and response["version_id"] == version


def read(world):
    key = world.folder("read") + "read.txt"
    world.put(key, b"read me")
    [response] = world.run("read", {"key": key})
    assert (response["content"], response["content_format"]) == ("cmVhZCBtZQ==", "base64")


def head_object(world):
    key = world.folder("head") + "head.txt"
    world.put(key, b"12345")
    [response] = world.run("head_object", {"key": key})
    assert response["size"] == 5


def exists(world):
    key = world.folder("exists") + "exists.txt"
    world.put(key)
    [response] = world.run("exists", {"key": key})
    if response["state"] == "forbidden":
        raise Refused("exists answered forbidden")
    assert response["state"] == "found"


def list_objects(world):
    folder = world.folder("list")
    world.put(folder + "one.txt")
    [response] = world.run("list_objects", {"prefix": folder})
    assert [item["key"] for item in response["objects"]] == [folder + "one.txt"]


def list_objects_with_metadata(world):
    folder = world.folder("list-metadata")
    world.put(folder + "one.txt")
    [response] = world.run("list_objects", {"prefix": folder, "include_metadata": True})
    [item] = response["objects"]
    if "AccessDenied" in item.get("metadata_error", ""):
        raise Refused(item["metadata_error"])
    assert item["key"] == folder + "one.txt" and "content_type" in item


def list_prefixes(world):
    folder = world.folder("prefixes")
    world.put(folder + "a/one.txt")
    [response] = world.run("list_prefixes", {"prefix": folder})
    assert response["prefixes"] == [folder + "a/"]


def list_buckets(world):
    [response] = world.run("list_buckets", {})
    assert world.bucket in [bucket["name"] for bucket in response["buckets"]]


def delete_object(world):
    key = world.folder("delete") + "delete.txt"
    world.put(key)
    [response] = world.run("delete_object", {"key": key})
    assert response["deleted"] is True and world.keys(key) == []


def delete_object_version(world):
    key = world.folder("delete-version") + "delete.txt"
    version = world.put(key)
    [response] = world.run("delete_object", {"key": key, "version_id": version})
    assert response["deleted"] is True and world.keys(key) == []


def purge(world):
    folder = world.folder("purge")
    for name in ("a", "b"):
        world.put(folder + name)
    [response] = world.run("purge", {"prefix": folder, "dry_run": False})
    assert response["deleted"] == 2 and world.keys(folder) == []


def presign(world):
    """Presigning sends no request, and moto cannot authorize a presigned URL (it expects an
    Authorization header), so this only shows the policy does not stop the activity."""
    key = world.folder("presign") + "presign.txt"
    world.put(key)
    for method in ("GET", "PUT"):
        [response] = world.run("presign", {"key": key, "method": method})
        assert response["url"].startswith("https://")


def copy_object(world):
    folder = world.folder("copy")
    world.put(folder + "source.txt", b"copied")
    config = {"key": folder + "source.txt", "destination_key": folder + "target.txt"}
    [response] = world.run("copy_object", config)
    assert response["key"] == folder + "target.txt"
    assert world.keys(folder) == [folder + "source.txt", folder + "target.txt"]


def move_object(world):
    folder = world.folder("move")
    world.put(folder + "source.txt", b"moved")
    config = {"key": folder + "source.txt", "destination_key": folder + "target.txt"}
    [response] = world.run("move_object", config)
    assert response["key"] == folder + "target.txt"
    assert world.keys(folder) == [folder + "target.txt"]


def move_object_version(world):
    folder = world.folder("move-version")
    version = world.put(folder + "source.txt", b"moved")
    config = {
        "key": folder + "source.txt",
        "version_id": version,
        "destination_key": folder + "target.txt",
    }
    world.run("move_object", config)
    assert world.keys(folder) == [folder + "target.txt"]


@dataclass(frozen=True)
class Scenario:
    activity: str
    check: Callable[[World], None]

    def __str__(self) -> str:
        return self.check.__name__


SCENARIOS = [
    Scenario("put_object", put_object),
    Scenario("write", write),
    Scenario("create", create),
    Scenario("get_object", get_object),
    Scenario("get_object", get_object_version),
    Scenario("read", read),
    Scenario("head_object", head_object),
    Scenario("exists", exists),
    Scenario("list_objects", list_objects),
    Scenario("list_objects", list_objects_with_metadata),
    Scenario("list_prefixes", list_prefixes),
    Scenario("list_buckets", list_buckets),
    Scenario("delete_object", delete_object),
    Scenario("delete_object", delete_object_version),
    Scenario("purge", purge),
    Scenario("presign", presign),
    Scenario("copy_object", copy_object),
    Scenario("move_object", move_object),
    Scenario("move_object", move_object_version),
]
SHIPPED = Registry.shipped().activities
COVERED = sorted({scenario.activity for scenario in SCENARIOS} & set(SHIPPED))
FULL_POLICY = policy_document(SHIPPED, COVERED)
NOT_EXERCISED_ON_MOTO = {
    "s3:AbortMultipartUpload": "sent only to clean up after a failed multipart upload or copy",
    "s3:GetObjectAttributes": "sent to learn a multipart object's part sizes, which moto does "
    "not return (ObjectParts); without them a composite checksum or multipart ETag cannot be "
    "checked (test_seaweedfs_verified_reads reads such objects verified part by part)",
    "s3:GetObjectVersionAttributes": "the same, for a version named by version_id",
}


def outcomes(world: World) -> dict[str, str]:
    """Run every scenario; return how each one ended: ok, denied, or the unexpected error."""
    ended = {}
    for scenario in SCENARIOS:
        try:
            scenario.check(world)
        except AccessDenied:
            ended[str(scenario)] = "denied"
        except (ConnectorError, AssertionError) as exc:
            ended[str(scenario)] = repr(exc)
        else:
            ended[str(scenario)] = "ok"
    return ended


def test_each_activitys_own_policy_lets_it_run(world):
    """The policy for one activity alone, scoped to the bucket and a prefix, is enough for
    each of that activity's scenarios."""
    ended = {}
    for scenario in SCENARIOS:
        world.grant(policy_document(SHIPPED, [scenario.activity], [world.bucket], PREFIX))
        try:
            scenario.check(world)
        except (ConnectorError, AssertionError) as exc:
            ended[str(scenario)] = repr(exc)
    assert ended == {}


def test_without_a_grant_on_the_bucket_every_scenario_is_refused(world):
    """The scenarios do need the grant: with the policy for another bucket, each one that
    sends a request about the bucket is refused."""
    world.grant(policy_document(SHIPPED, COVERED, [world.other_bucket]))
    ended = outcomes(world)
    sends_no_bucket_request = {"list_buckets", "presign"}
    assert ended == {name: "ok" if name in sends_no_bucket_request else "denied" for name in ended}


def test_objects_outside_the_prefix_or_the_buckets_are_refused(world):
    world.grant(policy_document(SHIPPED, COVERED, [world.bucket], PREFIX))
    world.put("elsewhere.txt")
    with pytest.raises(AccessDenied):
        world.run("get_object", {"key": "elsewhere.txt"})
    with pytest.raises(AccessDenied):
        world.run("put_object", {"key": "elsewhere.txt"}, Document({}, b"x"))
    with pytest.raises(AccessDenied):
        world.run("list_objects", {"bucket": world.other_bucket})
    get_object(world)


def test_the_policy_lets_every_scenario_run_and_each_action_is_needed(world):
    world.grant(FULL_POLICY)
    assert set(outcomes(world).values()) == {"ok"}
    needed_by = {}
    for action in sorted(granted_actions(FULL_POLICY) - set(NOT_EXERCISED_ON_MOTO)):
        world.grant(without(FULL_POLICY, action))
        ended = outcomes(world)
        assert set(ended.values()) <= {"ok", "denied"}, (action, ended)
        needed_by[action] = sorted(name for name, outcome in ended.items() if outcome != "ok")
    assert all(needed_by.values()), needed_by
    assert needed_by["s3:GetObjectVersion"] == ["get_object_version"]
    assert needed_by["s3:DeleteObjectVersion"] == ["delete_object_version", "move_object_version"]
    assert needed_by["s3:ListAllMyBuckets"] == ["list_buckets"]


@pytest.mark.parametrize("activity_id", ["get_object", "read"])
def test_reading_content_may_ask_for_part_sizes(activity_id):
    """A reader verifies a multipart object part by part, with the sizes GetObjectAttributes
    tells (of the version read, when version_id names one)."""
    granted = granted_actions(policy_document(SHIPPED, [activity_id], ["data-in"]))
    assert {"s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"} <= granted


def test_actions_not_exercised_on_moto_are_declared_ones():
    assert set(NOT_EXERCISED_ON_MOTO) <= granted_actions(FULL_POLICY)
