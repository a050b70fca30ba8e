"""Bucket region detection, cached per connection, and what a wrong-region retry teaches."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .errors import ConnectorError, translate

if TYPE_CHECKING:
    from .connection import Connection

T = TypeVar("T")


class WrongRegion(Exception):
    """A data plane learned that the bucket is in another `region`; `error` is S3's refusal,
    reported if that region refuses too."""

    def __init__(self, region: str, error: Exception):
        super().__init__(f"the bucket is in {region}")
        self.region = region
        self.error = error


class RegionResolver:
    """Finds each bucket's region once (the data plane's `bucket_region`: HeadBucket's header,
    then GetBucketLocation; else the connection's region) and runs calls there."""

    def __init__(self, connection: Connection):
        self._connection = connection
        self._regions: dict[str, str] = {}
        self._detecting: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def region_for(self, bucket: str) -> str:
        """The bucket's region, detected once: concurrent callers wait for one detection."""
        region = self._regions.get(bucket)
        if region is not None:
            return region
        with self._lock:
            detecting = self._detecting.setdefault(bucket, threading.Lock())
        with detecting:
            region = self._regions.get(bucket)
            if region is None:
                region = self._detect(bucket)
                with self._lock:
                    self._regions[bucket] = region
        return region

    def remember(self, bucket: str, region: str) -> None:
        with self._lock:
            self._regions[bucket] = region

    def learn_redirect(self, context: dict, **_: Any) -> None:
        """botocore's `after-call` hook: remember a region botocore itself redirected to."""
        redirect = context.get("s3_redirect") or {}
        region = (context.get("signing") or {}).get("region")
        if redirect.get("redirected") and redirect.get("bucket") and region:
            self.remember(redirect["bucket"], region)

    def _detect(self, bucket: str) -> str:
        """A network or server failure is raised, never cached as a guess."""
        location = self._connection.data_plane.bucket_region(bucket)
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
    ) -> tuple[T, str]:
        """Run `operation(client)` in the bucket's region; return its result and the region
        it ran in. botocore retries a wrong-region error once in the region the error names,
        and `learn_redirect` keeps that region. Errors are raised as ConnectorErrors."""
        region = override or self.region_for(bucket)
        try:
            result = operation(self._connection.client(region, create_only=create_only))
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, operation=name, target=target) from None
        return result, override or self._regions.get(bucket, region)

    def run(
        self,
        bucket: str,
        override: str | None,
        job: Callable[[str], T],
        *,
        name: str,
        target: str,
    ) -> tuple[T, str]:
        """Run a data-plane `job(region)` in the bucket's region; return its result and the
        region it ran in. A job that learns the bucket is elsewhere runs once more there, and
        that region is kept. Errors are raised as ConnectorErrors."""
        region = override or self.region_for(bucket)
        try:
            try:
                result = job(region)  # botocore follows a redirect itself: see learn_redirect
                return result, override or self._regions.get(bucket, region)
            except WrongRegion as exc:
                if override:
                    raise exc.error from None
                self.remember(bucket, exc.region)
                try:
                    return job(exc.region), exc.region
                except WrongRegion as again:
                    raise again.error from None
        except Exception as exc:
            error = translate(exc, operation=name, target=target)
            if type(error) is ConnectorError and not hasattr(exc, "to_connector_error"):
                raise  # not a failure of S3 or of the network: a defect, kept as it is
            raise error from None
