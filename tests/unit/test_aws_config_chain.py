"""The AWS config chain, honoured as boto3 honours it (docs/aws-config.md lists each variable
and key with its test here).

Every test runs in a temporary HOME with its own ~/.aws/config and ~/.aws/credentials, every
AWS_* variable (and REQUESTS_CA_BUNDLE) cleared first. Each checks what the connection
resolved against the value expected and against what a plain boto3 client, made in the same
environment with no arguments but the service, resolves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner
from moto import mock_aws

from s3_connector.cli.main import cli
from s3_connector.connector.connection import Connection
from s3_connector.connector.errors import InvalidInput, NoCredentials

SECRET = "chain-secret-key-0123456789"
CA_PEM = textwrap.dedent(
    """\
    -----BEGIN CERTIFICATE-----
    MIIBszCCAVmgAwIBAgIUb2Zha2VjYWZvcnBhcnNpbmdvbmx5MAoGCCqGSM49BAMC
    -----END CERTIFICATE-----
    """
)
"""Enough for the ca_bundle field's check (a PEM certificate block); never used for TLS here
(tests/integration/test_config_chain_seaweedfs.py uses a real private CA)."""


class AwsHome:
    """A temporary HOME with ~/.aws/config and ~/.aws/credentials."""

    def __init__(self, root: Path):
        self.root = root
        self.aws = root / ".aws"
        self.aws.mkdir()
        self.config = self.aws / "config"
        self.credentials = self.aws / "credentials"
        self.config.write_text("")
        self.credentials.write_text("")

    def write_config(self, text: str) -> None:
        self.config.write_text(textwrap.dedent(text))

    def write_credentials(self, text: str) -> None:
        self.credentials.write_text(textwrap.dedent(text))

    def ca_bundle(self, name: str = "ca.pem") -> str:
        path = self.root / name
        path.write_text(CA_PEM)
        return str(path)


@pytest.fixture
def home(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "REQUESTS_CA_BUNDLE":
            monkeypatch.delenv(name)
    root = tmp_path / "home"
    root.mkdir()
    aws_home = AwsHome(root)
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_home.config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws_home.credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # nothing leaves loopback
    return aws_home


@pytest.fixture
def keys(home):
    """Credentials in the default profile of ~/.aws/credentials."""
    home.write_credentials(
        f"""\
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = {SECRET}
        """
    )


def plain_boto3():
    """What boto3 itself makes of the same environment and files."""
    return boto3.session.Session().client("s3")


# --- region ---------------------------------------------------------------------------------


def test_profile_region(home, keys):
    home.write_config("[default]\nregion = eu-west-2\n")
    connection = Connection({})
    assert connection.default_region == "eu-west-2" == plain_boto3().meta.region_name
    assert connection.client().meta.region_name == "eu-west-2"


def test_aws_default_region_beats_the_profile(home, keys, monkeypatch):
    home.write_config("[default]\nregion = eu-west-2\n")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert Connection({}).default_region == "ap-south-1" == plain_boto3().meta.region_name


def test_aws_region_beats_aws_default_region(home, keys, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    monkeypatch.setenv("AWS_REGION", "ca-central-1")  # aws-cli v2 and the other SDKs' name
    assert Connection({}).default_region == "ca-central-1"


def test_the_connection_region_beats_the_chain(home, keys, monkeypatch):
    home.write_config("[default]\nregion = eu-west-2\n")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert Connection({"region": "us-west-2"}).client().meta.region_name == "us-west-2"


def test_no_region_anywhere_is_us_east_1(home, keys):
    assert Connection({}).default_region == "us-east-1"


# --- profiles -------------------------------------------------------------------------------


def test_aws_profile_picks_the_profile(home, monkeypatch):
    home.write_config("[profile work]\nregion = eu-north-1\n")
    home.write_credentials(
        f"[work]\naws_access_key_id = AKIAWORK\naws_secret_access_key = {SECRET}\n"
    )
    monkeypatch.setenv("AWS_PROFILE", "work")
    connection = Connection({})
    chain = connection.describe_chain()
    assert chain["profile"] == "work" and chain["region"] == "eu-north-1"
    assert chain["credentials"] == "shared-credentials-file"
    assert connection.session().get_credentials().access_key == "AKIAWORK"


def test_aws_default_profile_picks_the_profile(home, monkeypatch):
    home.write_config("[profile old]\nregion = sa-east-1\n")
    monkeypatch.setenv("AWS_DEFAULT_PROFILE", "old")
    assert Connection({}).describe_chain()["profile"] == "old"
    assert Connection({}).default_region == "sa-east-1" == plain_boto3().meta.region_name


def test_auth_profile_reads_that_profile_of_the_config_file(home):
    home.write_config(
        """\
        [profile dev]
        region = eu-west-3
        s3 =
            addressing_style = path
        """
    )
    home.write_credentials(
        f"[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = {SECRET}\n"
    )
    resolved = Connection({"auth": "profile", "profile": "dev"}).resolved
    assert (resolved.region, resolved.addressing_style) == ("eu-west-3", "path")


# --- addressing style -----------------------------------------------------------------------


def test_profile_s3_addressing_style(home, keys):
    home.write_config("[default]\ns3 =\n    addressing_style = path\n")
    connection = Connection({})
    assert connection.resolved.addressing_style == "path"
    assert connection.client().meta.config.s3["addressing_style"] == "path"
    assert plain_boto3().meta.config.s3["addressing_style"] == "path"


def test_response_links_follow_the_profile_addressing_style(home, keys):
    from s3_connector.activities.common import object_url

    connection = Connection()
    assert object_url(connection, "b", "k", "us-east-1") == "https://b.s3.us-east-1.amazonaws.com/k"
    home.write_config("[default]\ns3 =\n    addressing_style = path\n")
    connection = Connection()
    assert object_url(connection, "b", "k", "us-east-1") == "https://s3.us-east-1.amazonaws.com/b/k"


def test_the_connection_addressing_style_beats_the_profile(home, keys):
    home.write_config("[default]\ns3 =\n    addressing_style = path\n")
    connection = Connection({"addressing_style": "virtual"})
    assert connection.resolved.addressing_style == "virtual"
    assert connection.client().meta.config.s3["addressing_style"] == "virtual"


def test_no_addressing_style_anywhere_is_auto(home, keys):
    assert Connection({}).resolved.addressing_style == "auto"


# --- retries --------------------------------------------------------------------------------


def attempts(client) -> int:
    """How many times the client sends a request S3 answers 500 to (botocore's own retries:
    the answer is given at `before-send`, inside them)."""
    sent = []

    def internal_error(request, **_):
        sent.append(request.url)
        return AWSResponse(request.url, 500, {}, _Raw(INTERNAL_ERROR))

    client.meta.events.register("before-send.s3.HeadBucket", internal_error)
    with pytest.raises(Exception):  # noqa: B017 - botocore's ClientError, whatever the class
        client.head_bucket(Bucket="some-bucket")
    return len(sent)


INTERNAL_ERROR = (
    b"<Error><Code>InternalError</Code><Message>try again</Message>"
    b"<RequestId>R1</RequestId></Error>"
)


class _Raw:
    """The raw body of a made-up HTTP response, as botocore reads it."""

    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


def test_aws_max_attempts(home, keys, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    connection = Connection({})
    assert connection.resolved.max_attempts == 1
    assert connection.max_attempts == 1  # what downloads resume with, too
    assert attempts(connection.client()) == 1 == attempts(plain_boto3())


def test_profile_max_attempts(home, keys):
    home.write_config("[default]\nmax_attempts = 2\n")
    connection = Connection({})
    assert connection.resolved.max_attempts == 2
    assert attempts(connection.client()) == 2 == attempts(plain_boto3())


def test_the_connection_max_attempts_beats_the_chain(home, keys, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "4")
    connection = Connection({"max_attempts": 1})
    assert connection.resolved.max_attempts == 1 and attempts(connection.client()) == 1


def test_no_max_attempts_anywhere_is_botocores_default(home, keys):
    connection = Connection({})
    assert connection.resolved.max_attempts == 3
    assert connection.client().meta.config.retries == plain_boto3().meta.config.retries


def test_aws_retry_mode(home, keys, monkeypatch):
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    connection = Connection({})
    assert connection.resolved.retry_mode == "adaptive"
    assert connection.client().meta.config.retries["mode"] == "adaptive"
    assert plain_boto3().meta.config.retries["mode"] == "adaptive"


def test_profile_retry_mode_legacy(home, keys):
    home.write_config("[default]\nretry_mode = legacy\n")
    resolved = Connection({}).resolved
    assert (resolved.retry_mode, resolved.max_attempts) == ("legacy", 5)


def test_the_connection_retry_mode_beats_the_chain(home, keys, monkeypatch):
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    assert Connection({"retry_mode": "standard"}).resolved.retry_mode == "standard"


# --- endpoint -------------------------------------------------------------------------------


def test_aws_endpoint_url(home, keys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9001")
    connection = Connection({})
    assert connection.endpoint_url == "http://127.0.0.1:9001"
    assert connection.client().meta.endpoint_url == plain_boto3().meta.endpoint_url
    assert connection.describe_chain()["endpoint"] == "http://127.0.0.1:9001"


def test_aws_endpoint_url_s3_beats_aws_endpoint_url(home, keys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9001")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9002")
    connection = Connection({})
    assert connection.endpoint_url == "http://127.0.0.1:9002" == plain_boto3().meta.endpoint_url
    assert connection.client().meta.endpoint_url == "http://127.0.0.1:9002"


def test_profile_endpoint_url(home, keys):
    home.write_config("[default]\nendpoint_url = http://127.0.0.1:9003\n")
    connection = Connection({})
    assert connection.endpoint_url == "http://127.0.0.1:9003" == plain_boto3().meta.endpoint_url
    assert connection.test()["endpoint"] == "http://127.0.0.1:9003"  # never "null"


def test_profile_services_s3_endpoint_url(home, keys):
    home.write_config(
        """\
        [default]
        services = local
        endpoint_url = http://127.0.0.1:9004

        [services local]
        s3 =
            endpoint_url = http://127.0.0.1:9005
        """
    )
    connection = Connection({})
    assert connection.endpoint_url == "http://127.0.0.1:9005" == plain_boto3().meta.endpoint_url


def test_aws_ignore_configured_endpoint_urls(home, keys, monkeypatch):
    home.write_config("[default]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:9003\n")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9001")
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    connection = Connection({})
    assert connection.endpoint_url is None  # Amazon S3
    assert connection.client().meta.endpoint_url == plain_boto3().meta.endpoint_url
    assert connection.describe_chain()["endpoint"] == "https://s3.eu-west-1.amazonaws.com"


def test_profile_ignore_configured_endpoint_urls(home, keys):
    home.write_config(
        "[default]\nendpoint_url = http://127.0.0.1:9003\nignore_configured_endpoint_urls = true\n"
    )
    assert Connection({}).endpoint_url is None
    assert "amazonaws.com" in plain_boto3().meta.endpoint_url


def test_the_connection_endpoint_url_beats_the_chain(home, keys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9002")
    connection = Connection({"endpoint_url": "http://127.0.0.1:9009"})
    assert connection.client().meta.endpoint_url == "http://127.0.0.1:9009"


# --- TLS ------------------------------------------------------------------------------------


def boto3_verify(client):
    """The `verify` botocore's HTTP session was made with (a CA path, True or False)."""
    return client._endpoint.http_session._verify


