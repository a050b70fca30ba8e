"""Bucket region detection, cached per connection, and what a wrong-region retry teaches."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .cancellation import Ready, Sent
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
        return self.begin(
            bucket, override, lambda region: Ready(lambda: job(region)), name=name, target=target
        ).result()

    def begin(
        self,
        bucket: str,
        override: str | None,
        start: Callable[[str], Sent[T]],
        *,
        name: str,
        target: str,
    ) -> Sent[tuple[T, str]]:
        """`run`, started now and finished later: `start(region)` sends the job's requests
        without waiting for them. The result waits, and returns the job's result and the
        region, as `run` does; a wrong region is tried again there while it waits. Errors
        (of starting, at once; of the job, when waited for) are raised as ConnectorErrors."""
        region = override or self.region_for(bucket)
        with _translated(name, target):
            started = start(region)
        return _Finishing(self, bucket, override, region, start, started, name, target)


class _Finishing(Generic[T]):
    """A job started in `region` (see `RegionResolver.begin`), finished when waited for."""

    def __init__(
        self,
        resolver: RegionResolver,
        bucket: str,
        override: str | None,
        region: str,
        start: Callable[[str], Sent[T]],
        started: Sent[T],
        name: str,
        target: str,
    ):
        self._resolver, self._bucket, self._override = resolver, bucket, override
        self._region, self._start, self._started = region, start, started
        self._name, self._target = name, target

    def cancel(self) -> Any:
        return self._started.cancel()

    def when_done(self, callback: Callable[[], None]) -> None:
        self._started.when_done(callback)

    def result(self) -> tuple[T, str]:
        resolver, bucket, override = self._resolver, self._bucket, self._override
        with _translated(self._name, self._target):
            try:
                result = self._started.result()  # botocore follows redirects: learn_redirect
                return result, override or resolver._regions.get(bucket, self._region)
            except WrongRegion as exc:
                if override:
                    raise exc.error from None
                resolver.remember(bucket, exc.region)
                try:
                    return self._start(exc.region).result(), exc.region
                except WrongRegion as again:
                    raise again.error from None


@contextmanager
def _translated(name: str, target: str) -> Iterator[None]:
    """Exceptions of S3 and of the network raised as ConnectorErrors; others (defects) as
    they are."""
    try:
        yield
    except Exception as exc:
        error = translate(exc, operation=name, target=target)
        if type(error) is ConnectorError and not hasattr(exc, "to_connector_error"):
            raise  # not a failure of S3 or of the network: a defect, kept as it is
        raise error from None
