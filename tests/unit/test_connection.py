import logging
import threading

import boto3
import pytest
from support import MOTO_SETTINGS

from s3_connector.connector.connection import Connection
from s3_connector.connector.errors import InvalidInput

SECRET = "very-secret-value-123"


@pytest.mark.parametrize(
    ("settings", "field", "rule"),
    [
        ({"auth": "password"}, "auth", "must be one of"),
        ({"auth": "access_keys"}, "access_key_id", "required when auth is access_keys"),
        ({"auth": "access_keys", "access_key_id": "A"}, "secret_access_key", "required"),
        ({"auth": "profile"}, "profile", "required when auth is profile"),
        ({"auth": "assume_role"}, "role_arn", "required when auth is assume_role"),
        ({"auth": "assume_role", "role_arn": "nope"}, "role_arn", "IAM role ARN"),
        (
            {
                "auth": "assume_role",
                "role_arn": "arn:aws:iam::123456789012:role/r",
                "secret_access_key": "S",
            },
            "access_key_id",
            "required when auth is access_keys or secret_access_key is set",
        ),
        (
            {"auth": "access_keys", "access_key_id": "A", "secret_access_key": "S", "profile": "p"},
            "profile",
            "only when auth is profile",
        ),
        ({"external_id": "abc"}, "external_id", "only when auth is assume_role"),
        ({"max_attempts": 0}, "max_attempts", "greater than or equal to 1"),
        ({"retry_mode": "legacy"}, "retry_mode", "must be one of"),
        ({"addressing_style": "dns"}, "addressing_style", "must be one of"),
        ({"endpoint_url": "ftp://x"}, "endpoint_url", "url"),
        ({"connect_timeout": 0}, "connect_timeout", "greater than or equal to 0.1"),
        ({"bucket": "b"}, "bucket", "unknown field"),
        (
            {
                "duration_seconds": 60,
                "auth": "assume_role",
                "role_arn": "arn:aws:iam::123456789012:role/r",
            },
            "duration_seconds",
            "900",
        ),
    ],
)
def test_invalid_settings_name_the_field_and_rule(settings, field, rule):
    with pytest.raises(InvalidInput) as caught:
        Connection(settings)
    assert caught.value.field == field
    assert rule.lower() in str(caught.value).lower()
    assert "\n" not in str(caught.value)


def test_defaults_and_not_tied_to_a_bucket():
    connection = Connection({})
    assert connection.settings["auth"] == "default_chain"
    # unset unless given: botocore's config chain decides (see test_aws_config_chain)
    for name in ("retry_mode", "max_attempts", "addressing_style", "verify_tls", "ca_bundle"):
        assert name not in connection.settings
    assert connection.default_region == "us-east-1"  # AWS_DEFAULT_REGION of the test setup
    assert connection.resolved.retry_mode == "standard"
    assert connection.resolved.max_attempts == 3  # botocore's standard mode
    assert connection.resolved.addressing_style == "auto"
    assert "bucket" not in connection.settings


def test_secrets_never_in_repr_str_errors_or_logs(caplog):
    settings = {**MOTO_SETTINGS, "secret_access_key": SECRET, "session_token": SECRET}
    connection = Connection(settings)
    assert SECRET not in repr(connection)
    assert SECRET not in str(connection)
    assert SECRET not in repr(connection.settings)
    assert SECRET not in f"{connection.settings['secret_access_key']}"
    with pytest.raises(InvalidInput) as caught:
        Connection({**settings, "max_attempts": 99})
    assert SECRET not in str(caught.value)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").debug("settings %s", connection.settings)
    assert SECRET not in caplog.text


def test_one_client_per_region_reused_across_threads(moto):
    connection = Connection(MOTO_SETTINGS)
    seen = []

    def grab():
        seen.append(connection.client("eu-west-1"))

    threads = [threading.Thread(target=grab) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in seen}) == 1
    assert connection.client("us-west-2") is not seen[0]
    assert seen[0].meta.region_name == "eu-west-1"
    assert seen[0].meta.config.max_pool_connections >= 64
    assert seen[0].meta.config.retries == {"mode": "standard"}  # botocore's default: 3


