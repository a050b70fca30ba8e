"""The connector's error taxonomy, shared by the harness, the CLI and agents.

Each kind declares its exit code once; `translate` maps every boto3, botocore, urllib3,
s3transfer and socket failure to a kind, so a network or server fault is never "unexpected".
"""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING

from .redaction import redact

if TYPE_CHECKING:
    from botocore.exceptions import ClientError


class ConnectorError(Exception):
    """Base of every error the connector reports; `exit_code` is the CLI's exit status.

    The message is redacted when the error is made, so no secret reaches a log or a caller."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, *, field: str | None = None, request_id: str | None = None):
        self.field = field
        self.request_id = request_id
        super().__init__(redact(str(message)))

    @property
    def message(self) -> str:
        return self.args[0]

    def __str__(self) -> str:
        text = f"{self.field}: {self.message}" if self.field else self.message
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def with_field(self, field: str | None) -> ConnectorError:
        """The same error naming `field` (front ends name fields their own way)."""
        if field == self.field:
            return self
        clone = copy.copy(self)
        clone.field = field
        return clone

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "field": self.field,
            "message": self.message,
            "s3_request_id": self.request_id,
        }


class InvalidInput(ConnectorError):
    """Configuration or input breaks a rule; nothing was written and nothing was sent."""

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


class NoCredentials(AccessDenied):
    """No credentials were found in the connection or the AWS default chain."""

    kind = "no_credentials"


class PreconditionFailed(ConnectorError):
    """A conditional request was refused, e.g. the key exists and overwrite is false."""

    exit_code = 1
    kind = "precondition_failed"


class Conflict(ConnectorError):
    """The object changed while it was read, or a local path is taken by something else."""

    exit_code = 1
    kind = "conflict"


class TransientFailure(ConnectorError):
    """A network or server failure that outlasted the retries; trying later may succeed."""

    exit_code = 4
    kind = "transient"


class Throttled(TransientFailure):
    """S3 asked to slow down (SlowDown, 503) and the retries ran out."""

    kind = "throttled"


class IntegrityError(ConnectorError):
    """Content failed verification: its size or checksum is not what S3 declared. The bytes
    were not handed over (no file was left, no ok response was given)."""

    exit_code = 5
    kind = "integrity"


class LocalWriteError(ConnectorError):
    """A local file could not be written (a full disk, the file size limit, no permission);
    nothing partial was left."""

    kind = "local_io"


class Cancelled(ConnectorError):
    """The work was interrupted (Ctrl-C, SIGTERM, a cancelled request); nothing was left
    half-written."""

    exit_code = 130
    kind = "cancelled"


ERROR_KINDS: dict[str, type[ConnectorError]] = {
    cls.kind: cls
    for cls in (
        ConnectorError,
        InvalidInput,
        NotFound,
        AccessDenied,
        NoCredentials,
        PreconditionFailed,
        Conflict,
        TransientFailure,
        Throttled,
        IntegrityError,
        LocalWriteError,
        Cancelled,
    )
}
"""Every kind with its class; `ERROR_KINDS[kind].exit_code` is the kind's exit code."""


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
_PRECONDITION = {"PreconditionFailed", "412"}
_CONFLICT = {"ConditionalRequestConflict", "OperationAborted", "409"}
_INTEGRITY = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum"}
_INVALID = {
    "InvalidArgument",
    "InvalidRequest",
    "InvalidBucketName",
    "InvalidRange",
    "416",
    "KeyTooLongError",
    "InvalidStorageClass",
    "MetadataTooLarge",
    "InvalidPart",
    "InvalidPartOrder",
    "EntityTooSmall",
    "EntityTooLarge",
    "400",
}
_THROTTLED = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "429",
}
_TRANSIENT = {
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "InternalError",
    "ServiceUnavailable",
    "503",
    "500",
    "502",
    "504",
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
    return kind_of_code(code, status)(text, request_id=request_id)


def kind_of_code(code: str, status: int | None) -> type[ConnectorError]:
    """The error class of an S3 error code and HTTP status."""
    if code in _NOT_FOUND:
        return NotFound
    if code in _DENIED:
        return AccessDenied
    if code in _PRECONDITION:
        return PreconditionFailed
    if code in _CONFLICT:
        return Conflict
    if code in _INTEGRITY:
        return IntegrityError
    if code in _THROTTLED or status == 429:
        return Throttled
    if code in _TRANSIENT or (status and status >= 500):
        return TransientFailure
    if code in _INVALID or (status and 400 <= status < 500):
        return InvalidInput
    return ConnectorError


@cache
def network_errors() -> tuple[type[BaseException], ...]:
    """Failures of the network or of a response in flight: transient once retries are spent.
    (botocore and urllib3 are imported here, not when the taxonomy is, so `s3c --help`
    stays fast.)"""
    import http.client
    import socket
    import ssl

    from botocore.exceptions import (
        ConnectionError as BotocoreConnectionError,
    )
    from botocore.exceptions import (
        HTTPClientError,
        IncompleteReadError,
    )
    from urllib3.exceptions import HTTPError as Urllib3HTTPError

    return (
        HTTPClientError,
        BotocoreConnectionError,
        IncompleteReadError,
        Urllib3HTTPError,
        http.client.HTTPException,
        ConnectionError,
        TimeoutError,
        socket.timeout,
        ssl.SSLError,
    )


def classify(exc: BaseException, *, operation: str, target: str) -> ConnectorError:
    """`translate`, and for a failure the taxonomy does not know, an error that says it was
    unexpected (kind `error`, exit 1): what the front ends report for anything that escapes
    the activities."""
    error = translate(exc, operation=operation, target=target)
    if type(error) is ConnectorError:
        return ConnectorError(f"unexpected {type(exc).__name__}: {exc}")
    return error


def translate(exc: BaseException, *, operation: str, target: str) -> ConnectorError:
    """Map any exception raised while talking to S3 to a ConnectorError (ConnectorErrors pass
    through). Wrappers such as s3transfer's S3UploadFailedError are unwrapped to their cause."""
    from botocore.exceptions import (
        ClientError,
        InvalidRegionError,
        NoCredentialsError,
        ParamValidationError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    subject = f"{operation} {target}" if target else operation
    if isinstance(exc, ConnectorError):
        return exc
    if hasattr(exc, "to_connector_error"):  # the CRT transport's errors
        return exc.to_connector_error(operation, target)
    if isinstance(exc, ClientError):
        return from_client_error(exc, operation=operation, target=target)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return NoCredentials(f"{subject} failed: no credentials found ({exc})")
    if isinstance(exc, ProfileNotFound):
        return InvalidInput(f"{exc} (in the AWS config and credentials files)", field="profile")
    if isinstance(exc, InvalidRegionError):
        return InvalidInput(str(exc), field="region")
    if isinstance(exc, ParamValidationError):
        return InvalidInput(f"{subject}: {exc}")
    if isinstance(exc, network_errors()):
        return TransientFailure(f"{subject} failed after retries: {type(exc).__name__}: {exc}")
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        translated = translate(cause, operation=operation, target=target)
        if type(translated) is not ConnectorError:
            return translated
    return ConnectorError(f"{subject} failed: {type(exc).__name__}: {exc}")


def raise_if_transient(error: ConnectorError) -> None:
    """Raise `error` when retrying could help: region detection never caches a guess made
    while S3 or the network failed."""
    if isinstance(error, TransientFailure):
        raise error from None
