"""What the connection takes from boto3 and botocore: sessions (keys, the default chain,
profiles, assumed roles), clients and their config, and botocore's config chain read back.
Imported when a request first needs boto3, not with the connection (botocore takes about
0.2 s to import)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.configprovider import ConfiguredEndpointProvider
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    DeferredRefreshableCredentials,
    RefreshableCredentials,
)
from botocore.session import Session as BotocoreSession
from botocore.utils import parse_timestamp

from .config_chain import Resolved, default_attempts, tls_verify
from .errors import NoCredentials
from .redaction import register
from .secrets import reveal

if TYPE_CHECKING:
    from .connection import Connection

POOL_SIZE = 64
"""HTTP connections per client: the harness runs up to 8 documents at once, each with up to
8 transfer threads."""

NO_CREDENTIALS = (
    "no credentials found: none in the connection's settings, nor in the AWS chain "
    "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the profile's keys, credential_process, "
    "SSO or role, a container or instance role)"
)


def build_session(settings: Mapping[str, Any]) -> boto3.Session:
    """The boto3 session of the settings' `auth`, its secrets registered for redaction."""
    session = _session(settings)
    register_credentials(session)
    return session


def _session(settings: Mapping[str, Any]) -> boto3.Session:
    auth = settings["auth"]
    if auth == "profile":
        return boto3.Session(profile_name=settings["profile"], botocore_session=_botocore_session())
    if settings.get("access_key_id") and auth in ("access_keys", "assume_role"):
        base = boto3.Session(
            aws_access_key_id=settings["access_key_id"],
            aws_secret_access_key=reveal(settings["secret_access_key"]),
            aws_session_token=reveal(settings.get("session_token")),
            botocore_session=_botocore_session(),
        )
    else:
        base = boto3.Session(botocore_session=_botocore_session())
    if auth != "assume_role":
        return base
    register_credentials(base)
    return _assume_role(settings, base)


