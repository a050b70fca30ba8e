"""The connector's error taxonomy, shared by the harness, the CLI and agents."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)


class ConnectorError(Exception):
    """Base of every error the connector reports; `exit_code` is the CLI's exit status."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, *, field: str | None = None, request_id: str | None = None):
        self.field = field
        self.request_id = request_id
        super().__init__(message)

    @property
    def message(self) -> str:
        return self.args[0]

    def __str__(self) -> str:
        text = f"{self.field}: {self.message}" if self.field else self.message
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "field": self.field,
            "message": self.message,
            "request_id": self.request_id,
        }


class InvalidInput(ConnectorError):
    """Configuration or input breaks a rule; nothing was written."""

    exit_code = 2
    kind = "invalid_input"


class NotFound(ConnectorError):
    """The bucket, object or version does not exist."""

    exit_code = 3
    kind = "not_found"


class AccessDenied(ConnectorError):
    """The credentials were refused or lack a permission."""

    exit_code = 3
    kind = "access_denied"


class PreconditionFailed(ConnectorError):
    """A conditional request was refused, e.g. the key exists and overwrite is false."""

    exit_code = 1
    kind = "precondition_failed"


class TransientFailure(ConnectorError):
    """A network or throttling failure that outlasted the retries."""

    exit_code = 4
    kind = "transient"


_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "NoSuchUpload", "404", "NotFound"}
_DENIED = {
    "AccessDenied",
    "403",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
    "AccountProblem",
}
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
_INVALID = {
    "InvalidArgument",
    "InvalidRequest",
    "InvalidBucketName",
    "InvalidRange",
    "416",
    "KeyTooLongError",
    "InvalidStorageClass",
    "MetadataTooLarge",
    "InvalidDigest",
    "400",
}
_TRANSIENT = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "InternalError",
    "ServiceUnavailable",
    "503",
    "500",
}


def from_client_error(exc: ClientError, *, operation: str, target: str) -> ConnectorError:
    """Translate a botocore ClientError into the taxonomy, keeping S3's request id."""
    error = exc.response.get("Error", {})
    meta = exc.response.get("ResponseMetadata", {})
    code = str(error.get("Code") or meta.get("HTTPStatusCode") or "")
    status = meta.get("HTTPStatusCode")
    request_id = meta.get("RequestId") or meta.get("HTTPHeaders", {}).get("x-amz-request-id")
    detail = error.get("Message") or ""
    text = f"{operation} {target} failed: {code}" + (f" ({detail})" if detail else "")
    if code in _NOT_FOUND:
        cls = NotFound
    elif code in _DENIED:
        cls = AccessDenied
    elif code in _PRECONDITION:
        cls = PreconditionFailed
    elif code in _TRANSIENT or (status and status >= 500):
        cls = TransientFailure
    elif code in _INVALID or (status and 400 <= status < 500):
        cls = InvalidInput
    else:
        cls = ConnectorError
    return cls(text, request_id=request_id)


def translate(exc: BaseException, *, operation: str, target: str) -> ConnectorError:
    """Map any exception raised by boto3 to a ConnectorError (ConnectorErrors pass through)."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, ClientError):
        return from_client_error(exc, operation=operation, target=target)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AccessDenied(f"{operation} {target} failed: {exc}")
    if isinstance(
        exc,
        EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError,
    ):
        return TransientFailure(f"{operation} {target} failed after retries: {exc}")
    return ConnectorError(f"{operation} {target} failed: {type(exc).__name__}: {exc}")
