"""Helpers shared by the tests."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import resource
import subprocess
import uuid
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse
from jsonschema import Draft202012Validator

from s3_connector.connector.registry import Registry
from s3_connector.sdk.testing import ActivityContract

MOTO_SETTINGS = {
    "auth": "access_keys",
    "access_key_id": "AKIAMOTO",
    "secret_access_key": "moto-secret",
    "region": "us-east-1",
    "data_plane": "boto3",  # moto answers botocore's requests only
}


def limit_file_size(size: int) -> None:
    """Let this process write no file past `size` bytes: a write beyond fails with EFBIG, as
    one on a full disk fails (Python ignores SIGXFSZ). Usable as a child's `preexec_fn`."""
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))


@contextlib.contextmanager
def file_size_limit(size: int):
    """`limit_file_size` in this process while the block runs."""
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    limit_file_size(size)
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)


DATA_PLANES = ("crt", "boto3")
"""The connection's data planes; every test that talks to SeaweedFS runs on both."""

_numbers = itertools.count()


def unique_bucket(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}-{next(_numbers)}"


def new_sse_c_key() -> str:
    """A fresh SSE-C key, as the connector takes it: the base64 of 32 random bytes."""
    return base64.b64encode(os.urandom(32)).decode()


def put_json(client, bucket, key="contract/hello.json", body=b'{"hello": "world"}'):
    """Store an object typed application/json, as the activity test kit's `prepare` steps do."""
    client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


class JsonObjectContract(ActivityContract):
    """The activity test kit's contract for an activity that reads contract/hello.json."""

    config = {"key": "contract/hello.json"}

    def prepare(self, client, bucket):
        put_json(client, bucket)


def run_one(harness, activity_id, config, documents=None, *, lazy=False):
    """Run an activity that answers with one document; its properties."""
    [document] = harness.run(activity_id, config, documents, lazy=lazy)
    return document.properties


def run_checked(harness, activity_id, config, documents=None):
    """Run an activity; check each response against the activity's response schema."""
    validator = Draft202012Validator(Registry.shipped().descriptor(activity_id)["response"])
    responses = [d.properties for d in harness.run(activity_id, config, documents)]
    for properties in responses:
        validator.validate(properties)
    return responses


def one_checked(harness, activity_id, config):
    """`run_checked` of an activity that answers with one document; its properties."""
    [response] = run_checked(harness, activity_id, config)
    return response


def calls(connection, operation):
    """Names of the `operation` calls the connection's (us-east-1) client makes."""
    made = []
    connection.client().meta.events.register(
        f"before-call.s3.{operation}", lambda model, **_: made.append(model.name)
    )
    return made


def answer(connection, operation, status, code=None, message="", headers=None):
    """Make `operation` answer `status` without reaching moto, as S3 would: a botocore
    `before-call` hook on the connection's (us-east-1) client returns the response."""
    code = code or str(status)

    def respond(**_):
        http = AWSResponse("https://s3.example", status, headers or {}, None)
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "HTTPStatusCode": status,
                "HTTPHeaders": {"x-amz-request-id": "REQ123", **(headers or {})},
                "RequestId": "REQ123",
            },
        }
        return http, parsed

    connection.client().meta.events.register(f"before-call.s3.{operation}", respond)


JS_TESTS = Path(__file__).parent / "js"
"""The Node.js side of the tests (package.json, the scripts they run)."""


def run_node_on_json(script: str, payload: Any, folder: Path, timeout: float = 120) -> Any:
    """Run tests/js/SCRIPT on a file holding `payload` as JSON; what it prints, parsed."""
    path = folder / f"{Path(script).stem}-input.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    done = subprocess.run(
        ["node", str(JS_TESTS / script), str(path)], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr or done.stdout
    return json.loads(done.stdout)
