"""`s3c policy`: the least-privilege IAM policy for chosen activities, buckets and prefix."""

from __future__ import annotations

import click

from s3_connector.connector.registry import Registry
from s3_connector.sdk.policy import PARTITIONS, policy_document, render

from .completion import activity_ids


@click.command()
@click.option(
    "--activity",
    "activities",
    multiple=True,
    metavar="ID",
    shell_complete=activity_ids,
    help="An activity the policy lets run (repeatable); every activity when omitted.",
)
@click.option(
    "--bucket",
    "buckets",
    multiple=True,
    metavar="NAME",
    help="A bucket the policy applies to (repeatable); every bucket when omitted.",
)
@click.option(
    "--prefix",
    default="",
    metavar="P",
    help="Restrict objects and listings to keys that start with P.",
)
@click.option(
    "--partition",
    default="aws",
    show_default=True,
    metavar="|".join(PARTITIONS),
    help="AWS partition of the ARNs.",
)
@click.option(
    "--kms-key",
    "kms_keys",
    multiple=True,
    metavar="ARN",
    help="KMS key of SSE-KMS objects (repeatable): adds kms:Decrypt and kms:GenerateDataKey "
    "on the key, as the activities' reads and writes need.",
)
@click.option(
    "--require-sse-c",
    is_flag=True,
    help="Also deny uploads (s3:PutObject) that do not use SSE-C.",
)
def policy(
    activities: tuple[str, ...],
    buckets: tuple[str, ...],
    prefix: str,
    partition: str,
    kms_keys: tuple[str, ...],
    require_sse_c: bool,
) -> None:
    """Print the IAM policy document that grants exactly the actions the chosen activities
    declare in their descriptors, on the chosen buckets and prefix."""
    document = policy_document(
        Registry.installed().activities,
        activities,
        buckets,
        prefix,
        partition=partition,
        kms_keys=kms_keys,
        require_sse_c=require_sse_c,
    )
    click.echo(render(document), nl=False)
