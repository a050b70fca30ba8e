"""The data plane: the engine that moves object content and listing pages.

Two engines do the same three jobs with the same guarantees (checksummed writes that leave no
multipart upload behind, verified and resumable reads, errors in the taxonomy):

- `Boto3Plane`: botocore requests, with the connector's own multipart upload
  (`uploads`) and verified reader (`downloads`);
- `CrtPlane` (`crt_plane`): the AWS Common Runtime, which signs, sends, retries and splits
  parts in native code, off the GIL.

The connection's `data_plane` field picks one (`choose`). boto3 stays the control plane
either way: region detection, copies, deletes, heads, presigned links.

Each job takes the region to run in; `RegionResolver.run` finds it and translates errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .downloads import ObjectReader, open_verified
from .errors import InvalidInput, raise_if_transient, translate
from .uploads import Body, upload

if TYPE_CHECKING:
    from .connection import Connection


class DataPlane(Protocol):
    """Moves object content and listing pages; `name` is `crt` or `boto3`."""

    name: str
    documents_in_flight: int

    def put_object(
        self,
        bucket: str,
        key: str,
        body: Body,
        extra: dict[str, Any],
        *,
        region: str,
        create_only: bool,
    ) -> dict[str, Any]:
        """Store `body` (bytes, a file path or a stream; see `uploads.prepare_body`) with
        botocore-named `extra` (ContentType, Metadata, StorageClass, SSECustomer*); with
        `create_only`, only when the key is free. Returns etag, version_id and size."""
        ...

    def get_object(
        self, bucket: str, request: dict[str, Any], *, region: str, target: str
    ) -> tuple[dict[str, Any], ObjectReader]:
        """GetObject of a botocore-named `request` (Key, VersionId, Range, IfMatch,
        SSECustomer*): its response headers, botocore-named, and its verified content."""
        ...

    def list_page(self, request: dict[str, Any], *, region: str) -> dict[str, Any]:
        """One ListObjectsV2 page of a botocore-named `request`, botocore-shaped, with
        `LastModified` as an ISO 8601 string."""
        ...

    def bucket_region(self, bucket: str) -> str | None:
        """The region HeadBucket's `x-amz-bucket-region` names, else GetBucketLocation's
        LocationConstraint (None or "" for us-east-1, "EU" for eu-west-1), else None when S3
        tells neither (refused, or a server that does not say). A network or server failure
        is raised as a ConnectorError."""
        ...

    def close(self) -> None: ...


class Boto3Plane:
    """The data plane on botocore (see the module)."""

    name = "boto3"
    documents_in_flight = 8
    """botocore's CPU per request is the limit: more threads would only contend."""

    def __init__(self, connection: Connection):
        self._connection = connection

    def put_object(
        self,
        bucket: str,
        key: str,
        body: Body,
        extra: dict[str, Any],
        *,
        region: str,
        create_only: bool,
    ) -> dict[str, Any]:
        client = self._connection.client(region, create_only=create_only)
        return upload(client, body, bucket, key, extra, self._connection.checksum_algorithm)

    def get_object(
        self, bucket: str, request: dict[str, Any], *, region: str, target: str
    ) -> tuple[dict[str, Any], ObjectReader]:
        request = {"Bucket": bucket, "ChecksumMode": "ENABLED", **request}
        response = self._connection.client(region).get_object(**request)
        try:
            body = open_verified(self._connection, bucket, region, request, response, target=target)
        except BaseException:
            response["Body"].close()
            raise
        return response, body

    def list_page(self, request: dict[str, Any], *, region: str) -> dict[str, Any]:
        page = self._connection.client(region).list_objects_v2(**request)
        for item in page.get("Contents", ()):
            if item.get("LastModified") is not None:
                item["LastModified"] = item["LastModified"].isoformat()
        return page

    def bucket_region(self, bucket: str) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._connection.client()
        try:
            response = client.head_bucket(Bucket=bucket)
            headers = response["ResponseMetadata"].get("HTTPHeaders", {})
        except ClientError as exc:
            raise_if_transient(translate(exc, operation="HeadBucket", target=bucket))
            headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        except BotoCoreError as exc:
            raise translate(exc, operation="HeadBucket", target=bucket) from None
        if headers.get("x-amz-bucket-region"):
            return headers["x-amz-bucket-region"]
        try:
            return client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        except ClientError as exc:
            raise_if_transient(translate(exc, operation="GetBucketLocation", target=bucket))
            return None
        except BotoCoreError as exc:
            raise translate(exc, operation="GetBucketLocation", target=bucket) from None

    def close(self) -> None:
        return None


def choose(connection: Connection) -> DataPlane:
    """The plane the connection's `data_plane` names: `auto` is CRT when awscrt loads, the
    upload checksum is one CRT computes (not MD5) and the AWS config chain turns on no
    endpoint variant that CRT cannot reach (FIPS, dual-stack, Transfer Acceleration); else
    boto3. `crt` with such a variant is refused, before any request."""
    wanted = connection.settings.get("data_plane", "auto")
    if wanted == "boto3":
        return Boto3Plane(connection)
    if wanted == "auto" and connection.checksum_algorithm == "MD5":
        return Boto3Plane(connection)
    variants = connection.resolved.crt_cannot_follow
    if variants and wanted == "auto":
        return Boto3Plane(connection)
    if variants:
        raise InvalidInput(
            f"crt cannot reach the endpoint that {' and '.join(variants)} of the AWS "
            "configuration asks for: use boto3 or auto",
            field="data_plane",
        )
    try:
        from .crt_plane import CrtPlane
    except ImportError as exc:
        if wanted == "auto":
            return Boto3Plane(connection)
        raise InvalidInput(
            f"crt needs the awscrt package, which cannot be loaded ({exc})", field="data_plane"
        ) from None
    return CrtPlane(connection)