def test_aws_ca_bundle(home, keys, monkeypatch):
    bundle = home.ca_bundle()
    monkeypatch.setenv("AWS_CA_BUNDLE", bundle)
    connection = Connection({})
    assert connection.resolved.verify == bundle and connection.resolved.ca_bundle == bundle
    assert boto3_verify(connection.client()) == bundle == boto3_verify(plain_boto3())


def test_profile_ca_bundle(home, keys):
    bundle = home.ca_bundle()
    home.write_config(f"[default]\nca_bundle = {bundle}\n")
    connection = Connection({})
    assert connection.resolved.ca_bundle == bundle
    assert boto3_verify(connection.client()) == bundle == boto3_verify(plain_boto3())


def test_requests_ca_bundle(home, keys, monkeypatch):
    bundle = home.ca_bundle()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    connection = Connection({})
    assert connection.resolved.ca_bundle == bundle
    assert boto3_verify(connection.client()) == bundle == boto3_verify(plain_boto3())


def test_the_ca_bundle_field_beats_the_chain(home, keys, monkeypatch):
    monkeypatch.setenv("AWS_CA_BUNDLE", home.ca_bundle("chain.pem"))
    mine = home.ca_bundle("mine.pem")
    connection = Connection({"ca_bundle": mine})
    assert connection.resolved.ca_bundle == mine == boto3_verify(connection.client())


