"""The activity test kit: one contract that every activity, shipped or plugged in, must pass.

Subclass `ActivityContract` in a pytest module, name the activity class, give a valid
configuration and, when the activity needs objects to exist, a `prepare` step::

    class TestGetObject(ActivityContract):
        activity = GetObject
        config = {"key": "contract/hello.txt"}

        def prepare(self, client, bucket):
            client.put_object(Bucket=bucket, Key="contract/hello.txt", Body=b"hello")
            return None  # or the input documents

The kit runs on moto (the `test` extra). Its tests: the descriptor validates against the
meta-schema and agrees with the class; the configuration round-trips through the schema;
bad values for each field are refused naming that field, before anything runs; every response
matches the response structure the descriptor declares; the IAM policy derived from the
descriptor's permissions (`s3c policy`) lets it run with moto enforcing IAM; secrets never show
in the output.
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar

import pytest
from jsonschema import Draft202012Validator

from s3_connector.connector import settings as settings_loader
from s3_connector.connector.activity import Activity
from s3_connector.connector.connection import Connection
from s3_connector.connector.descriptor_builder import activity_descriptor
from s3_connector.connector.descriptor_checks import check_descriptor
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import ConnectorError, InvalidInput
from s3_connector.connector.fields import SseCustomerKeyField, is_secret
from s3_connector.connector.harness import Harness
from s3_connector.connector.registry import Registry
from s3_connector.connector.streaming_json import materialize

from .policy import policy_document

MOTO_CONNECTION = {
    "auth": "access_keys",
    "access_key_id": "AKIACONTRACT",
    "secret_access_key": "contract-secret-access-key",
    "session_token": "contract-session-token",
    "region": "us-east-1",
    "data_plane": "boto3",  # moto answers botocore's requests only
}
_NOT_A_CHOICE = "not-one-of-the-choices"


def _bad_values(field: dict[str, Any]) -> Iterator[Any]:
    """Values that break one rule the descriptor states for `field`."""
    limits = field.get("constraints", {})
    if "enum" in field:
        yield _NOT_A_CHOICE
    if field["type"] == "boolean":
        yield "perhaps"
    if field["type"] in ("integer", "number"):
        yield "many"
        if "minimum" in limits:
            yield limits["minimum"] - 1
        if "maximum" in limits:
            yield limits["maximum"] + 1
    if field["type"] == "string":
        yield 17
        if limits.get("minLength", 0) > 0:
            yield ""
        if "maxLength" in limits:
            yield "x" * (limits["maxLength"] + 1)
        pattern = limits.get("pattern")
        if pattern and not re.search(pattern, "!! no match !!"):
            yield "!! no match !!"
    if field["type"] == "object":
        yield ["not", "an", "object"]


class ActivityContract:
    """Contract tests for one activity; subclass it and set `activity` and `config`."""

    activity: ClassVar[type[Activity]]
    config: ClassVar[dict[str, Any]] = {}
    """A valid configuration; `bucket` is added (a fresh moto bucket) unless set."""
    needs_bucket: ClassVar[bool] = True

    def prepare(self, client: Any, bucket: str) -> Iterable[Document] | None:
        """Create what the activity needs in `bucket`; return its input documents, if any."""
        return None

    # fixtures

    @pytest.fixture
    def contract_env(self, monkeypatch):
        from moto import mock_aws

        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        with mock_aws():
            yield

    @pytest.fixture
    def contract_bucket(self, contract_env) -> str:
        import boto3

        name = f"contract-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=name)
        return name

    @pytest.fixture
    def valid_config(self, contract_bucket) -> dict[str, Any]:
        config = dict(self.config)
        if self.needs_bucket:
            config.setdefault("bucket", contract_bucket)
        return config

    def _descriptor(self) -> dict[str, Any]:
        return activity_descriptor(self.activity)

    def _run(
        self, config: dict[str, Any], bucket: str, connection: dict[str, Any] = MOTO_CONNECTION
    ) -> list[dict[str, Any]]:
        import boto3

        documents = self.prepare(boto3.client("s3", region_name="us-east-1"), bucket)
        harness = Harness(Connection(connection), Registry([self.activity]))
        prepared = harness.prepare(self.activity.id, config)
        with self._identity(connection):
            return [_properties(document) for document in prepared.run(documents)]

    @staticmethod
    def _identity(connection: dict[str, Any]) -> AbstractContextManager:
        """moto's IAM enforcement, for a connection with an IAM user's keys."""
        if connection is MOTO_CONNECTION:
            return nullcontext()
        from moto.core import enable_iam_authentication

        return enable_iam_authentication()

    # the contract

    def test_descriptor_validates(self):
        descriptor = self._descriptor()
        check_descriptor(json.loads(json.dumps(descriptor)), f"{self.activity.id} descriptor")
        assert descriptor["id"] == self.activity.id

    def test_configuration_round_trips_through_its_schema(self, valid_config):
        schema = self.activity.Settings()
        loaded = settings_loader.load(self.activity.Settings, valid_config)
        assert settings_loader.load(self.activity.Settings, schema.dump(loaded)) == loaded

    def test_bad_configuration_is_refused_naming_the_field(self, valid_config):
        cases = [("no_such_field", {**valid_config, "no_such_field": 1})]
        for field in self._descriptor()["fields"]:
            if field["required"]:
                cases.append(
                    (field["name"], {k: v for k, v in valid_config.items() if k != field["name"]})
                )
            cases += [
                (field["name"], {**valid_config, field["name"]: bad}) for bad in _bad_values(field)
            ]
        for name, config in cases:
            with pytest.raises(InvalidInput) as refused:
                settings_loader.load(self.activity.Settings, config)
            assert refused.value.field.split(".")[0] == name, (config, str(refused.value))

    def test_response_matches_its_declared_structure(self, valid_config, contract_bucket):
        responses = self._run(valid_config, contract_bucket)
        assert responses, "the activity emitted no response document"
        validator = Draft202012Validator(self._descriptor()["response"])
        for response in responses:
            errors = sorted(validator.iter_errors(response), key=lambda e: list(e.path))
            assert not errors, f"{errors[0].message} at {list(errors[0].path)}"

    def test_its_declared_permissions_let_it_run(self, valid_config, contract_bucket):
        """With moto enforcing IAM, the policy `s3c policy` derives from the descriptor is
        enough for the activity to run (on its bucket only)."""
        import boto3

        catalog = {self.activity.id: self._descriptor()}
        buckets = [contract_bucket] if self.needs_bucket else []
        document = policy_document(catalog, [self.activity.id], buckets)
        iam = boto3.client("iam", region_name="us-east-1")
        user = f"contract-{uuid.uuid4().hex[:12]}"
        iam.create_user(UserName=user)
        iam.put_user_policy(
            UserName=user, PolicyName="activity", PolicyDocument=json.dumps(document)
        )
        keys = iam.create_access_key(UserName=user)["AccessKey"]
        connection = {
            "auth": "access_keys",
            "access_key_id": keys["AccessKeyId"],
            "secret_access_key": keys["SecretAccessKey"],
            "region": "us-east-1",
            "data_plane": "boto3",
        }
        assert self._run(valid_config, contract_bucket, connection)

    def test_secrets_never_show(self, valid_config, contract_bucket):
        secrets = [MOTO_CONNECTION["secret_access_key"], MOTO_CONNECTION["session_token"]]
        config = dict(valid_config)
        schema = self.activity.Settings()
        for name, field in schema.fields.items():
            if isinstance(field, SseCustomerKeyField) and name not in config:
                config[name] = base64.b64encode(os.urandom(32)).decode("ascii")
            if is_secret(field) and name in config:
                secrets.append(str(config[name]))
        loaded = settings_loader.load(self.activity.Settings, config)
        shown = [repr(loaded), str(loaded), repr(Connection(MOTO_CONNECTION))]
        try:
            shown.append(json.dumps(self._run(config, contract_bucket), default=str))
        except ConnectorError as exc:
            shown.append(str(exc))
        for secret in secrets:
            for text in shown:
                assert secret not in text


def _properties(document: Document) -> dict[str, Any]:
    return json.loads(json.dumps(materialize(document.properties), default=str))
