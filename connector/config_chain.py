"""What the connection's requests use (`Resolved`), and those values read without botocore
when its config chain has nothing to add to the settings.

botocore takes about 0.2 s to import. A process that runs one small transfer on the CRT data
plane, with keys and a region in its settings, need not pay it: when no environment variable
and no key of the shared config file's default profile could change a value, botocore's chain
gives its defaults, known here. `resolve_without_botocore` answers only then, and None
otherwise (the connection then asks botocore; see `botocore_chain.resolve`). A test holds the
two to the same answers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Resolved:
    """What the connection's requests use: each value from the connection's settings when
    they set it, else from botocore's config chain (environment, then the profile in the
    shared config file). Both data planes use these."""

    region: str
    """The default region: settings, AWS_REGION, botocore's `region`, else us-east-1."""
    endpoint_url: str | None
    """A custom endpoint (settings, or botocore's configured endpoint); None on Amazon S3."""
    addressing_style: str
    """auto, path or virtual: as the default client's `s3` config has it."""
    max_attempts: int
    """Attempts per request, the first included: the client's retry config."""
    retry_mode: str
    """standard, adaptive or legacy: the client's retry config."""
    verify: bool | str
    """False, True (the default trust store) or the path of a CA bundle."""
    crt_cannot_follow: tuple[str, ...] = ()
    """What of the chain the CRT data plane cannot honour: `use_fips_endpoint`,
    `use_dualstack_endpoint` and `use_accelerate_endpoint` on Amazon S3 (CRT sends to
    s3.REGION.amazonaws.com); set only by keys and variables that botocore reads."""

    @property
    def verify_tls(self) -> bool:
        return self.verify is not False

    @property
    def ca_bundle(self) -> str | None:
        return self.verify if isinstance(self.verify, str) else None


DEFAULT_REGION = "us-east-1"
STANDARD_MAX_ATTEMPTS = 3
"""botocore's attempts in its standard and adaptive retry modes (`retries.standard`)."""
LEGACY_MAX_ATTEMPTS = 5
"""Attempts of botocore's legacy retry mode when none are configured (its _retry.json)."""

SILENT_VARIABLES = frozenset(
    {
        "AWS_REGION",  # these three are read here, as the connection and botocore read them
        "AWS_DEFAULT_REGION",
        "AWS_CA_BUNDLE",
        "AWS_CONFIG_FILE",  # where the config file is: read here too
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_PAGER",
        "AWS_DEFAULT_OUTPUT",
        "AWS_EC2_METADATA_DISABLED",
    }
)
"""AWS_* variables that change none of `Resolved`'s values (credentials are not among them)."""
SILENT_PROFILE_KEYS = frozenset(
    {"output", "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "cli_pager"}
)
"""Keys of the default profile that change none of `Resolved`'s values."""
READ_PROFILE_KEYS = frozenset({"region", "ca_bundle"})
"""Keys of the default profile read here, as botocore reads them."""


def default_attempts(mode: str) -> int:
    """botocore's attempts per request when no max_attempts is configured, by retry mode."""
    return LEGACY_MAX_ATTEMPTS if mode == "legacy" else STANDARD_MAX_ATTEMPTS


def resolve_without_botocore(
    settings: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> Resolved | None:
    """`Resolved` from the settings alone, when botocore's config chain is silent on every
    value (see the module); None when it may have something to say."""
    environ = os.environ if environ is None else environ
    if settings.get("auth") == "profile":
        return None
    if any(name.startswith("AWS_") and name not in SILENT_VARIABLES for name in environ):
        return None
    profile = _default_profile(environ)
    if profile is None or set(profile) - SILENT_PROFILE_KEYS - READ_PROFILE_KEYS:
        return None
    region = (
        settings.get("region")
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
        or profile.get("region")
        or DEFAULT_REGION
    )
    mode = settings.get("retry_mode") or "standard"
    chain_ca_bundle = environ.get("AWS_CA_BUNDLE") or profile.get("ca_bundle")
    return Resolved(
        region=region,
        endpoint_url=settings.get("endpoint_url") or None,
        addressing_style=settings.get("addressing_style") or "auto",
        max_attempts=settings.get("max_attempts") or default_attempts(mode),
        retry_mode=mode,
        verify=tls_verify(settings, chain_ca_bundle, environ),
    )


def tls_verify(
    settings: Mapping[str, Any], chain_ca_bundle: str | None, environ: Mapping[str, str]
) -> bool | str:
    """`Resolved.verify`: False when verify_tls is false; else the settings' CA bundle, the
    chain's (AWS_CA_BUNDLE, the profile's ca_bundle), REQUESTS_CA_BUNDLE (as botocore's
    Endpoint reads it), else True."""
    if settings.get("verify_tls") is False:
        return False
    return settings.get("ca_bundle") or chain_ca_bundle or environ.get("REQUESTS_CA_BUNDLE") or True


def _default_profile(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The default profile's keys in the shared config file ({} when there is no file), as
    botocore's own parser reads them; None when the file cannot be read."""
    path = environ.get("AWS_CONFIG_FILE") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".aws", "config"
    )
    path = os.path.expanduser(path)
    if not os.path.exists(path):
        return {}
    from botocore.configloader import raw_config_parse  # the parser alone: no session

    try:
        return dict(raw_config_parse(path).get("default", {}))
    except Exception:
        return None
