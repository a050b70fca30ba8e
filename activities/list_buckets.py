"""List Buckets: the buckets the credentials own, optionally those whose name has a prefix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from marshmallow import fields

from s3_connector.connector.activity import ResponseSchema, TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import translate
from s3_connector.connector.fields import FullMatch, describe
from s3_connector.connector.settings import SettingsSchema

from .common import timestamp
from .listing import max_results_field

MAX_RESULTS = 10_000
PAGE_SIZE = 10_000
"""The most buckets S3 returns in one ListBuckets page (MaxBuckets)."""


class ListBucketsSettings(SettingsSchema):
    prefix = fields.String(
        validate=FullMatch(
            r"^[A-Za-z0-9._-]{0,63}$",
            error="must be the start of a bucket name: at most 63 letters, digits, dots, "
            "hyphens and underscores",
        ),
        metadata=describe(
            "Prefix", "Only buckets whose name starts with this prefix.", group="listing"
        ),
    )
    max_results = max_results_field(
        "Most buckets to return; truncated is true when there are more.", maximum=MAX_RESULTS
    )


def _bucket(entry: dict[str, Any]) -> dict[str, Any]:
    bucket = {"name": entry["Name"], "creation_date": timestamp(entry.get("CreationDate"))}
    if entry.get("BucketRegion"):
        bucket["region"] = entry["BucketRegion"]
    return bucket


class BucketResponse(ResponseSchema):
    name = fields.String(required=True)
    creation_date = fields.String(required=True, allow_none=True)
    region = fields.String()


class ListBucketsResponse(ResponseSchema):
    buckets = fields.List(fields.Nested(BucketResponse), required=True)
    truncated = fields.Boolean(required=True)


class ListBuckets(TargetActivity):
    id = "list_buckets"
    name = "List Buckets"
    description = (
        "Lists the buckets of the account, or those whose name starts with a prefix, up to "
        "10,000. A target: it takes a request document and returns one document."
    )
    Settings = ListBucketsSettings
    Response = ListBucketsResponse
    permissions = ({"action": "s3:ListAllMyBuckets", "resource": "*"},)

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        limit = settings["max_results"]
        buckets = self._list(settings.get("prefix") or "", limit)
        yield Document({"buckets": buckets[:limit], "truncated": len(buckets) > limit})

    def _list(self, prefix: str, limit: int) -> list[dict[str, Any]]:
        """Up to limit + 1 matching buckets, so that one more than asked for says the list is
        truncated even on servers that cap MaxBuckets without a continuation token. The
        prefix is also checked here, for servers that ignore the Prefix parameter."""
        client = self.connection.client()
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {"Prefix": prefix} if prefix else {}
        while len(found) <= limit:
            request["MaxBuckets"] = min(limit + 1 - len(found), PAGE_SIZE)
            try:
                page = client.list_buckets(**request)
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc, operation="ListBuckets", target="s3://") from None
            entries = page.get("Buckets", [])
            found.extend(_bucket(entry) for entry in entries if entry["Name"].startswith(prefix))
            token = page.get("ContinuationToken")
            if not token or not entries:
                break
            request["ContinuationToken"] = token
        return found
