"""Shared fixtures: moto for unit tests, one real SeaweedFS server for integration tests."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError
from moto import mock_aws
from support import DATA_PLANES, MOTO_SETTINGS, unique_bucket

from s3_connector.connector.connection import Connection

_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@pytest.fixture(autouse=True)
def isolated_aws_environment(monkeypatch, tmp_path_factory):
    """No test sees the machine's AWS configuration or talks to a real AWS endpoint."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("aws-home")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def moto():
    with mock_aws():
        yield


@pytest.fixture
def moto_connection(moto):
    return Connection(MOTO_SETTINGS)


@pytest.fixture
def moto_bucket(moto):
    name = unique_bucket("moto")
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """One SeaweedFS server for the whole session, on free loopback ports."""
    from s3_connector.sdk.local_server import LocalS3Server

    server = LocalS3Server(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=DATA_PLANES)
def data_plane(request):
    return request.param


@pytest.fixture
def seaweed_settings(seaweed, data_plane):
    return {**seaweed.connection_settings(), "data_plane": data_plane}


@pytest.fixture
def seaweed_connection(seaweed_settings):
    return Connection(seaweed_settings)


@pytest.fixture
def seaweed_client(seaweed):
    return seaweed.client()


@pytest.fixture
def seaweed_bucket(seaweed_client):
    """A fresh bucket, removed afterwards: SeaweedFS gives every bucket volumes of its own,
    and a session that keeps hundreds of buckets runs out of them ("no free volumes")."""
    name = unique_bucket("sw")
    seaweed_client.create_bucket(Bucket=name)
    yield name
    remove_bucket(seaweed_client, name)


def remove_bucket(client, name):
    """Best effort: abort its uploads, delete its objects, delete it."""
    try:
        for upload in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        client.delete_bucket(Bucket=name)
    except (ClientError, BotoCoreError):
        pass  # a test may have removed the bucket itself


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
