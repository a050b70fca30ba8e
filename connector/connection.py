"""The S3 connection: validated settings, credentials and one reused client per region."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from . import settings as settings_loader
from .conditions import Rule, any_match, is_set, when
from .config_chain import DEFAULT_REGION, Resolved, resolve_without_botocore
from .data_plane import DataPlane
from .data_plane import choose as choose_data_plane
from .errors import ConnectorError, InvalidInput, NoCredentials, translate
from .fields import (
    AWS_REGION_RULE,
    BucketName,
    FullMatch,
    HttpUrl,
    PemFile,
    RegionName,
    SecretFullMatch,
    SecretString,
    WholeNumber,
    aws_region_pattern,
    describe,
    is_secret,
    utf8_size,
)
from .redaction import install_logging_redaction
from .regions import RegionResolver
from .secrets import reveal
from .settings import SettingsSchema

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
            labels={
                "access_keys": "Access keys",
                "default_chain": "Default credential chain",
                "profile": "Named profile",
                "assume_role": "Assume role",
            },
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
            placeholder="AKIA...",
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
            examples=["default"],
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
            examples=["arn:aws:iam::123456789012:role/s3-connector"],
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
            "bucket's region cannot be detected. Unset: AWS_REGION, else the AWS config "
            "chain (AWS_DEFAULT_REGION, the profile's region), else us-east-1.",
            group="endpoint",
            placeholder="us-east-1",
            examples=["eu-west-1"],
        ),
    )
    endpoint_url = fields.String(
        validate=HttpUrl(),
        metadata=describe(
            "Endpoint URL",
            "Custom endpoint for S3-compatible servers (SeaweedFS, MinIO, Ceph...). Unset: "
            "the AWS config chain (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's "
            "endpoint_url, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), else Amazon S3.",
            group="endpoint",
            placeholder="Amazon S3",
            examples=["http://127.0.0.1:8333", "https://minio.example.com:9000"],
        ),
    )
    addressing_style = fields.String(
        validate=validate.OneOf(("auto", "path", "virtual")),
        metadata=describe(
            "Addressing style",
            "Bucket in the host name (virtual), in the path (path), or chosen by the SDK "
            "(auto). Unset: the profile's s3 addressing_style, else auto.",
            group="endpoint",
            labels={
                "auto": "Chosen by the SDK",
                "path": "Path style (bucket in the path)",
                "virtual": "Virtual host (bucket in the host name)",
            },
        ),
    )
    verify_tls = fields.Boolean(
        metadata=describe(
            "Verify TLS certificates",
            "Check the server's TLS certificate (false turns the check off: only for test "
            "servers). Unset or true: checked, against ca_bundle or the AWS config chain's "
            "CA bundle (AWS_CA_BUNDLE, the profile's ca_bundle), else the system's.",
            group="endpoint",
        ),
    )
    ca_bundle = fields.String(
        validate=PemFile(),
        metadata=describe(
            "CA bundle",
            "Path to a PEM file of the CA certificates to trust, for a server whose "
            "certificate a private CA signed. Unset: AWS_CA_BUNDLE or the profile's "
            "ca_bundle, else the system's.",
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
        validate=validate.Range(min=1, max=20),
        metadata=describe(
            "Maximum attempts",
            "Attempts per request, the first included, before a transient failure is "
            "reported. Unset: AWS_MAX_ATTEMPTS or the profile's max_attempts, else botocore's "
            "default for the retry mode (3; 5 in legacy).",
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
            labels={
                "CRC32C": "CRC32C",
                "CRC32": "CRC32",
                "CRC64NVME": "CRC64NVME",
                "SHA1": "SHA-1",
                "SHA256": "SHA-256",
                "MD5": "MD5 (Content-MD5)",
            },
        ),
    )
    retry_mode = fields.String(
        validate=validate.OneOf(("standard", "adaptive")),
        metadata=describe(
            "Retry mode",
            "botocore's retry mode: standard, or adaptive (adds client-side rate limiting). "
            "Unset: AWS_RETRY_MODE or the profile's retry_mode, else standard.",
            group="network",
            labels={"standard": "Standard", "adaptive": "Adaptive (client-side rate limiting)"},
        ),
    )
    data_plane = fields.String(
        load_default="auto",
        validate=validate.OneOf(DATA_PLANES),
        metadata=describe(
            "Data plane",
            "Engine that moves object content and listing pages: crt (the AWS Common "
            "Runtime: signing, HTTP, retries and parts in native code), boto3, or auto (crt "
            "when awscrt loads, else boto3; boto3 too for MD5 checksums and for the FIPS, "
            "dual-stack and accelerated endpoints the AWS configuration may ask for, which crt "
            "cannot reach). Copies, deletes, Head Object and presigned links go through boto3 "
            "either way.",
            group="network",
            labels={
                "auto": "Automatic (CRT when it loads)",
                "crt": "AWS Common Runtime",
                "boto3": "boto3",
            },
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

    rules = (
        Rule(
            "region",
            {"field": "endpoint_url", "isSet": False},
            AWS_REGION_RULE,
            pattern=aws_region_pattern(),
        ),
        Rule(
            "ca_bundle",
            when("verify_tls", False),
            "cannot be used with verify_tls false (no certificate is checked)",
            absent=True,
        ),
        Rule(
            "data_plane",
            when("checksum_algorithm", "MD5"),
            "crt cannot send MD5 checksums (checksum_algorithm MD5): use boto3 or auto",
            one_of=("auto", "boto3"),
        ),
    )
    """On Amazon S3 (no endpoint_url of the connection's own: one from the AWS config chain
    does not count, as for activities, see `harness.connection_rules`) the region must be one
    of AWS's, so a mistyped region is caught before any request; an S3-compatible server may
    name its own. CRT computes CRC and SHA checksums, not Content-MD5."""
    runtime_rules = ("secrets must be valid Unicode (no lone surrogate)",)


class Connection:
    """A validated S3 connection; hands out one thread-safe boto3 client per region.

    Region, endpoint, addressing style, retries and TLS verification go to boto3 only when
    the settings set them; otherwise botocore's own config chain applies, as in boto3 (see
    docs/aws-config.md), and `resolved` reads back what it chose, for the CRT data plane and
    `test`. boto3 is imported when first needed: a CRT transfer with keys in the settings
    and a silent config chain needs none (see `config_chain`)."""

    version = 1
    """The connection descriptor's version (see `Activity.version`)."""

    def __init__(self, settings: Mapping[str, Any] | None = None):
        install_logging_redaction()  # an embedding host's logs are redacted too
        self.settings = settings_loader.load(ConnectionSchema, settings or {})
        self._lock = threading.RLock()  # choosing the data plane may make the session
        self._clients: dict[tuple[str, bool, str | None], Any] = {}
        self._session: Any = None
        self._data_plane: DataPlane | None = None
        self._default_region: str | None = None
        self._resolved: Resolved | None = None
        self._silent_chain: Resolved | bool | None = False
        """`resolve_without_botocore` of the settings once read (it may read the config
        file); False before."""
        self.regions = RegionResolver(self)

    @classmethod
    def from_environment(cls) -> Connection:
        """The default chain: credentials, profile, region, endpoint, retries and CA bundle
        all come from the AWS environment variables and shared files, as in boto3."""
        return cls({"auth": "default_chain"})

    @property
    def default_region(self) -> str:
        """The connection's region, else AWS_REGION, else botocore's (AWS_DEFAULT_REGION,
        the profile's region), else us-east-1."""
        region = self._default_region
        if region is None:
            region = self.settings.get("region") or os.environ.get("AWS_REGION")
            if not region:
                silent = self._without_botocore()
                if silent is not None:
                    region = silent.region
                else:
                    from .botocore_chain import session_region

                    region = session_region(self.session()) or DEFAULT_REGION
            self._default_region = region
        return region

    @property
    def resolved(self) -> Resolved:
        """The values the requests use (see `Resolved`): from the settings alone when
        botocore's config chain is silent, else read once from the default region's client
        and the session's config chain."""
        resolved = self._resolved
        if resolved is None:
            resolved = self._without_botocore()
            if resolved is None:
                from .botocore_chain import resolve

                resolved = resolve(self)
            self._resolved = resolved
        return resolved

    def _without_botocore(self) -> Resolved | None:
        if self._silent_chain is False:
            self._silent_chain = resolve_without_botocore(self.settings)
        return self._silent_chain

    @property
    def checksum_algorithm(self) -> str:
        return self.settings["checksum_algorithm"]

    @property
    def endpoint_url(self) -> str | None:
        """The custom endpoint: the setting, or the AWS config chain's; None on Amazon S3."""
        return self.settings.get("endpoint_url") or self.resolved.endpoint_url

    @property
    def addressing_style(self) -> str:
        return self.resolved.addressing_style

    @property
    def max_attempts(self) -> int:
        return self.resolved.max_attempts

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

    def session(self):
        """The boto3 session of the settings' `auth`, made once."""
        with self._lock:
            if self._session is None:
                from .botocore_chain import build_session

                self._session = build_session(self.settings)
            return self._session

    def static_keys(self) -> tuple[str, str, str | None] | None:
        """The settings' own keys (access key id, secret key, session token) when `auth` is
        access_keys: what every request signs with, without a boto3 session; else None."""
        s = self.settings
        if s["auth"] != "access_keys" or not s.get("access_key_id"):
            return None
        return (
            s["access_key_id"],
            reveal(s["secret_access_key"]),
            reveal(s.get("session_token")) or None,
        )

    def credentials(self) -> Any:
        """The session's credentials (botocore's; `method` names their source), or raise
        NoCredentials when neither the settings nor the AWS chain hold any."""
        from botocore.exceptions import BotoCoreError

        from .botocore_chain import NO_CREDENTIALS

        try:
            found = self.session().get_credentials()
        except (BotoCoreError, ValueError) as exc:
            raise translate(exc, operation="credentials", target="lookup") from None
        if found is None:
            raise NoCredentials(NO_CREDENTIALS, field=None)
        return found

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
        from .botocore_chain import new_client

        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = new_client(
                    session,
                    self.settings,
                    region,
                    create_only=create_only,
                    addressing_style=addressing_style,
                    learn_redirect=self.regions.learn_redirect,
                )
                self._clients[key] = client
        return client

    def describe_chain(self) -> dict[str, Any]:
        """Where the connection goes and as whom, never a secret: the resolved region,
        endpoint (Amazon S3's when no custom one), addressing style, credential source
        (botocore's method: env, shared-credentials-file, custom-process, assume-role...; None
        when there are none) and profile."""
        session = self.session()
        found = session.get_credentials()
        resolved = self.resolved
        return {
            "region": resolved.region,
            "endpoint": resolved.endpoint_url or self.client().meta.endpoint_url,
            "addressing_style": resolved.addressing_style,
            "credentials": getattr(found, "method", None) if found is not None else None,
            "profile": session.profile_name,
        }

    def test(self, bucket: str | None = None) -> dict[str, Any]:
        """Check that the credentials work and S3 answers; never raises for S3 failures.
        The result names the resolved region, endpoint, addressing style, credential source
        and profile (`describe_chain`)."""
        from botocore.exceptions import BotoCoreError, ClientError

        if bucket is not None:
            settings_loader.load(BucketOnly, {"bucket": bucket})
        operation, permission = (
            ("HeadBucket", "s3:ListBucket") if bucket else ("ListBuckets", "s3:ListAllMyBuckets")
        )
        started = time.monotonic()
        result: dict[str, Any] = {"ok": True, "call": operation}
        try:
            self.credentials()
            result.update(self.describe_chain())
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
                result.update(buckets=len(response.get("Buckets", [])))
        except (ClientError, BotoCoreError, ConnectorError, ValueError) as exc:
            error = translate(exc, operation=operation, target=bucket or "")
            result.update(ok=False, error=error.kind, message=str(error))
            with contextlib.suppress(Exception):  # as much of it as resolves
                for name, value in self.describe_chain().items():
                    result.setdefault(name, value)
            if not isinstance(error, NoCredentials | InvalidInput):
                result["permission"] = permission
        result["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
        return result


class BucketOnly(Schema):
    """Just a bucket name, checked against S3's naming rules."""

    bucket = BucketName(required=True)
