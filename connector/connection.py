"""The S3 connection: validated settings, credentials and one reused client per region."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    DeferredRefreshableCredentials,
    RefreshableCredentials,
)
from botocore.exceptions import BotoCoreError, ClientError
from botocore.session import Session as BotocoreSession
from botocore.utils import parse_timestamp
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from . import settings as settings_loader
from .conditions import any_match, is_set, when
from .data_plane import DataPlane
from .data_plane import choose as choose_data_plane
from .errors import ConnectorError, InvalidInput, translate
from .fields import (
    AWS_REGION_RULE,
    BucketName,
    FullMatch,
    HttpUrl,
    RegionName,
    SecretFullMatch,
    SecretString,
    WholeNumber,
    describe,
    is_aws_region,
    is_secret,
    utf8_size,
)
from .redaction import install_logging_redaction, register
from .regions import RegionResolver
from .secrets import reveal
from .settings import SettingsSchema

POOL_SIZE = 64
"""HTTP connections per client: the harness runs up to 8 documents at once, each with up to
8 transfer threads."""

UPLOAD_CHECKSUMS = ("CRC32C", "CRC32", "CRC64NVME", "SHA1", "SHA256", "MD5")
AUTH_METHODS = ("access_keys", "default_chain", "profile", "assume_role")
DATA_PLANES = ("auto", "crt", "boto3")


class ConnectionSchema(SettingsSchema):
    """Settings of an S3 connection; not tied to one bucket."""

    auth = fields.String(
        load_default="default_chain",
        validate=validate.OneOf(AUTH_METHODS),
        metadata=describe(
            "Authentication",
            "How the connector gets AWS credentials: access keys, the default credential "
            "provider chain (environment, shared files, container or instance role), a named "
            "profile, or an assumed role on top of keys or the default chain.",
            group="authentication",
        ),
    )
    access_key_id = fields.String(
        validate=[
            validate.Length(min=1, max=128),
            FullMatch(r"^[!-~]+$", error="must be printable ASCII, no spaces"),
        ],
        metadata=describe(
            "Access key ID",
            "Access key of an IAM user. With assume_role, the keys that assume the role "
            "(the default chain is used when empty).",
            group="authentication",
            condition=when("auth", "access_keys", "assume_role"),
            required_when=any_match(when("auth", "access_keys"), is_set("secret_access_key")),
        ),
    )
    secret_access_key = SecretString(
        validate=[
            validate.Length(min=1),
            SecretFullMatch(r"^[ -~]+$", error="must be printable ASCII"),
        ],
        metadata=describe(
            "Secret access key",
            "Secret key that goes with the access key ID.",
            group="authentication",
            condition=when("auth", "access_keys", "assume_role"),
            required_when=any_match(when("auth", "access_keys"), is_set("access_key_id")),
        ),
    )
    session_token = SecretString(
        validate=[
            validate.Length(min=1),
            SecretFullMatch(r"^[!-~]+$", error="must be printable ASCII, no spaces"),
        ],
        metadata=describe(
            "Session token",
            "Session token, for temporary credentials.",
            group="authentication",
            condition=when("auth", "access_keys", "assume_role"),
        ),
    )
    profile = fields.String(
        validate=FullMatch(
            r"^[!-~](?:[ -~]*[!-~])?$",
            error="must be a profile name: printable ASCII, no leading or trailing space",
        ),
        metadata=describe(
            "Profile",
            "Named profile from the shared AWS config and credentials files.",
            group="authentication",
            condition=when("auth", "profile"),
            required_when=when("auth", "profile"),
        ),
    )
    role_arn = fields.String(
        validate=FullMatch(
            r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$",
            error="must be an IAM role ARN such as arn:aws:iam::123456789012:role/name",
        ),
        metadata=describe(
            "Role ARN",
            "ARN of the IAM role to assume.",
            group="authentication",
            condition=when("auth", "assume_role"),
            required_when=when("auth", "assume_role"),
        ),
    )
    external_id = fields.String(
        validate=FullMatch(
            r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$",
            error="must be 2 to 1224 characters of letters, digits and +=,.@:/_-",
        ),
        metadata=describe(
            "External ID",
            "External ID that the role's trust policy requires, if any.",
            group="authentication",
            condition=when("auth", "assume_role"),
        ),
    )
    session_name = fields.String(
        load_default="s3-connector",
        validate=FullMatch(
            r"^[A-Za-z0-9_+=,.@-]{2,64}$",
            error="must be 2 to 64 characters of letters, digits and +=,.@_-",
        ),
        metadata=describe(
            "Session name",
            "Name of the assumed-role session, as it shows in CloudTrail.",
            group="authentication",
            condition=when("auth", "assume_role"),
        ),
    )
    duration_seconds = WholeNumber(
        load_default=3600,
        validate=validate.Range(min=900, max=43200),
        metadata=describe(
            "Session duration (s)",
            "Lifetime of the assumed-role credentials; they are refreshed before they expire.",
            group="authentication",
            condition=when("auth", "assume_role"),
        ),
    )
    region = RegionName(
        by_endpoint=False,
        metadata=describe(
            "Default region",
            "Region for requests that are not about one bucket, and the fallback when a "
            "bucket's region cannot be detected. Defaults to AWS_REGION, AWS_DEFAULT_REGION "
            "or us-east-1.",
            group="endpoint",
        ),
    )
    endpoint_url = fields.String(
        validate=HttpUrl(),
        metadata=describe(
            "Endpoint URL",
            "Custom endpoint for S3-compatible servers (SeaweedFS, MinIO, Ceph...). Leave "
            "empty for Amazon S3.",
            group="endpoint",
        ),
    )
    addressing_style = fields.String(
        load_default="auto",
        validate=validate.OneOf(("auto", "path", "virtual")),
        metadata=describe(
            "Addressing style",
            "Bucket in the host name (virtual), in the path (path), or chosen by the SDK (auto).",
            group="endpoint",
        ),
    )
    verify_tls = fields.Boolean(
        load_default=True,
        metadata=describe(
            "Verify TLS certificates",
            "Check the server's TLS certificate. Turn off only for test servers.",
            group="endpoint",
        ),
    )
    connect_timeout = fields.Float(
        load_default=10.0,
        validate=validate.Range(min=0.1, max=600),
        metadata=describe(
            "Connect timeout (s)", "Seconds to wait for a connection.", group="network"
        ),
    )
    read_timeout = fields.Float(
        load_default=60.0,
        validate=validate.Range(min=0.1, max=3600),
        metadata=describe(
            "Read timeout (s)", "Seconds to wait for data on an open connection.", group="network"
        ),
    )
    max_attempts = WholeNumber(
        load_default=5,
        validate=validate.Range(min=1, max=20),
        metadata=describe(
            "Maximum attempts",
            "Attempts per request, the first included, before a transient failure is reported.",
            group="network",
        ),
    )
    checksum_algorithm = fields.String(
        load_default="CRC32C",
        validate=validate.OneOf(UPLOAD_CHECKSUMS),
        metadata=describe(
            "Upload checksum",
            "Checksum every upload request carries, so S3 refuses a body corrupted on the "
            "way: CRC32C (the default), CRC32, CRC64NVME, SHA1 or SHA256 as x-amz-checksum "
            "headers, or MD5 as Content-MD5 for S3-compatible servers that know no other.",
            group="network",
        ),
    )
    retry_mode = fields.String(
        load_default="standard",
        validate=validate.OneOf(("standard", "adaptive")),
        metadata=describe(
            "Retry mode",
            "botocore's retry mode: standard, or adaptive (adds client-side rate limiting).",
            group="network",
        ),
    )
    data_plane = fields.String(
        load_default="auto",
        validate=validate.OneOf(DATA_PLANES),
        metadata=describe(
            "Data plane",
            "Engine that moves object content and listing pages: crt (the AWS Common "
            "Runtime: signing, HTTP, retries and parts in native code), boto3, or auto (crt "
            "when awscrt loads, else boto3). Control requests always go through boto3.",
            group="network",
        ),
    )
    allow_control_characters = fields.Boolean(
        load_default=False,
        metadata=describe(
            "Allow control characters in keys",
            "Accept control characters (U+0001 to U+001F and U+007F: tab, newline...) in "
            "object keys, prefixes and delimiters. Off by default: S3 stores such keys, but "
            "they break XML listings, logs, file names and most tools. NUL is never allowed.",
            group="options",
        ),
    )

    @pre_load
    def _check_secrets_are_text(self, data: Any, **_: Any) -> Any:
        """A secret that UTF-8 cannot encode (a lone surrogate) is refused before it is
        wrapped in a `Secret`."""
        if isinstance(data, Mapping):
            for name, field in self.fields.items():
                value = data.get(name)
                if is_secret(field) and isinstance(value, str):
                    try:
                        utf8_size(value)
                    except ValidationError as exc:
                        raise ValidationError(exc.messages, name) from None
        return data

    @validates_schema
    def _check_region(self, data: dict[str, Any], **_: Any) -> None:
        """On Amazon S3 (no endpoint_url) the region must be one of AWS's; an S3-compatible
        server may name its own (any host label)."""
        region = data.get("region")
        if region and not data.get("endpoint_url") and not is_aws_region(region):
            raise ValidationError(AWS_REGION_RULE, "region")

    @validates_schema
    def _check_data_plane(self, data: dict[str, Any], **_: Any) -> None:
        """CRT computes CRC and SHA checksums, not Content-MD5."""
        if data.get("data_plane") == "crt" and data.get("checksum_algorithm") == "MD5":
            raise ValidationError(
                "crt cannot send MD5 checksums (checksum_algorithm MD5): use boto3 or auto",
                "data_plane",
            )


class Connection:
    """A validated S3 connection; hands out one thread-safe boto3 client per region."""

    def __init__(self, settings: Mapping[str, Any] | None = None):
        install_logging_redaction()  # an embedding host's logs are redacted too
        self.settings = settings_loader.load(ConnectionSchema, settings or {})
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, bool], Any] = {}
        self._session: boto3.Session | None = None
        self._data_plane: DataPlane | None = None
        self.regions = RegionResolver(self)

    @classmethod
    def from_environment(cls) -> Connection:
        """The default chain with the standard AWS environment variables (AWS_ENDPOINT_URL_S3
        or AWS_ENDPOINT_URL, AWS_REGION or AWS_DEFAULT_REGION, credentials and profile)."""
        settings: dict[str, Any] = {"auth": "default_chain"}
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            settings["endpoint_url"] = endpoint
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            settings["region"] = region
        return cls(settings)

    @property
    def default_region(self) -> str:
        return (
            self.settings.get("region")
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1"
        )

    @property
    def checksum_algorithm(self) -> str:
        return self.settings["checksum_algorithm"]

    @property
    def endpoint_url(self) -> str | None:
        return self.settings.get("endpoint_url") or None

    def __repr__(self) -> str:
        shown = {
            name: self.settings[name]
            for name in ("auth", "profile", "role_arn", "region", "endpoint_url")
            if self.settings.get(name)
        }
        if self.settings.get("access_key_id"):
            shown["access_key_id"] = self.settings["access_key_id"]
        return f"Connection({shown})"

    __str__ = __repr__

    @property
    def data_plane(self) -> DataPlane:
        """The engine that moves content and listing pages (field `data_plane`), made once."""
        with self._lock:
            if self._data_plane is None:
                self._data_plane = choose_data_plane(self)
            return self._data_plane

    def close(self) -> None:
        """Release the data plane's native clients (a closed connection makes new ones)."""
        with self._lock:
            plane, self._data_plane = self._data_plane, None
        if plane is not None:
            plane.close()

    def session(self) -> boto3.Session:
        with self._lock:
            if self._session is None:
                self._session = self._build_session()
                _register_credentials(self._session)
            return self._session

    def _build_session(self) -> boto3.Session:
        s = self.settings
        auth = s["auth"]
        if auth == "profile":
            return boto3.Session(profile_name=s["profile"], botocore_session=_botocore_session())
        if s.get("access_key_id") and auth in ("access_keys", "assume_role"):
            base = boto3.Session(
                aws_access_key_id=s["access_key_id"],
                aws_secret_access_key=reveal(s["secret_access_key"]),
                aws_session_token=reveal(s.get("session_token")),
                botocore_session=_botocore_session(),
            )
        else:
            base = boto3.Session(botocore_session=_botocore_session())
        if auth != "assume_role":
            return base
        _register_credentials(base)
        return self._assume_role(base)

    def _assume_role(self, base: boto3.Session) -> boto3.Session:
        s = self.settings
        extra = {"RoleSessionName": s["session_name"], "DurationSeconds": s["duration_seconds"]}
        if s.get("external_id"):
            extra["ExternalId"] = s["external_id"]
        source = base.get_credentials()
        if source is None:
            raise InvalidInput("no credentials found to assume the role with", field="auth")
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=base._session.create_client,
            source_credentials=source,
            role_arn=s["role_arn"],
            extra_args=extra,
        )
        botocore_session = _botocore_session()
        botocore_session._credentials = DeferredRefreshableCredentials(
            method="assume-role", refresh_using=fetcher.fetch_credentials
        )
        return boto3.Session(botocore_session=botocore_session)

    def client_config(self, region: str, addressing_style: str | None = None) -> Config:
        """botocore's checksums are off: uploads send the connector's own, and downloads
        verify them as they stream (`uploads`, `downloads`)."""
        s = self.settings
        return Config(
            region_name=region,
            signature_version="s3v4",
            s3={"addressing_style": addressing_style or s["addressing_style"]},
            connect_timeout=s["connect_timeout"],
            read_timeout=s["read_timeout"],
            retries={"total_max_attempts": s["max_attempts"], "mode": s["retry_mode"]},
            max_pool_connections=POOL_SIZE,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )

    def client(
        self,
        region: str | None = None,
        *,
        create_only: bool = False,
        addressing_style: str | None = None,
    ):
        """The S3 client for `region` (default region when None), created once and reused.

        With `create_only`, every PutObject and CompleteMultipartUpload the client sends
        carries `If-None-Match: *`, so a write never replaces an existing object.
        `addressing_style` overrides the connection's (presigned links need `virtual`).
        """
        region = region or self.default_region
        key = (region, create_only, addressing_style)
        client = self._clients.get(key)
        if client is not None:
            return client
        session = self.session()
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = session.client(
                    "s3",
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    verify=self.settings["verify_tls"],
                    config=self.client_config(region, addressing_style),
                )
                client.meta.events.register("after-call.s3", self.regions.learn_redirect)
                client.meta.events.register(
                    "before-call.s3.GetObject", _leave_response_checksums_to_the_reader
                )
                if create_only:
                    for operation in ("PutObject", "CompleteMultipartUpload"):
                        client.meta.events.register(
                            f"before-parameter-build.s3.{operation}", _require_absent
                        )
                self._clients[key] = client
        return client

    def test(self, bucket: str | None = None) -> dict[str, Any]:
        """Check that the credentials work and S3 answers; never raises for S3 failures."""
        if bucket is not None:
            settings_loader.load(BucketOnly, {"bucket": bucket})
        operation, permission = (
            ("HeadBucket", "s3:ListBucket") if bucket else ("ListBuckets", "s3:ListAllMyBuckets")
        )
        started = time.monotonic()
        result: dict[str, Any] = {"ok": True, "call": operation, "endpoint": self.endpoint_url}
        try:
            if bucket:
                _, region = self.regions.call(
                    bucket,
                    None,
                    lambda client: client.head_bucket(Bucket=bucket),
                    name=operation,
                    target=bucket,
                )
                result.update(bucket=bucket, region=region)
            else:
                response = self.client().list_buckets()
                result.update(region=self.default_region, buckets=len(response.get("Buckets", [])))
        except (ClientError, BotoCoreError, ConnectorError) as exc:
            error = translate(exc, operation=operation, target=bucket or "")
            result.update(
                ok=False,
                region=self.default_region,
                error=error.kind,
                message=str(error),
                permission=permission,
            )
        result["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
        return result


class BucketOnly(Schema):
    """Just a bucket name, checked against S3's naming rules."""

    bucket = BucketName(required=True)


def _parse_timestamp(value: str | int | float) -> datetime:
    """botocore's timestamp parser, with a fast path for the ISO 8601 of S3's XML responses
    (dateutil otherwise dominates the CPU time of a large listing)."""
    if isinstance(value, str) and value[:1].isdigit():
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return parse_timestamp(value)


def _botocore_session() -> BotocoreSession:
    session = BotocoreSession()
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=_parse_timestamp
    )
    return session


