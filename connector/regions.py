"""Bucket region detection, cached per connection, and the once-only wrong-region retry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .errors import translate

if TYPE_CHECKING:
    from .connection import Connection

T = TypeVar("T")

_REDIRECT_CODES = {
    "PermanentRedirect",
    "AuthorizationHeaderMalformed",
    "IllegalLocationConstraintException",
    "301",
    "400",
}


def region_in_error(exc: ClientError) -> str | None:
    """The region an S3 error names as the bucket's real one, if any."""
    error = exc.response.get("Error", {})
    if str(error.get("Code")) not in _REDIRECT_CODES:
        return None
    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return headers.get("x-amz-bucket-region") or error.get("Region") or None


class RegionResolver:
    """Finds each bucket's region once (HeadBucket header, then GetBucketLocation, then the
    connection's region) and retries a call once in the region that S3 says is right."""

    def __init__(self, connection: Connection):
        self._connection = connection
        self._regions: dict[str, str] = {}
        self._lock = threading.Lock()

    def region_for(self, bucket: str) -> str:
        region = self._regions.get(bucket)
        if region is None:
            region = self._detect(bucket)
            with self._lock:
                self._regions[bucket] = region
        return region

    def remember(self, bucket: str, region: str) -> None:
        with self._lock:
            self._regions[bucket] = region

    def forget(self, bucket: str) -> None:
        with self._lock:
            self._regions.pop(bucket, None)

    def _detect(self, bucket: str) -> str:
        client = self._connection.client()
        try:
            response = client.head_bucket(Bucket=bucket)
            headers = response["ResponseMetadata"].get("HTTPHeaders", {})
        except ClientError as exc:
            headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        except BotoCoreError:
            headers = {}
        if headers.get("x-amz-bucket-region"):
            return headers["x-amz-bucket-region"]
        try:
            location = client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        except (ClientError, BotoCoreError):
            location = None
        if location == "EU":
            return "eu-west-1"
        return location or self._connection.default_region

    def call(
        self,
        bucket: str,
        override: str | None,
        operation: Callable[[Any], T],
        *,
        name: str,
        target: str,
        create_only: bool = False,
        retryable: Callable[[], bool] = lambda: True,
    ) -> tuple[T, str]:
        """Run `operation(client)` in the bucket's region; return its result and the region.

        A wrong-region error that names the right region is retried there once, when
        `retryable()` agrees (a consumed upload stream cannot be sent again). Errors are
        raised as ConnectorErrors.
        """
        region = override or self.region_for(bucket)
        try:
            return operation(self._connection.client(region, create_only=create_only)), region
        except ClientError as exc:
            right = region_in_error(exc)
            if not right or right == region or not retryable():
                raise translate(exc, operation=name, target=target) from None
            if not override:
                self.remember(bucket, right)
        except BotoCoreError as exc:
            raise translate(exc, operation=name, target=target) from None
        try:
            return operation(self._connection.client(right, create_only=create_only)), right
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, operation=name, target=target) from None