def _assume_role(settings: Mapping[str, Any], base: boto3.Session) -> boto3.Session:
    extra = {
        "RoleSessionName": settings["session_name"],
        "DurationSeconds": settings["duration_seconds"],
    }
    if settings.get("external_id"):
        extra["ExternalId"] = settings["external_id"]
    source = base.get_credentials()
    if source is None:
        raise NoCredentials(f"{NO_CREDENTIALS} (to assume the role with)")
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=base._session.create_client,
        source_credentials=source,
        role_arn=settings["role_arn"],
        extra_args=extra,
    )
    botocore_session = _botocore_session()
    botocore_session._credentials = DeferredRefreshableCredentials(
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    return boto3.Session(botocore_session=botocore_session)


def client_config(
    settings: Mapping[str, Any], region: str, addressing_style: str | None = None
) -> Config:
    """Only what the settings set (and `addressing_style`, an override) goes in: botocore
    takes the rest from its config chain. botocore's checksums are off: uploads send the
    connector's own, and downloads verify them as they stream (`uploads`, `downloads`)."""
    chosen: dict[str, Any] = {}
    style = addressing_style or settings.get("addressing_style")
    if style:
        chosen["s3"] = {"addressing_style": style}
    retries = {}
    if settings.get("max_attempts") is not None:
        retries["total_max_attempts"] = settings["max_attempts"]
    if settings.get("retry_mode"):
        retries["mode"] = settings["retry_mode"]
    if retries:
        chosen["retries"] = retries
    return Config(
        region_name=region,
        signature_version="s3v4",
        connect_timeout=settings["connect_timeout"],
        read_timeout=settings["read_timeout"],
        max_pool_connections=POOL_SIZE,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        **chosen,
    )


def new_client(
    session: boto3.Session,
    settings: Mapping[str, Any],
    region: str,
    *,
    create_only: bool,
    addressing_style: str | None,
    learn_redirect: Callable[..., None],
):
    """An S3 client of the settings in `region` (see `Connection.client`)."""
    if settings.get("verify_tls") is False:
        verify: bool | str | None = False
    else:
        verify = settings.get("ca_bundle") or None  # None: botocore's chain
    client = session.client(
        "s3",
        region_name=region,
        endpoint_url=settings.get("endpoint_url") or None,
        verify=verify,
        config=client_config(settings, region, addressing_style),
    )
    client.meta.events.register("after-call.s3", learn_redirect)
    client.meta.events.register("before-call.s3.GetObject", _leave_response_checksums_to_the_reader)
    if create_only:
        for operation in ("PutObject", "CompleteMultipartUpload"):
            client.meta.events.register(f"before-parameter-build.s3.{operation}", _require_absent)
    return client


def session_region(session: boto3.Session) -> str | None:
    """botocore's `region` (AWS_DEFAULT_REGION, the profile's region)."""
    return session._session.get_config_variable("region")


def resolve(connection: Connection) -> Resolved:
    """`Resolved` as botocore reads its config chain: from the default region's client and
    the session's config."""
    settings = connection.settings
    config_session = connection.session()._session
    config = connection.client().meta.config
    retries = config.retries or {}
    mode = retries.get("mode") or "standard"
    chain_ca_bundle = config_session.get_config_variable("ca_bundle")
    endpoint_url = settings.get("endpoint_url") or configured_endpoint(config_session)
    return Resolved(
        region=connection.default_region,
        endpoint_url=endpoint_url,
        addressing_style=(config.s3 or {}).get("addressing_style") or "auto",
        max_attempts=retries.get("total_max_attempts") or default_attempts(mode),
        retry_mode=mode,
        verify=tls_verify(settings, chain_ca_bundle, os.environ),
        crt_cannot_follow=() if endpoint_url else endpoint_variants(config),
    )


def endpoint_variants(config: Config) -> tuple[str, ...]:
    """The Amazon S3 endpoint variants the client's config turns on (FIPS, dual-stack,
    Transfer Acceleration), by the name of their setting."""
    s3 = config.s3 or {}
    chosen = {
        "use_fips_endpoint": config.use_fips_endpoint,
        "use_dualstack_endpoint": config.use_dualstack_endpoint or s3.get("use_dualstack_endpoint"),
        "use_accelerate_endpoint": s3.get("use_accelerate_endpoint"),
    }
    return tuple(name for name, value in chosen.items() if value)


def parse_timestamp_fast(value: str | int | float) -> datetime:
    """botocore's timestamp parser, with a fast path for the ISO 8601 of S3's XML responses
    (dateutil otherwise dominates the CPU time of a large listing)."""
    if isinstance(value, str) and value[:1].isdigit():
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return parse_timestamp(value)


def configured_endpoint(session: BotocoreSession) -> str | None:
    """The endpoint botocore's config chain gives an S3 client made without endpoint_url:
    AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's `services` s3 endpoint_url, then its
    endpoint_url; none under AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's
    ignore_configured_endpoint_urls. What `Session.create_client` and `ClientArgsCreator`
    do, with botocore's own provider."""
    if session.get_config_variable("ignore_configured_endpoint_urls"):
        return None
    provider = ConfiguredEndpointProvider(
        full_config=session.full_config,
        scoped_config=session.get_scoped_config(),
        client_name="s3",
    )
    return provider.provide() or None


def _botocore_session() -> BotocoreSession:
    session = BotocoreSession()
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=parse_timestamp_fast
    )
    return session


def _leave_response_checksums_to_the_reader(context: dict, **_: Any) -> None:
    """GetObject asks for checksums (ChecksumMode) so that `downloads.ObjectReader` verifies
    the content, resumes included; botocore would check them again and, on a mismatch,
    raise outside the taxonomy before the reader could."""
    context.get("checksum", {}).pop("response_algorithms", None)


def register_credentials(session: boto3.Session) -> None:
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