def test_verify_tls_true_keeps_the_chains_ca_bundle(home, keys, monkeypatch):
    bundle = home.ca_bundle()
    monkeypatch.setenv("AWS_CA_BUNDLE", bundle)
    connection = Connection({"verify_tls": True})  # as many existing connection files say
    assert boto3_verify(connection.client()) == bundle


def test_verify_tls_false_turns_verification_off(home, keys, monkeypatch):
    monkeypatch.setenv("AWS_CA_BUNDLE", home.ca_bundle())
    connection = Connection({"verify_tls": False})
    assert connection.resolved.verify is False and boto3_verify(connection.client()) is False


def test_no_ca_bundle_anywhere_verifies_with_the_default_store(home, keys):
    connection = Connection({})
    assert connection.resolved.verify is True
    assert boto3_verify(connection.client()) is True


@pytest.mark.parametrize(
    ("make", "rule"),
    [
        (lambda root: str(root / "absent.pem"), "no such file"),
        (lambda root: str(root), "not a regular file"),
        (lambda root: _written(root / "not.pem", "hello"), "no BEGIN CERTIFICATE"),
        (lambda root: "", "readable PEM file"),
    ],
)
def test_a_bad_ca_bundle_is_one_line_naming_the_field(home, make, rule):
    with pytest.raises(InvalidInput) as caught:
        Connection({"ca_bundle": make(home.root)})
    assert caught.value.field == "ca_bundle"
    assert rule in str(caught.value) and "\n" not in str(caught.value)