def test_client_configuration_follows_settings(moto):
    connection = Connection(
        {
            **MOTO_SETTINGS,
            "addressing_style": "path",
            "max_attempts": 3,
            "retry_mode": "adaptive",
            "connect_timeout": 2.5,
            "read_timeout": 7,
            "endpoint_url": "http://127.0.0.1:9",
        }
    )
    client = connection.client()
    config = client.meta.config
    assert config.s3["addressing_style"] == "path"
    assert config.retries == {"total_max_attempts": 3, "mode": "adaptive"}
    assert (config.connect_timeout, config.read_timeout) == (2.5, 7)
    assert client.meta.endpoint_url == "http://127.0.0.1:9"


def test_test_lists_buckets_or_heads_one(moto_connection, moto_bucket):
    listed = moto_connection.test()
    assert listed["ok"] and listed["call"] == "ListBuckets" and listed["buckets"] == 1
    headed = moto_connection.test(moto_bucket)
    assert headed["ok"] and headed["call"] == "HeadBucket" and headed["region"] == "us-east-1"
    assert headed["elapsed_ms"] >= 0


def test_test_reports_the_failing_call_and_permission(moto_connection):
    result = moto_connection.test("no-such-bucket-here")
    assert result == {
        **result,
        "ok": False,
        "call": "HeadBucket",
        "error": "not_found",
        "permission": "s3:ListBucket",
    }


def test_access_keys_are_used(moto):
    connection = Connection(MOTO_SETTINGS)
    credentials = connection.session().get_credentials()
    assert credentials.access_key == "AKIAMOTO"


def test_profile_auth_reads_the_shared_files(moto, tmp_path, monkeypatch):
    credentials = tmp_path / "credentials"
    credentials.write_text("[work]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    connection = Connection({"auth": "profile", "profile": "work"})
    assert connection.session().get_credentials().access_key == "AKIAPROFILE"


def test_default_chain_reads_the_environment(moto, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    assert Connection({}).session().get_credentials().access_key == "AKIAENV"


def test_from_environment_takes_endpoint_and_region(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8333")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    connection = Connection.from_environment()
    assert "endpoint_url" not in connection.settings  # botocore resolves it
    assert connection.endpoint_url == "http://127.0.0.1:8333"
    assert connection.client().meta.endpoint_url == "http://127.0.0.1:8333"
    assert connection.default_region == "eu-central-1"


def test_assume_role_uses_sts_credentials(moto):
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="connector", AssumeRolePolicyDocument="{}")["Role"]
    connection = Connection(
        {
            **MOTO_SETTINGS,
            "auth": "assume_role",
            "role_arn": role["Arn"],
            "external_id": "ext-123",
            "session_name": "s3c-test",
            "duration_seconds": 900,
        }
    )
    credentials = connection.session().get_credentials().get_frozen_credentials()
    assert credentials.access_key != "AKIAMOTO"
    assert credentials.token
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="assumed-bucket")
    assert connection.test("assumed-bucket")["ok"]


def test_one_client_per_region_and_addressing_style(moto_connection):
    virtual = moto_connection.client("eu-west-1", addressing_style="virtual")
    assert virtual is moto_connection.client("eu-west-1", addressing_style="virtual")
    assert virtual is not moto_connection.client("eu-west-1")
    assert virtual.meta.config.s3["addressing_style"] == "virtual"
    assert not (moto_connection.client("eu-west-1").meta.config.s3 or {}).get("addressing_style")


def test_a_profile_that_does_not_exist_is_invalid_input_naming_it(moto):
    from s3_connector.connector.errors import InvalidInput, translate

    result = Connection({"auth": "profile", "profile": "nowhere"}).test("some-bucket")
    assert result["ok"] is False and result["error"] == "invalid_input"
    assert result["message"].startswith("profile: ") and "nowhere" in result["message"]
    try:
        Connection({"auth": "profile", "profile": "nowhere"}).session()
    except Exception as exc:
        error = translate(exc, operation="session", target="")
    assert isinstance(error, InvalidInput) and error.field == "profile"
