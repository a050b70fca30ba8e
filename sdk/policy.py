"""Least-privilege IAM policies generated from the permissions the descriptors declare.

The policy grants the union of the IAM actions that the chosen activities declare, and nothing
else, on the chosen buckets and key prefix:

- actions on `resource: "*"` (s3:ListAllMyBuckets) go to one statement on `"*"`;
- actions on `resource: "bucket"` go to one statement on the bucket ARNs; with a prefix,
  s3:ListBucket and s3:ListBucketVersions go to their own statement that only allows listings
  under the prefix (the `s3:prefix` condition key);
- actions on `resource: "object"` go to one statement on the object ARNs under the prefix.

Conditional permissions (`when`) are included: a dynamic field can set them per document, so
the configuration alone cannot tell they are never needed.

KMS keys: objects encrypted with SSE-KMS need KMS permissions as well as S3 ones, on the key.
Given key ARNs, the policy adds a statement on those keys only, derived from the S3 actions:
reading object content (s3:GetObject, s3:GetObjectVersion) needs kms:Decrypt; writing
(s3:PutObject, which also covers multipart uploads and the destination of a copy) needs
kms:GenerateDataKey, and kms:Decrypt too because S3 decrypts the data key to complete a
multipart upload.

SSE-C needs no IAM action (the key travels with each request). `require_sse_c` adds a Deny
statement that refuses s3:PutObject (uploads, parts, completions, copy destinations) when the
request does not carry the SSE-C algorithm header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.fields import BUCKET_NAME_PATTERN, BUCKET_NAME_RULE

VERSION = "2012-10-17"
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
ALL_BUCKETS = "*"

PREFIX_CONDITIONED = ("s3:ListBucket", "s3:ListBucketVersions")
"""Bucket actions that the `s3:prefix` condition key applies to."""
PREFIX_CONDITION_KEY = "s3:prefix"
KMS_FOR_S3 = {
    "s3:GetObject": ("kms:Decrypt",),
    "s3:GetObjectVersion": ("kms:Decrypt",),
    "s3:PutObject": ("kms:Decrypt", "kms:GenerateDataKey"),
}
"""The KMS actions that an S3 action needs on the key of an SSE-KMS object."""
SSE_C_CONDITION_KEY = "s3:x-amz-server-side-encryption-customer-algorithm"

SID_ACCOUNT = "AccountLevel"
SID_BUCKETS = "Buckets"
SID_LIST_UNDER_PREFIX = "ListUnderPrefix"
SID_OBJECTS = "Objects"
SID_KMS = "KmsKeys"
SID_REQUIRE_SSE_C = "DenyUploadsWithoutSseC"

_BUCKET_NAME = re.compile(BUCKET_NAME_PATTERN)
_KMS_KEY_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}$"
)
_IAM_WILDCARDS = ("*", "?", "${")
MAX_PREFIX = 1024


def chosen_activities(
    descriptors: Mapping[str, dict[str, Any]], activity_ids: Iterable[str] = ()
) -> list[str]:
    """The activity ids, checked against `descriptors` (activity descriptors by id); every
    activity when none is given."""
    ids = list(dict.fromkeys(activity_ids))
    for activity_id in ids:
        if activity_id not in descriptors:
            known = ", ".join(sorted(descriptors))
            raise InvalidInput(
                f"unknown activity '{activity_id}' (known: {known})", field="activity"
            )
    return ids or sorted(descriptors)


def declared_permissions(
    descriptors: Mapping[str, dict[str, Any]], activity_ids: Iterable[str]
) -> list[dict[str, Any]]:
    """Every permission the activities declare, with the id of the activity that declares it."""
    return [
        {**permission, "activity": activity_id}
        for activity_id in activity_ids
        for permission in descriptors[activity_id].get("permissions", [])
    ]


def _buckets(buckets: Iterable[str]) -> list[str]:
    names = sorted(set(buckets))
    for name in names:
        if name != ALL_BUCKETS and not _BUCKET_NAME.fullmatch(name):
            raise InvalidInput(f"'{name}' {BUCKET_NAME_RULE}", field="bucket")
    if not names or ALL_BUCKETS in names:
        return [ALL_BUCKETS]
    return names


def _prefix(prefix: str | None) -> str:
    prefix = prefix or ""
    if len(prefix) > MAX_PREFIX:
        raise InvalidInput(f"must be at most {MAX_PREFIX} characters", field="prefix")
    for wildcard in _IAM_WILDCARDS:
        if wildcard in prefix:
            raise InvalidInput(
                f"must not contain '{wildcard}': in an IAM policy it is a wildcard or variable, "
                "which would grant more than the prefix",
                field="prefix",
            )
    return prefix


def _partition(partition: str) -> str:
    if partition not in PARTITIONS:
        raise InvalidInput(f"must be one of {', '.join(PARTITIONS)}", field="partition")
    return partition


def _kms_keys(kms_keys: Iterable[str], partition: str) -> list[str]:
    keys = sorted(set(kms_keys))
    for arn in keys:
        match = _KMS_KEY_ARN.fullmatch(arn)
        if not match:
            raise InvalidInput(
                f"'{arn}' must be a KMS key ARN such as "
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab "
                "(an alias ARN does not scope key permissions)",
                field="kms_key",
            )
        if match["partition"] != partition:
            raise InvalidInput(
                f"'{arn}' is in partition {match['partition']}, not {partition}", field="kms_key"
            )
    return keys


def bucket_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def object_arn(partition: str, bucket: str, prefix: str) -> str:
    return f"arn:{partition}:s3:::{bucket}/{prefix}*"


def _statement(
    sid: str,
    actions: Iterable[str],
    resources: Sequence[str],
    *,
    effect: str = "Allow",
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        "Action": sorted(set(actions)),
        "Resource": list(resources),
    }
    if condition:
        statement["Condition"] = condition
    return statement


def policy_document(
    descriptors: Mapping[str, dict[str, Any]],
    activities: Iterable[str] = (),
    buckets: Iterable[str] = (),
    prefix: str | None = None,
    *,
    partition: str = "aws",
    kms_keys: Iterable[str] = (),
    require_sse_c: bool = False,
) -> dict[str, Any]:
    """The IAM policy document that lets the activities run on the buckets and prefix.

    descriptors: activity descriptors by id (`Registry.activities`); activities: ids among
    them (every activity when empty); buckets: bucket names (every
    bucket when empty, or with `*`); prefix: a key prefix that object ARNs and listings are
    restricted to; kms_keys: ARNs of the KMS keys of SSE-KMS objects; require_sse_c: deny
    uploads that do not use SSE-C. Raises InvalidInput naming the field on bad input."""
    ids = chosen_activities(descriptors, activities)
    partition = _partition(partition)
    names = _buckets(buckets)
    prefix = _prefix(prefix)
    keys = _kms_keys(kms_keys, partition)

    by_resource: dict[str, set[str]] = {"*": set(), "bucket": set(), "object": set()}
    for permission in declared_permissions(descriptors, ids):
        by_resource[permission["resource"]].add(permission["action"])
    if not any(by_resource.values()):
        raise InvalidInput(
            f"{', '.join(ids)} declare no IAM permissions, so there is no policy to write",
            field="activity",
        )

    bucket_arns = [bucket_arn(partition, name) for name in names]
    object_arns = [object_arn(partition, name, prefix) for name in names]
    statements = []
    if by_resource["*"]:
        statements.append(_statement(SID_ACCOUNT, by_resource["*"], ["*"]))
    listed = by_resource["bucket"] & set(PREFIX_CONDITIONED) if prefix else set()
    if by_resource["bucket"] - listed:
        statements.append(_statement(SID_BUCKETS, by_resource["bucket"] - listed, bucket_arns))
    if listed:
        condition = {"StringLike": {PREFIX_CONDITION_KEY: [f"{prefix}*"]}}
        statements.append(
            _statement(SID_LIST_UNDER_PREFIX, listed, bucket_arns, condition=condition)
        )
    if by_resource["object"]:
        statements.append(_statement(SID_OBJECTS, by_resource["object"], object_arns))
    s3_actions = set().union(*by_resource.values())
    kms_actions = {kms for action in s3_actions for kms in KMS_FOR_S3.get(action, ())}
    if keys and kms_actions:
        statements.append(_statement(SID_KMS, kms_actions, keys))
    if require_sse_c:
        if "s3:PutObject" not in by_resource["object"]:
            raise InvalidInput(
                f"none of {', '.join(ids)} writes objects (s3:PutObject), so there are no "
                "uploads to require SSE-C on",
                field="require_sse_c",
            )
        condition = {"Null": {SSE_C_CONDITION_KEY: "true"}}
        statements.append(
            _statement(
                SID_REQUIRE_SSE_C, ["s3:PutObject"], object_arns, effect="Deny", condition=condition
            )
        )
    return {"Version": VERSION, "Statement": statements}


def granted_actions(policy: dict[str, Any]) -> set[str]:
    """The actions the Allow statements of a policy grant."""
    found: set[str] = set()
    for statement in policy["Statement"]:
        if statement["Effect"] == "Allow":
            actions = statement["Action"]
            found.update([actions] if isinstance(actions, str) else actions)
    return found


def render(policy: dict[str, Any]) -> str:
    """The policy as pretty-printed JSON, with a final newline."""
    return json.dumps(policy, indent=2) + "\n"