def test_ca_bundle_with_verify_tls_false_is_refused(home):
    with pytest.raises(InvalidInput) as caught:
        Connection({"ca_bundle": home.ca_bundle(), "verify_tls": False})
    assert caught.value.field == "ca_bundle" and "verify_tls false" in str(caught.value)


def test_a_bad_ca_bundle_from_the_cli_exits_2_without_traceback(home, tmp_path):
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps({"ca_bundle": str(tmp_path / "absent.pem")}))
    result = CliRunner().invoke(cli, ["connection", "test", "-c", str(conn)])
    assert result.exit_code == 2
    assert result.output.startswith("error: connection.ca_bundle: must be the path of a readable")
    assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output


def _written(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


# --- credentials: their source, and none --------------------------------------------------


def test_env_credentials(home, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-0123")
    credentials = Connection({}).credentials()
    assert (credentials.method, credentials.access_key, credentials.token) == (
        "env",
        "AKIAENV",
        "token-0123",
    )


def test_shared_credentials_file(home, keys):
    assert Connection({}).describe_chain()["credentials"] == "shared-credentials-file"


def test_keys_in_the_config_file(home):
    home.write_config(f"[default]\naws_access_key_id = AKIACFG\naws_secret_access_key = {SECRET}\n")
    assert Connection({}).describe_chain()["credentials"] == "config-file"


def test_credential_process(home, tmp_path):
    script = tmp_path / "creds.py"
    script.write_text(
        "import json\n"
        f"print(json.dumps({{'Version': 1, 'AccessKeyId': 'AKIAPROC', "
        f"'SecretAccessKey': '{SECRET}'}}))\n"
    )
    home.write_config(f"[default]\ncredential_process = {sys.executable} {script}\n")
    connection = Connection({})
    assert connection.describe_chain()["credentials"] == "custom-process"
    assert connection.credentials().access_key == "AKIAPROC"


def test_role_arn_with_source_profile(home, keys):
    home.write_config(
        """\
        [profile deploy]
        role_arn = arn:aws:iam::123456789012:role/deploy
        source_profile = default
        """
    )
    chain = Connection({"auth": "profile", "profile": "deploy"}).describe_chain()
    assert (chain["credentials"], chain["profile"]) == ("assume-role", "deploy")


def test_connection_keys_are_explicit(home):
    settings = {"auth": "access_keys", "access_key_id": "AKIAX", "secret_access_key": SECRET}
    assert Connection(settings).describe_chain()["credentials"] == "explicit"


def test_connection_test_names_the_source_and_never_a_secret(home, keys):
    home.write_config("[default]\nregion = eu-west-2\ns3 =\n    addressing_style = path\n")
    with mock_aws():
        # moto sets credentials in the environment while it mocks: set them aside, so that
        # the shared credentials file is the source
        names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        aside = {name: os.environ.pop(name) for name in names if name in os.environ}
        try:
            result = CliRunner().invoke(cli, ["connection", "test"])
        finally:
            os.environ.update(aside)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown == {
        **shown,
        "ok": True,
        "region": "eu-west-2",
        "addressing_style": "path",
        "credentials": "shared-credentials-file",
        "profile": "default",
        "endpoint": "https://s3.eu-west-2.amazonaws.com",
    }
    assert SECRET not in result.output


def test_no_credentials_is_its_own_error(home):
    connection = Connection({})
    with pytest.raises(NoCredentials) as caught:
        connection.credentials()
    assert str(caught.value).startswith("no credentials found")
    result = connection.test()
    assert result["ok"] is False and result["error"] == "no_credentials"
    assert result["message"].startswith("no credentials found")
    assert "permission" not in result  # not an access_denied on s3:ListAllMyBuckets
    assert result["credentials"] is None and result["region"] == "us-east-1"


def test_no_credentials_from_the_cli(home):
    result = CliRunner().invoke(cli, ["connection", "test"])
    assert result.exit_code == NoCredentials.exit_code == 3
    [line] = result.output.splitlines()
    shown = json.loads(line)
    assert shown["error"] == "no_credentials" and "Traceback" not in result.output


@pytest.mark.parametrize("data_plane", ["crt", "boto3"])
def test_no_credentials_from_s3c_run(home, tmp_path, data_plane):
    home.write_config("[default]\nendpoint_url = http://127.0.0.1:9\n")  # never reached
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps({"data_plane": data_plane}))
    source = tmp_path / "a.txt"
    source.write_text("a")
    args = ["run", "put_object", "-c", str(conn), "-p", "bucket=demo", "-p", "key=a"]
    result = CliRunner().invoke(cli, [*args, "--input", str(source)])
    assert result.exit_code == NoCredentials.exit_code
    [line] = result.output.splitlines()
    assert line.startswith("error: ") and "no credentials found" in line


# --- the CRT data plane uses the same values -----------------------------------------------


def test_the_crt_plane_uses_the_resolved_values(home, keys, monkeypatch):
    pytest.importorskip("awscrt")
    home.write_config(
        """\
        [default]
        region = eu-west-2
        endpoint_url = https://127.0.0.1:9443/base
        max_attempts = 1
        s3 =
            addressing_style = virtual
        """
    )
    connection = Connection({"data_plane": "crt"})
    assert connection.data_plane.name == "crt"
    transport = connection.data_plane._transport(connection.default_region)
    try:
        assert transport.region == "eu-west-2"
        assert (transport._https, transport._host, transport._base_path) == (
            True,
            "127.0.0.1:9443",
            "/base",
        )
        assert transport.addressing_style == "virtual"
    finally:
        connection.close()


# --- read without botocore (config_chain) ---------------------------------------------------


ENDPOINT_SETTINGS = {
    "region": "eu-west-3",
    "endpoint_url": "http://127.0.0.1:9000",
    "addressing_style": "path",
    "max_attempts": 7,
    "retry_mode": "adaptive",
}


@pytest.mark.parametrize(
    ("variables", "config", "settings", "silent"),
    [
        ({}, "", {}, True),
        ({}, "[default]\nregion = eu-west-2\noutput = json\n", {}, True),
        ({"AWS_DEFAULT_REGION": "eu-central-1"}, "[default]\nregion = eu-west-2\n", {}, True),
        ({"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "eu-central-1"}, "", {}, True),
        ({}, "[default]\nregion = eu-west-2\n", {"region": "sa-east-1"}, True),
        ({}, "", ENDPOINT_SETTINGS, True),
        ({"AWS_CA_BUNDLE": "{bundle}"}, "", {}, True),
        ({}, "[default]\nca_bundle = {bundle}\n", {}, True),
        ({"REQUESTS_CA_BUNDLE": "{bundle}"}, "", {}, True),
        ({"AWS_CA_BUNDLE": "{bundle}"}, "", {"verify_tls": False}, True),
        ({}, "[default]\nregion = eu-west-2\n[profile other]\nmax_attempts = 9\n", {}, True),
        ({"AWS_MAX_ATTEMPTS": "7"}, "", {}, False),
        ({"AWS_RETRY_MODE": "legacy"}, "", {}, False),
        ({}, "[default]\nretry_mode = legacy\n", {}, False),
        ({}, "[default]\nmax_attempts = 2\n", {}, False),
        ({}, "[default]\ns3 =\n  addressing_style = path\n", {}, False),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:9001"}, "", {}, False),
        ({}, "[default]\nendpoint_url = http://127.0.0.1:9001\n", {}, False),
        ({}, "[default]\ndefaults_mode = standard\n", {}, False),
        ({"AWS_PROFILE": "other"}, "[profile other]\nregion = eu-west-1\n", {}, False),
        ({}, "[default]\nnot = an ini file\n[", {}, False),
    ],
)
def test_read_without_botocore_exactly_when_the_chain_is_silent(
    home, keys, monkeypatch, variables, config, settings, silent
):
    """When the chain has nothing to add, `resolve_without_botocore` answers, and its answer
    is botocore's; otherwise it declines and botocore is asked."""
    from s3_connector.connector import botocore_chain
    from s3_connector.connector.config_chain import resolve_without_botocore

    bundle = home.ca_bundle()
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(bundle=bundle))
    home.write_config(config.format(bundle=bundle))
    connection = Connection(settings)
    lean = resolve_without_botocore(connection.settings)
    assert (lean is not None) is silent
    if silent:
        assert lean == botocore_chain.resolve(connection)
        assert connection.resolved == lean


def test_the_attempts_of_the_standard_mode_are_botocores():
    from botocore.retries.standard import DEFAULT_MAX_ATTEMPTS

    from s3_connector.connector.config_chain import STANDARD_MAX_ATTEMPTS

    assert STANDARD_MAX_ATTEMPTS == DEFAULT_MAX_ATTEMPTS


# --- endpoint variants the CRT plane cannot reach -----------------------------------------------


@pytest.mark.parametrize(
    ("variables", "config", "settings", "variants"),
    [
        ({}, "", {}, ()),
        ({"AWS_USE_FIPS_ENDPOINT": "true"}, "", {}, ("use_fips_endpoint",)),
        ({}, "[default]\nuse_fips_endpoint = true\n", {}, ("use_fips_endpoint",)),
        ({"AWS_USE_DUALSTACK_ENDPOINT": "true"}, "", {}, ("use_dualstack_endpoint",)),
        (
            {},
            "[default]\ns3 =\n  use_dualstack_endpoint = true\n",
            {},
            ("use_dualstack_endpoint",),
        ),
        (
            {},
            "[default]\ns3 =\n  use_accelerate_endpoint = true\n",
            {},
            ("use_accelerate_endpoint",),
        ),
        (
            {"AWS_USE_FIPS_ENDPOINT": "true"},
            "[default]\ns3 =\n  use_accelerate_endpoint = true\n",
            {},
            ("use_fips_endpoint", "use_accelerate_endpoint"),
        ),
        ({"AWS_USE_FIPS_ENDPOINT": "true"}, "", {"endpoint_url": "http://127.0.0.1:9000"}, ()),
        ({}, "[default]\ns3 =\n  use_accelerate_endpoint = false\n", {}, ()),
    ],
)
def test_auto_takes_boto3_when_the_chain_asks_for_an_endpoint_crt_cannot_reach(
    home, keys, monkeypatch, variables, config, settings, variants
):
    """FIPS, dual-stack and Transfer Acceleration endpoints are botocore's; CRT sends to
    s3.REGION.amazonaws.com, so `auto` takes boto3 whenever the chain turns one on."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    home.write_config(config)
    connection = Connection({"region": "eu-west-1", **settings})
    try:
        assert connection.resolved.crt_cannot_follow == variants
        assert connection.data_plane.name == ("boto3" if variants else "crt")
    finally:
        connection.close()
    if {"use_fips_endpoint", "use_dualstack_endpoint"} & set(variants):
        # botocore does send elsewhere than the plain regional endpoint
        client = boto3.session.Session(region_name="eu-west-1").client("s3")
        assert client.meta.endpoint_url != "https://s3.eu-west-1.amazonaws.com"


def test_crt_with_an_endpoint_variant_is_refused_naming_the_field_and_the_setting(
    home, keys, monkeypatch
):
    monkeypatch.setenv("AWS_USE_DUALSTACK_ENDPOINT", "true")
    connection = Connection({"region": "eu-west-1", "data_plane": "crt"})
    with pytest.raises(InvalidInput) as refused:
        connection.data_plane  # noqa: B018
    assert refused.value.field == "data_plane"
    assert "use_dualstack_endpoint" in refused.value.message
    assert "use boto3 or auto" in refused.value.message


def test_s3c_run_on_crt_with_fips_exits_2_before_any_request(home, keys, tmp_path):
    """Both planes send through HTTPS_PROXY (see docs/aws-config.md): a listener there
    counts any connection either would open, and nothing leaves loopback."""
    from request_counter import Listener

    listener = Listener()
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps({"region": "eu-west-1", "data_plane": "crt"}))
    env = {
        **{name: value for name, value in os.environ.items() if "proxy" not in name.lower()},
        "AWS_USE_FIPS_ENDPOINT": "true",
        "HTTPS_PROXY": listener.url,
    }
    s3c = str(Path(sys.executable).with_name("s3c"))
    try:
        done = subprocess.run(
            [s3c, "run", "get_object", "-c", str(conn), "-p", "bucket=b", "-p", "key=k"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [
            "error: data_plane: crt cannot reach the endpoint that use_fips_endpoint of the AWS "
            "configuration asks for: use boto3 or auto"
        ]
        assert done.stdout == ""
        assert listener.count() == 0
    finally:
        listener.close()