def _leave_response_checksums_to_the_reader(context: dict, **_: Any) -> None:
    """GetObject asks for checksums (ChecksumMode) so that `downloads.ObjectReader` verifies
    the content, resumes included; botocore would check them again and, on a mismatch,
    raise outside the taxonomy before the reader could."""
    context.get("checksum", {}).pop("response_algorithms", None)


def _register_credentials(session: boto3.Session) -> None:
    """Register the secret key and token the session resolved (the default chain, a profile,
    an assumed role: secrets no setting held), and those of every later refresh, so that
    `redaction` masks them. A failure to resolve is left to the first client to report."""
    try:
        credentials = session.get_credentials()
    except Exception:
        return
    if isinstance(credentials, RefreshableCredentials):
        refresh = credentials._refresh_using

        def registering_refresh() -> dict[str, Any]:
            metadata = refresh()
            register(metadata.get("secret_key"))
            register(metadata.get("token"))
            return metadata

        credentials._refresh_using = registering_refresh
        if isinstance(credentials, DeferredRefreshableCredentials):
            return  # nothing fetched yet: the first refresh registers them
        register(credentials._secret_key)  # the current values, without forcing a refresh
        register(credentials._token)
    elif credentials is not None:
        register(credentials.secret_key)
        register(credentials.token)


def _require_absent(params: dict, **_: Any) -> None:
    params.setdefault("IfNoneMatch", "*")
