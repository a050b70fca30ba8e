"""Purge: delete every object under a prefix, in DeleteObjects batches of 1,000."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError
from marshmallow import fields, validate

from s3_connector.connector.activity import ResponseSchema, TargetActivity
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import (
    ConnectorError,
    InvalidInput,
    PreconditionFailed,
    from_client_error,
)
from s3_connector.connector.fields import KeyText, WholeNumber, describe
from s3_connector.connector.streaming_json import Deferred

from .common import PREFIX_WRITES, BucketSettings
from .listing import fetched_first, list_pages

BATCH_SIZE = 1000
"""Keys per DeleteObjects request, the most S3 accepts."""


class PurgeSettings(BucketSettings):
    prefix = KeyText(
        load_default="",
        max_length=1024,
        metadata=describe(
            "Prefix",
            "Every object whose key starts with this prefix is deleted. Empty means the whole "
            "bucket, which needs force.",
            group="object",
            dynamic=True,
        ),
    )
    dry_run = fields.Boolean(
        load_default=True,
        metadata=describe(
            "Dry run",
            "List the objects that would be deleted and delete nothing. Set it to false to "
            "delete them.",
            group="options",
        ),
    )
    max_objects = WholeNumber(
        validate=validate.Range(min=1),
        metadata=describe(
            "Maximum objects",
            "Refuse to start, deleting nothing, when more objects than this match the prefix. "
            "The matching keys (at most this many) are then listed before any is deleted.",
            group="options",
        ),
    )
    force = fields.Boolean(
        load_default=False,
        metadata=describe(
            "Force",
            "Allow an empty prefix, which purges the whole bucket.",
            group="options",
        ),
    )


def _batches(keys: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Purge:
    """Lists the keys under the prefix and deletes them batch by batch as the `keys` stream is
    read; counts and failures are final once the stream ends.

    A failure of a whole request (a listing page, or a DeleteObjects call that S3 refuses)
    stops the purge and is kept in `error`; the keys of a refused batch go to `failed`."""

    def __init__(self, connection: Any, settings: dict[str, Any]):
        self.connection = connection
        self.bucket: str = settings["bucket"]
        self.prefix: str = settings["prefix"]
        self.region_override: str | None = settings.get("region")
        self.dry_run: bool = settings["dry_run"]
        self.max_objects: int | None = settings.get("max_objects")
        self.target = f"s3://{self.bucket}/{self.prefix}"
        self.region: str | None = None
        self.matched = 0
        self.deleted = 0
        self.delete_calls = 0
        self.failed: list[dict[str, str]] = []
        self.error: ConnectorError | None = None
        self.finished = False
        self.handed_over = False
        """Set when the next response was asked for before this one's keys were read: errors
        are then raised from the keys stream, where the caller reads them."""
        self._stream: Iterator[str] | None = None

    def start(self) -> Iterator[str]:
        """List the first page (or, with max_objects, up to max_objects + 1 keys) so that a
        failure or a refusal comes before any output; return the keys stream."""
        if self.max_objects is None:
            pages = fetched_first(self._pages())
        else:
            keys = [key for page in self._pages(self.max_objects + 1) for key in page]
            if len(keys) > self.max_objects:
                raise PreconditionFailed(
                    f"at least {len(keys):,} objects match prefix '{self.prefix}', more than "
                    f"max_objects {self.max_objects:,}; nothing was deleted",
                    field="max_objects",
                )
            pages = iter([keys])
        self._stream = self._keys(pages)
        return self._stream

    def finish(self) -> _Purge:
        """Read the rest of the keys stream (deleting as it goes), so the counts are final."""
        for _ in self._stream or ():
            pass
        return self

    def failure(self) -> ConnectorError | None:
        """What to raise once the response is out: the error that stopped the purge, or a
        summary of the keys S3 did not delete."""
        if self.error is not None or not self.failed:
            return self.error
        first = self.failed[0]
        cls = type(
            from_client_error(
                ClientError({"Error": {"Code": first["code"]}}, "DeleteObjects"),
                operation="DeleteObjects",
                target=self.target,
            )
        )
        return cls(
            f"{len(self.failed):,} of {self.matched:,} objects under {self.target} were not "
            f"deleted (first: {first['key']}: {first['code']} {first['message']}); the "
            "response lists them in failed"
        )

    def _pages(self, limit: int | None = None) -> Iterator[list[str]]:
        """The keys of each ListObjectsV2 page; the next page is asked for only once the
        current one has been read, so after its keys have been deleted (S3's continuation
        token still resumes after them)."""
        listed = 0

        def wanted() -> int:
            return limit - listed

        for page, region in list_pages(
            self.connection,
            {"Bucket": self.bucket, "Prefix": self.prefix},
            region=self.region_override,
            wanted=None if limit is None else wanted,
        ):
            self.region = region
            keys = [item["Key"] for item in page.get("Contents", [])]
            listed += len(keys)
            yield keys
            if limit is not None and listed >= limit:
                return

    def _listed(self, pages: Iterator[list[str]]) -> Iterator[str]:
        try:
            for page in pages:
                for key in page:
                    self.matched += 1
                    yield key
        except ConnectorError as exc:
            self.error = exc

    def _keys(self, pages: Iterator[list[str]]) -> Iterator[str]:
        listed = self._listed(pages)
        if self.dry_run:
            yield from listed
        else:
            for batch in _batches(listed, BATCH_SIZE):
                yield from self._delete(batch)
                if self.error is not None:
                    break
        self.finished = True
        if self.error is not None and self.handed_over:
            raise self.error

    def _delete(self, batch: list[str]) -> Iterator[str]:
        """DeleteObjects (quiet) of one batch; yields the keys S3 deleted."""
        request = {
            "Bucket": self.bucket,
            "Delete": {"Objects": [{"Key": key} for key in batch], "Quiet": True},
        }
        refused: dict[str, str] = {}

        def delete(client: Any) -> dict[str, Any]:
            try:
                return client.delete_objects(**request)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                refused.update(code=str(error.get("Code") or ""), message=error.get("Message", ""))
                raise

        self.delete_calls += 1
        try:
            response, _ = self.connection.regions.call(
                self.bucket, self.region, delete, name="DeleteObjects", target=self.target
            )
        except ConnectorError as exc:
            self.error = self.error or exc
            code = refused.get("code") or exc.kind
            message = refused.get("message") or exc.message
            self.failed.extend({"key": key, "code": code, "message": message} for key in batch)
            return
        not_deleted = set()
        for error in response.get("Errors", []):
            not_deleted.add(error.get("Key"))
            self.failed.append(
                {
                    "key": error.get("Key", ""),
                    "code": error.get("Code", ""),
                    "message": error.get("Message", ""),
                }
            )
        for key in batch:
            if key not in not_deleted:
                self.deleted += 1
                yield key


class PurgeFailureResponse(ResponseSchema):
    key = fields.String(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)


class PurgeResponse(ResponseSchema):
    bucket = fields.String(required=True)
    prefix = fields.String(required=True)
    region = fields.String()
    dry_run = fields.Boolean(required=True)
    keys = fields.List(fields.String(), required=True)
    matched = fields.Integer(required=True)
    deleted = fields.Integer(required=True)
    failed = fields.List(fields.Nested(PurgeFailureResponse), required=True)
    delete_calls = fields.Integer(required=True)


class Purge(TargetActivity):
    id = "purge"
    name = "Purge"
    description = (
        "Deletes every object under a prefix, in DeleteObjects batches of 1,000, and reports "
        "the keys deleted and those that failed. A dry run (the default) only lists what "
        "would be deleted; max_objects refuses a purge larger than expected; an empty prefix "
        "(the whole bucket) needs force."
    )
    Settings = PurgeSettings
    writes = PREFIX_WRITES
    Response = PurgeResponse
    permissions = (
        {"action": "s3:ListBucket", "resource": "bucket"},
        {
            "action": "s3:DeleteObject",
            "resource": "object",
            "when": {"field": "dry_run", "equals": False},
        },
    )

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        if not settings["prefix"] and not settings["force"]:
            raise InvalidInput(
                "is empty, which would purge the whole bucket; set force to true to allow it",
                field="prefix",
            )
        purge = _Purge(self.connection, settings)
        keys = purge.start()
        yield Document(
            {
                "bucket": purge.bucket,
                "prefix": purge.prefix,
                "region": purge.region,
                "dry_run": purge.dry_run,
                "keys": keys,
                "matched": Deferred(lambda: purge.finish().matched),
                "deleted": Deferred(lambda: purge.finish().deleted),
                "failed": Deferred(lambda: purge.finish().failed),
                "delete_calls": Deferred(lambda: purge.finish().delete_calls),
            }
        )
        # Here the response has been handed on. When it has also been read to the end (as
        # `s3c run` does before asking for the next one), a partial purge ends the run with
        # an error, so its exit status is not 0.
        if not purge.finished:
            purge.handed_over = True
            return
        failure = purge.failure()
        if failure is not None:
            raise failure
