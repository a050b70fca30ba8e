"""Bad input never reaches S3.

A corpus of invalid configurations, connections, files and requests. Each one must be refused
with exit code 2 and exactly one line on stderr, `error: FIELD: RULE`, without a traceback,
with nothing written, and with **no request sent**: the connection's endpoint is a TCP listener
of this module that counts the connections it accepts (and answers none), `AWS_ENDPOINT_URL`
points there too (so a connection meant for Amazon S3 cannot reach it either), and a botocore
`before-send` hook counts every request the process tries to send.

Most cases run in-process through click's runner on `s3c run`; every configuration and
connection case runs again through the warm agent (`s3c serve`'s `Agent`), which must answer
an `invalid_input` error line with exit code 2. `tests/integration/test_bad_input_cli.py` runs
a handful through the real `s3c` executable.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from request_counter import Listener

from s3_connector.cli.agent import Agent
from s3_connector.cli.main import cli
from s3_connector.connector import botocore_chain
from s3_connector.connector.connection import Connection
from s3_connector.connector.fields import BUCKET_NAME_PATTERN, REGION_PATTERN, is_aws_region

KEY_32 = base64.b64encode(b"k" * 32).decode()
DROP = object()
"""An override that removes the field from the base configuration."""


# --- counting requests ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def sent():
    """Requests botocore was about to send (its `before-send` event), on every session the
    connector creates."""
    counter = {"requests": 0}
    original = botocore_chain._botocore_session

    def count(**_: Any) -> None:
        counter["requests"] += 1

    def counting_session():
        session = original()
        session.register("before-send", count)
        return session

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore_chain, "_botocore_session", counting_session)
        yield counter


@pytest.fixture(autouse=True)
def nowhere_else(isolated_aws_environment, monkeypatch, listener):
    """A connection without an endpoint_url would go to Amazon S3: send it to the counter."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", listener.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", listener.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", listener.url)


class Traffic:
    """What left the process during a block: botocore requests and TCP connections."""

    def __init__(self, listener: Listener, sent: dict[str, int]):
        self.listener, self.sent = listener, sent

    def __enter__(self) -> Traffic:
        self._requests, self._connections = self.sent["requests"], self.listener.count()
        return self

    def __exit__(self, *_: Any) -> None:
        self.requests = self.sent["requests"] - self._requests
        self.connections = self.listener.count() - self._connections


@pytest.fixture
def traffic(listener, sent):
    return lambda: Traffic(listener, sent)


# --- the corpus ----------------------------------------------------------------------------


CONNECTION: dict[str, Any] = {
    "auth": "access_keys",
    "access_key_id": "AKIABADINPUT",
    "secret_access_key": "bad-input-secret",
    "region": "us-east-1",
    "addressing_style": "path",
    "max_attempts": 1,
    "connect_timeout": 2,
    "read_timeout": 2,
}
"""The connection of every case (its endpoint_url is the listener's), unless a case changes it."""

BASE: dict[str, dict[str, Any]] = {
    "get_object": {"bucket": "demo", "key": "a.txt"},
    "read": {"bucket": "demo", "key": "a.txt"},
    "head_object": {"bucket": "demo", "key": "a.txt"},
    "exists": {"bucket": "demo", "key": "a.txt"},
    "delete_object": {"bucket": "demo", "key": "a.txt"},
    "put_object": {"bucket": "demo", "key": "a.txt"},
    "write": {"bucket": "demo", "key": "a.txt", "data": "hello"},
    "create": {"bucket": "demo", "key": "a.txt"},
    "copy_object": {"bucket": "demo", "key": "a.txt", "destination_key": "b.txt"},
    "move_object": {"bucket": "demo", "key": "a.txt", "destination_key": "b.txt"},
    "list_objects": {"bucket": "demo"},
    "list_prefixes": {"bucket": "demo"},
    "list_buckets": {},
    "purge": {"bucket": "demo", "prefix": "p/", "dry_run": False},
    "presign": {"bucket": "demo", "key": "a.txt"},
}
CONSUMES = {"put_object"}
"""Activities that need input documents."""
PRODUCES = {"get_object", "read"}
"""Activities whose content goes to --output."""


@dataclass
class Case:
    """One invalid input: an activity's configuration and the connection it runs with, or
    extra command-line arguments and standard input; `field` is what the error must name."""

    id: str
    field: str
    activity: str = "get_object"
    config: dict[str, Any] = field(default_factory=dict)
    connection: dict[str, Any] | None = None
    args: list[str] = field(default_factory=list)
    stdin: bytes | None = None
    config_file: bytes | None = None
    connection_file: bytes | None = None
    serve: bool = True
    """Also sent to the warm agent (configuration and connection cases)."""


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **overrides}
    return {name: value for name, value in merged.items() if value is not DROP}


def config_case(case_id: str, activity: str, expected: str | None = None, **overrides: Any) -> Case:
    """The activity's valid base configuration with `overrides`; the error names `expected`
    (by default the one overridden field)."""
    if expected is None:
        [expected] = overrides
    return Case(case_id, expected, activity, _merged(BASE[activity], overrides))


def connection_case(case_id: str, expected: str | None = None, **overrides: Any) -> Case:
    """The connection with `overrides` (endpoint_url=DROP: none, i.e. Amazon S3)."""
    if expected is None:
        [expected] = overrides
    return Case(
        case_id,
        f"connection.{expected}",
        "get_object",
        dict(BASE["get_object"]),
        connection=overrides,
    )


def args_case(case_id: str, expected: str, *args: str, activity: str = "get_object", **kw):
    return Case(
        case_id, expected, activity, dict(BASE[activity]), args=list(args), serve=False, **kw
    )


LONG_KEY = "k" * 1025
LONG_KEY_UTF8 = "é" * 513  # 1,026 bytes in 513 characters
LONG_KEY_EMOJI = "\U0001f600" * 257  # 1,028 bytes
BAD_KEYS = {
    "empty": "",
    "nul": "a\x00b",
    "newline": "a\nb",
    "carriage-return": "report\r.txt",
    "tab": "a\tb",
    "soh": "\x01",
    "unit-separator": "a\x1fb",
    "del": "a\x7f",
    "lone-low-surrogate": "a\udcffb",
    "lone-high-surrogate": "\ud800",
    "surrogate-at-end": "report.txt\udc80",
    "1025-bytes-ascii": LONG_KEY,
    "1026-bytes-utf8": LONG_KEY_UTF8,
    "1028-bytes-emoji": LONG_KEY_EMOJI,
    "number": 5,
    "array": ["a"],
    "object": {"a": 1},
    "boolean": True,
    "null": None,
}
KEY_ACTIVITIES = [
    "get_object",
    "read",
    "head_object",
    "exists",
    "delete_object",
    "presign",
    "create",
    "write",
    "put_object",
    "copy_object",
    "move_object",
]
BAD_BUCKETS = {
    "empty": "",
    "too-short": "ab",
    "too-long": "b" * 64,
    "uppercase": "Demo",
    "underscore": "demo_bucket",
    "double-dot": "demo..x",
    "leading-hyphen": "-demo",
    "trailing-hyphen": "demo-",
    "ip-address": "192.168.1.1",
    "xn-prefix": "xn--demo",
    "sthree-prefix": "sthree-demo",
    "s3alias-suffix": "demo-s3alias",
    "ol-s3-suffix": "demo--ol-s3",
    "mrap-suffix": "demo.mrap",
    "x-s3-suffix": "demo--x-s3",
    "demo-prefix": "amzn-s3-demo-bucket",
    "trailing-newline": "demo\n",
    "space": "de mo",
    "accent": "démo",
    "nul": "demo\x00",
    "arabic-digits": "demo\u0661\u0662\u0663",
    "number": 5,
    "null": None,
}
BUCKET_ACTIVITIES = [
    "get_object",
    "put_object",
    "list_objects",
    "list_prefixes",
    "purge",
    "presign",
    "delete_object",
    "head_object",
    "exists",
    "read",
    "write",
    "create",
    "copy_object",
    "move_object",
]
BAD_REGIONS = {
    "spaces": "EU West",
    "trailing-newline": "eu-west-1\n",
    "leading-hyphen": "-eu",
    "trailing-hyphen": "eu-",
    "64-characters": "a" * 64,
    "underscores": "eu_west_1",
    "empty": "",
    "uppercase": "EU-WEST-1",
    "accent": "éu-west-1",
    "dot": "eu.west.1",
    "number": 5,
}
BAD_RANGES = {
    "reversed": "bytes=5-2",
    "reversed-long": "bytes=100-99",
    "reversed-leading-zeros": "bytes=00010-9",
    "empty-suffix": "bytes=-0",
    "empty-suffix-zeros": "bytes=-000",
    "two-ranges": "bytes=0-1,5-6",
    "no-positions": "bytes=",
    "dash-only": "bytes=-",
    "space-instead-of-equals": "bytes 0-1",
    "trailing-newline": "bytes=0-1\n",
    "other-unit": "items=0-1",
    "letters": "bytes=a-b",
    "arabic-digits": "bytes=\u0661-\u0662",
    "no-unit": "0-1",
    "leading-space": " bytes=0-1",
    "negative": "bytes=-5-10",
    "number": 5,
}
NOT_WHOLE = {
    "one-and-a-half": 1.5,
    "text-one-and-a-half": "1.5",
    "text-five-point-zero": "5.0",
    "true": True,
    "false": False,
    "text": "many",
    "empty-text": "",
    "exponent-text": "1e3",
    "nan": math.nan,
    "infinity": math.inf,
    "array": [5],
    "object": {"n": 5},
    "underscored-text": "1_000",
    "spaced-text": " 5 ",
}
BAD_SSE_C = {
    "short": "c2hvcnQ=",
    "16-bytes": base64.b64encode(b"k" * 16).decode(),
    "trailing-newline": KEY_32 + "\n",
    "not-base64": "!" * 44,
    "urlsafe-alphabet": KEY_32[:-2].replace("a", "-") + "_=",
    "lone-surrogate": "\udcff" * 44,
    "number": 5,
}
BAD_CONTENT_TYPES = {
    "no-subtype": "text",
    "empty-subtype": "text/",
    "empty-type": "/plain",
    "trailing-newline": "text/plain\n",
    "header-injection": "text/plain; charset=utf-8\r\nX-Evil: 1",
    "accent": "tëxt/plain",
    "space-in-type": "text /plain",
    "number": 5,
}
BAD_METADATA = {
    "name-with-space": {"bad name": "x"},
    "name-with-newline": {"a\nb": "x"},
    "empty-name": {"": "x"},
    "accented-value": {"team": "équipe"},
    "value-with-newline": {"team": "ops\n"},
    "value-with-cr": {"team": "ops\r"},
    "number-value": {"team": 5},
    "too-large": {"team": "x" * 2100},
    "not-an-object": "team=ops",
    "array": ["team"],
}


def _corpus() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    # keys of every activity that takes one
    for index, (name, value) in enumerate(BAD_KEYS.items()):
        activity = KEY_ACTIVITIES[index % len(KEY_ACTIVITIES)]
        add(config_case(f"key-{name}-{activity}", activity, key=value))
    for name in ("nul", "newline", "lone-low-surrogate", "1026-bytes-utf8", "empty"):
        add(config_case(f"destination_key-{name}", "copy_object", destination_key=BAD_KEYS[name]))
        add(
            config_case(
                f"move-destination_key-{name}", "move_object", destination_key=BAD_KEYS[name]
            )
        )
    for name in ("nul", "soh", "surrogate-at-end", "1025-bytes-ascii"):
        for activity in ("head_object", "presign"):
            add(config_case(f"key-{name}-{activity}-again", activity, key=BAD_KEYS[name]))

    # folder and file_name, alone and joined (Put Object and Write)
    for activity in ("put_object", "write"):
        located = {"key": DROP}
        add(config_case(f"{activity}-folder-nul", activity, "folder", **located, folder="in\x00"))
        add(config_case(f"{activity}-folder-newline", activity, "folder", **located, folder="\n"))
        add(
            config_case(
                f"{activity}-folder-1024-chars", activity, "folder", **located, folder="f" * 1024
            )
        )
        add(
            config_case(
                f"{activity}-folder-surrogate", activity, "folder", **located, folder="\udcff/in"
            )
        )
        add(
            config_case(
                f"{activity}-file_name-empty", activity, "file_name", **located, file_name=""
            )
        )
        add(
            config_case(
                f"{activity}-file_name-soh", activity, "file_name", **located, file_name="x\x01.txt"
            )
        )
        add(
            config_case(
                f"{activity}-file_name-surrogate",
                activity,
                "file_name",
                **located,
                file_name="\udcff.txt",
            )
        )
        add(
            config_case(
                f"{activity}-file_name-1025-bytes",
                activity,
                "file_name",
                **located,
                file_name="n" * 1025,
            )
        )
        add(
            config_case(
                f"{activity}-joined-ascii",
                activity,
                "file_name",
                **located,
                folder="f" * 1000,
                file_name="n" * 100,
            )
        )
        add(
            config_case(
                f"{activity}-joined-utf8",
                activity,
                "file_name",
                **located,
                folder="é" * 400,
                file_name="é" * 200,
            )
        )
        add(
            config_case(
                f"{activity}-joined-with-slashes",
                activity,
                "file_name",
                **located,
                folder="/" + "f" * 1000 + "/",
                file_name="n" * 24,
            )
        )

    # prefixes, start_after, delimiters, filters and continuation tokens
    for activity in ("list_objects", "list_prefixes", "purge"):
        for name, value in {
            "nul": "p\x00",
            "newline": "p\n",
            "surrogate": "\udcffp",
            "1025-bytes": "p" * 1025,
            "1200-bytes-utf8": "é" * 600,
            "number": 5,
        }.items():
            add(config_case(f"{activity}-prefix-{name}", activity, prefix=value))
    for activity in ("list_objects", "list_prefixes"):
        for name, value in {
            "empty": "",
            "17-chars": "/" * 17,
            "nul": "\x00",
            "newline": "\n",
            "surrogate": "\udcff",
        }.items():
            add(config_case(f"{activity}-delimiter-{name}", activity, delimiter=value))
        for name, value in {
            "empty": "",
            "space": "a b",
            "newline": "tok\n",
            "surrogate": "tok\udcff",
            "forged-connector-token": "s3c1.!!!",
            "connector-token-of-nothing": "s3c1.",
            "connector-token-with-nul": "s3c1." + base64.urlsafe_b64encode(b"a\x00b").decode(),
        }.items():
            add(
                config_case(
                    f"{activity}-continuation_token-{name}", activity, continuation_token=value
                )
            )
    for name, value in {
        "empty": "",
        "nul": "a\x00",
        "1025-bytes": "s" * 1025,
        "tab": "\t",
        "surrogate": "\udcff",
    }.items():
        add(config_case(f"start_after-{name}", "list_objects", start_after=value))
    for name, value in {"empty": "", "nul": "*\x00", "surrogate": "*\udcff"}.items():
        add(config_case(f"filter-{name}", "list_objects", filter=value))
    for name, value in {
        "uppercase-space": "My Bucket",
        "newline": "demo\n",
        "64-chars": "b" * 64,
        "number": 5,
    }.items():
        add(config_case(f"list_buckets-prefix-{name}", "list_buckets", prefix=value))

    # buckets
    for index, (name, value) in enumerate(BAD_BUCKETS.items()):
        activity = BUCKET_ACTIVITIES[index % len(BUCKET_ACTIVITIES)]
        add(config_case(f"bucket-{name}-{activity}", activity, bucket=value))
    for name in ("uppercase", "ip-address", "trailing-newline", "too-long"):
        add(
            config_case(
                f"destination_bucket-{name}", "copy_object", destination_bucket=BAD_BUCKETS[name]
            )
        )
    add(config_case("bucket-missing", "get_object", bucket=DROP))
    add(config_case("key-missing", "head_object", key=DROP))
    add(config_case("data-missing", "write", data=DROP))

    # regions: a host label anywhere; an AWS region without a custom endpoint
    for name, value in BAD_REGIONS.items():
        add(config_case(f"region-{name}", "get_object", region=value))
    add(config_case("destination_region-spaces", "copy_object", destination_region="EU West"))
    add(config_case("destination_region-newline", "move_object", destination_region="eu-west-1\n"))
    for name, value in {
        "local": "local",
        "moon": "moon-base-1",
        "garage": "garage",
        "newline": "us-east-1\n",
        "trailing-space": "us-east-1 ",
        "us-east": "us-east",
    }.items():
        add(
            connection_case(
                f"connection-region-aws-{name}", "region", region=value, endpoint_url=DROP
            )
        )
    for name, value in BAD_REGIONS.items():
        if name != "empty":
            add(connection_case(f"connection-region-{name}", "region", region=value))
    aws = Case(
        "activity-region-not-aws",
        "region",
        "get_object",
        {**BASE["get_object"], "region": "local"},
        connection={"endpoint_url": DROP},
    )
    add(aws)

    # ranges
    for index, (name, value) in enumerate(BAD_RANGES.items()):
        activity = ("get_object", "read")[index % 2]
        add(config_case(f"range-{name}-{activity}", activity, range=value))

    # whole numbers
    for name, value in NOT_WHOLE.items():
        add(config_case(f"max_results-{name}", "list_objects", max_results=value))
    for name in ("one-and-a-half", "text-one-and-a-half", "true", "nan"):
        add(
            config_case(
                f"list_prefixes-max_results-{name}", "list_prefixes", max_results=NOT_WHOLE[name]
            )
        )
        add(
            config_case(
                f"list_buckets-max_results-{name}", "list_buckets", max_results=NOT_WHOLE[name]
            )
        )
        add(config_case(f"max_objects-{name}", "purge", max_objects=NOT_WHOLE[name]))
        add(config_case(f"expires_in-{name}", "presign", expires_in=NOT_WHOLE[name]))
        add(connection_case(f"max_attempts-{name}", max_attempts=NOT_WHOLE[name]))
    for name, value in {"zero": 0, "negative": -1, "too-many": 100_001}.items():
        add(config_case(f"max_results-{name}", "list_objects", max_results=value))
    add(config_case("list_buckets-max_results-10001", "list_buckets", max_results=10_001))
    add(config_case("max_objects-zero", "purge", max_objects=0))
    add(config_case("expires_in-zero", "presign", expires_in=0))
    add(config_case("expires_in-over-7-days", "presign", expires_in=604_801))
    add(config_case("expires_in-five-point-five-text", "presign", expires_in="5.5"))
    for name, value in {"zero": 0, "twenty-one": 21, "two-and-a-half-text": "2.5"}.items():
        add(connection_case(f"max_attempts-{name}", max_attempts=value))
    assume = {
        "auth": "assume_role",
        "role_arn": "arn:aws:iam::123456789012:role/reader",
    }
    for name, value in {
        "one-and-a-half": 1.5,
        "below-900": 899,
        "over-43200": 43_201,
        "text": "an hour",
        "true": True,
    }.items():
        add(
            connection_case(
                f"duration_seconds-{name}", "duration_seconds", **assume, duration_seconds=value
            )
        )
    for name, value in {"zero": 0, "too-long": 601, "text": "fast", "nan": math.nan}.items():
        add(connection_case(f"connect_timeout-{name}", connect_timeout=value))
    add(connection_case("read_timeout-zero", read_timeout=0))

    # enums and booleans
    add(config_case("storage_class-unknown", "put_object", storage_class="FOO"))
    add(config_case("storage_class-lowercase", "write", storage_class="standard"))
    add(config_case("emit-unknown", "list_objects", emit="everything"))
    add(config_case("method-post", "presign", method="POST"))
    add(config_case("method-lowercase", "presign", method="get"))
    add(connection_case("auth-password", auth="password"))
    add(connection_case("addressing_style-host", addressing_style="host"))
    add(connection_case("checksum_algorithm-lowercase", checksum_algorithm="crc32c"))
    add(connection_case("retry_mode-legacy", retry_mode="legacy"))
    add(config_case("overwrite-maybe", "put_object", overwrite="maybe"))
    add(config_case("recurse-two", "list_objects", recurse=2))
    add(config_case("dry_run-nope", "purge", dry_run="nope"))
    add(config_case("force-array", "purge", force=[]))
    add(config_case("include_metadata-object", "list_objects", include_metadata={}))
    add(connection_case("verify_tls-sometimes", verify_tls="sometimes"))
    add(connection_case("allow_control_characters-text", allow_control_characters="yes please"))

    # metadata, content types, SSE-C keys
    for index, (name, value) in enumerate(BAD_METADATA.items()):
        activity = ("put_object", "write", "create", "copy_object", "move_object")[index % 5]
        expected = "metadata.team.value" if name == "number-value" else "metadata"
        add(config_case(f"metadata-{name}-{activity}", activity, expected, metadata=value))
    for index, (name, value) in enumerate(BAD_CONTENT_TYPES.items()):
        activity = ("put_object", "write", "create", "copy_object")[index % 4]
        add(config_case(f"content_type-{name}-{activity}", activity, content_type=value))
    add(
        config_case(
            "presign-content_type-bad", "presign", "content_type", method="PUT", content_type="text"
        )
    )
    for index, (name, value) in enumerate(BAD_SSE_C.items()):
        activity = (
            "get_object",
            "put_object",
            "head_object",
            "read",
            "write",
            "create",
            "list_objects",
        )[index % 7]
        add(config_case(f"sse_c_key-{name}-{activity}", activity, sse_c_key=value))
    add(config_case("source_sse_c_key-short", "copy_object", source_sse_c_key="c2hvcnQ="))
    add(config_case("source_sse_c_key-newline", "move_object", source_sse_c_key=KEY_32 + "\n"))
    add(config_case("exists-version_id-newline", "exists", version_id="v1\n"))
    add(config_case("version_id-nul", "get_object", version_id="v\x00"))
    add(config_case("version_id-surrogate", "delete_object", version_id="\udcff"))
    add(config_case("version_id-space", "head_object", version_id="v 1"))
    add(config_case("version_id-1025", "read", version_id="v" * 1025))

    # conditional fields
    add(
        config_case(
            "presign-version_id-with-put", "presign", "version_id", method="PUT", version_id="v1"
        )
    )
    add(
        config_case(
            "presign-content_type-with-get", "presign", "content_type", content_type="text/plain"
        )
    )
    add(connection_case("profile-without-auth-profile", profile="dev"))
    add(connection_case("access_keys-without-key-id", "access_key_id", access_key_id=DROP))
    add(connection_case("access_keys-without-secret", "secret_access_key", secret_access_key=DROP))
    add(
        connection_case(
            "auth-profile-without-profile",
            "profile",
            auth="profile",
            access_key_id=DROP,
            secret_access_key=DROP,
        )
    )
    add(connection_case("auth-assume_role-without-role_arn", "role_arn", auth="assume_role"))
    add(
        connection_case(
            "role_arn-with-access_keys",
            "role_arn",
            role_arn="arn:aws:iam::123456789012:role/reader",
        )
    )
    add(connection_case("external_id-with-access_keys", "external_id", external_id="abc"))
    for name, value in {
        "short-account": "arn:aws:iam::123:role/reader",
        "trailing-newline": "arn:aws:iam::123456789012:role/reader\n",
        "accented-name": "arn:aws:iam::123456789012:role/lecteur-é",
        "arabic-digits": "arn:aws:iam::\u0661\u0662\u0663456789012:role/reader",
        "user-not-role": "arn:aws:iam::123456789012:user/reader",
    }.items():
        add(connection_case(f"role_arn-{name}", "role_arn", auth="assume_role", role_arn=value))
    for name, value in {
        "one-char": "a",
        "space": "s3 connector",
        "accent": "connecteur-é",
        "newline": "s3-connector\n",
    }.items():
        add(connection_case(f"session_name-{name}", "session_name", **assume, session_name=value))

    # unknown fields and wrong JSON types
    add(config_case("unknown-colour", "get_object", "colour", colour="red"))
    add(config_case("unknown-capitalised-Key", "get_object", "Key", Key="a.txt"))
    add(config_case("unknown-name-with-newline", "list_objects", "a\\nb", **{"a\nb": 1}))
    add(config_case("unknown-name-with-surrogate", "put_object", "\\udcff", **{"\udcff": 1}))
    add(connection_case("connection-unknown-colour", "colour", colour="blue"))
    add(connection_case("unknown-trailing-space", "region ", **{"region ": "us-east-1"}))
    add(connection_case("endpoint_url-number", endpoint_url=5))
    add(connection_case("endpoint_url-ftp", endpoint_url="ftp://127.0.0.1/"))
    add(connection_case("endpoint_url-not-a-url", endpoint_url="not a url"))
    add(connection_case("auth-number", auth=5))
    add(connection_case("access_key_id-too-long", access_key_id="A" * 129))
    add(connection_case("access_key_id-nul", access_key_id="AKIA\x00"))
    add(connection_case("access_key_id-space", access_key_id="AKIA BAD"))
    add(connection_case("secret_access_key-newline", secret_access_key="bad-input\nsecret"))
    add(connection_case("secret_access_key-surrogate", secret_access_key="\udcffbad-input"))
    add(connection_case("session_token-newline", session_token="token\n"))
    profile = {"auth": "profile", "access_key_id": DROP, "secret_access_key": DROP}
    for name, value in {"newline": "dev\n", "nul": "d\x00ev", "surrogate": "dev\udcff"}.items():
        add(connection_case(f"profile-{name}", "profile", **profile, profile=value))
    external_ids = {"newline": "id\n", "nul": "i\x00d", "one-char": "i", "space": "an id"}
    for name, value in external_ids.items():
        add(connection_case(f"external_id-{name}", "external_id", **assume, external_id=value))
    add(config_case("bucket-array", "list_objects", bucket=["demo"]))
    add(config_case("bucket-object", "purge", bucket={"name": "demo"}))
    add(config_case("region-array", "head_object", region=["eu-west-1"]))
    add(config_case("prefix-null", "list_prefixes", prefix=None))

    # files and command-line arguments
    add(args_case("config-not-utf8", "--config", config_file=b'{"key": "caf\xe9.txt"}'))
    add(args_case("config-utf16", "--config", config_file='{"key": "a.txt"}'.encode("utf-16")))
    add(args_case("config-not-json", "--config", config_file=b'{"key": '))
    add(args_case("config-array", "--config", config_file=b'["a.txt"]'))
    add(args_case("config-null", "--config", config_file=b"null"))
    add(args_case("config-empty", "--config", config_file=b""))
    add(
        args_case(
            "config-huge-number", "--config", config_file=b'{"max_results": ' + b"9" * 5000 + b"}"
        )
    )
    add(args_case("config-deep-nesting", "--config", config_file=b"[" * 100_000))
    add(args_case("config-missing-file", "--config", "--config", "/nonexistent/config.json"))
    add(args_case("config-stdin-not-utf8", "--config", "--config", "-", stdin=b"\xff\xfe{}"))
    add(args_case("connection-not-utf8", "connection", connection_file=b'{"region": "\xff"}'))
    add(args_case("connection-array", "connection", connection_file=b"[1]"))
    add(args_case("connection-not-json", "connection", connection_file=b"{"))
    add(args_case("connection-bom-latin1", "connection", connection_file=b"\xef\xbb{}"))
    add(
        args_case(
            "p-max_results-1.5", "max_results", "-p", "max_results=1.5", activity="list_objects"
        )
    )
    add(args_case("p-max_objects-1.5", "max_objects", "-p", "max_objects=1.5", activity="purge"))
    add(args_case("p-expires_in-1.5", "expires_in", "-p", "expires_in=1.5", activity="presign"))
    add(args_case("p-range-reversed", "range", "-p", "range=bytes=5-2"))
    add(args_case("p-region-newline", "region", "-p", "region=eu-west-1\n"))
    add(args_case("p-key-surrogate", "key", "-p", "key=caf\udce9.txt"))
    add(args_case("p-key-empty", "key", "-p", "key="))
    add(args_case("p-no-value", "-p", "-p", "novalue"))
    add(args_case("p-no-name", "-p", "-p", "=x"))
    add(args_case("p-bucket-number", "bucket", "-p", "bucket=5"))
    return cases


CORPUS = _corpus()
CASE_IDS = [case.id for case in CORPUS]
assert len(set(CASE_IDS)) == len(CASE_IDS), "case ids must be unique"


# --- running a case ------------------------------------------------------------------------


def _write_json(path, data: Any) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def connection_settings(listener: Listener, overrides: dict[str, Any] | None) -> dict:
    return _merged({**CONNECTION, "endpoint_url": listener.url}, overrides or {})


def run_case(case: Case, tmp_path, listener: Listener, traffic) -> tuple[Any, Traffic]:
    """`s3c run` the case in-process; (click's result, the traffic it caused)."""
    connection_path = tmp_path / "conn.json"
    if case.connection_file is not None:
        connection_path.write_bytes(case.connection_file)
    else:
        _write_json(connection_path, connection_settings(listener, case.connection))
    args = ["run", case.activity, "-c", str(connection_path)]
    if case.config_file is not None:
        config_path = tmp_path / "config.json"
        config_path.write_bytes(case.config_file)
        args += ["--config", str(config_path)]
    elif "--config" not in case.args:
        args += ["--config", _write_json(tmp_path / "config.json", case.config)]
    args += case.args
    if case.activity in CONSUMES:
        source = tmp_path / "report.txt"
        source.write_bytes(b"content")
        args += ["--input", str(source)]
    if case.activity in PRODUCES:
        args += ["--output", str(tmp_path / "out") + "/"]
    with traffic() as seen:
        result = CliRunner().invoke(cli, args, input=case.stdin)
    return result, seen


def assert_refused(result, seen: Traffic, expected_field: str, tmp_path=None) -> str:
    """Exit 2, one line naming the field and a rule, no traceback, nothing written, nothing
    sent; the line."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    prefix = f"error: {expected_field}: "
    assert lines[0].startswith(prefix), (lines[0], expected_field)
    assert re.search(r"\w", lines[0][len(prefix) :]), lines[0]
    assert result.stdout == ""
    if tmp_path is not None:
        out = tmp_path / "out"
        assert not out.exists() or not any(out.iterdir())
    assert (seen.requests, seen.connections) == (0, 0), "a request was sent"
    return lines[0]


@pytest.mark.parametrize("case", CORPUS, ids=CASE_IDS)
def test_refused_before_any_request(case, tmp_path, listener, traffic):
    result, seen = run_case(case, tmp_path, listener, traffic)
    assert_refused(result, seen, case.field, tmp_path)


def test_the_corpus_is_large_and_covers_every_activity():
    assert len(CORPUS) >= 200
    assert {case.activity for case in CORPUS} == set(BASE)


# --- the counters count ----------------------------------------------------------------------


@pytest.mark.parametrize("activity", ["get_object", "put_object", "list_buckets"])
def test_a_valid_configuration_does_send_requests(activity, tmp_path, listener, traffic):
    """The control: the same setup with a valid configuration reaches the listener, which
    answers nothing (a transient failure, exit 4), and the counters see it: the listener
    always, botocore's for a control request (get and put send theirs, region detection
    included, through the CRT data plane)."""
    case = Case(f"valid-{activity}", "", activity, dict(BASE[activity]))
    result, seen = run_case(case, tmp_path, listener, traffic)
    assert result.exit_code == 4, result.stderr
    assert seen.connections >= 1
    if activity == "list_buckets":
        assert seen.requests >= 1


def test_control_characters_are_accepted_when_the_connection_allows_them(
    tmp_path, listener, traffic
):
    refused = Case("refused", "key", "get_object", {**BASE["get_object"], "key": "a\nb"})
    result, seen = run_case(refused, tmp_path, listener, traffic)
    line = assert_refused(result, seen, "key")
    assert "allow_control_characters" in line
    allowed = Case(
        "allowed",
        "",
        "get_object",
        {**BASE["get_object"], "key": "a\nb"},
        connection={"allow_control_characters": True},
    )
    result, seen = run_case(allowed, tmp_path, listener, traffic)
    assert result.exit_code == 4 and seen.connections >= 1
    for value in ("a\x00b", "a\udcffb", "k" * 1025):
        still = Case(
            "still-refused",
            "key",
            "get_object",
            {**BASE["get_object"], "key": value},
            connection={"allow_control_characters": True},
        )
        result, seen = run_case(still, tmp_path, listener, traffic)
        assert_refused(result, seen, "key")


def test_any_host_label_is_a_region_with_a_custom_endpoint(tmp_path, listener, traffic):
    case = Case(
        "custom",
        "",
        "get_object",
        {**BASE["get_object"], "region": "garage"},
        connection={"region": "garage"},
    )
    result, seen = run_case(case, tmp_path, listener, traffic)
    assert result.exit_code == 4 and seen.connections >= 1


def test_an_input_file_whose_name_breaks_the_key_rules(tmp_path, listener, traffic):
    """The file name comes from the document: checked with the configuration, before the
    first document is sent (the directory's other, valid file is not written either)."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a-good.txt").write_bytes(b"good")
    (folder / "b-bad\nname.txt").write_bytes(b"bad")
    connection = _write_json(tmp_path / "conn.json", connection_settings(listener, None))
    args = ["run", "put_object", "-c", connection, "-p", "bucket=demo", "--input", str(folder)]
    with traffic() as seen:
        result = CliRunner().invoke(cli, args)
    line = assert_refused(result, seen, "file_name")
    assert "control characters" in line
    (folder / "b-bad\nname.txt").unlink()
    long_folder = ["-p", "folder=" + "f" * 1020]
    with traffic() as seen:
        result = CliRunner().invoke(cli, [*args[:-2], *long_folder, "--input", str(folder)])
    line = assert_refused(result, seen, "file_name")
    assert "the key folder/file_name must be at most 1024 bytes of UTF-8 (it is 1031)" in line


def test_messages_name_the_rule(tmp_path, listener, traffic):
    """A few exact rules, as a user reads them."""
    expected = {
        "range-reversed-get_object": "first byte must not be after its last",
        "range-empty-suffix-read": "suffix range must be at least 1 byte",
        "max_results-one-and-a-half": "must be a whole number",
        "expires_in-one-and-a-half": "must be a whole number",
        "connection-region-aws-local": "must be an AWS region name such as eu-west-1",
        "region-trailing-newline": "must be a region name such as eu-west-1",
        "key-lone-low-surrogate-put_object": "lone surrogate",
        "key-nul-read": "NUL",
        "key-1026-bytes-utf8-read": "at most 1024 bytes of UTF-8 (it is 1026)",
        "put_object-joined-ascii": "the key folder/file_name must be at most 1024 bytes",
        "config-not-utf8": "is not UTF-8 text",
        "connection-not-utf8": "is not UTF-8 text",
        "unknown-name-with-newline": "unknown field",
    }
    by_id = {case.id: case for case in CORPUS}
    for case_id, rule in expected.items():
        case = by_id[case_id]
        result, seen = run_case(case, tmp_path, listener, traffic)
        line = assert_refused(result, seen, case.field)
        assert rule in line, (case_id, line)


# --- hypothesis: generated keys, buckets, regions, ranges -------------------------------------


SLOW = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
_surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_controls = st.sampled_from([chr(code) for code in [*range(1, 32), 127]])


def _refused_config(activity, config, expected, tmp_path, listener, traffic, connection=None):
    case = Case("generated", expected, activity, config, connection=connection)
    result, seen = run_case(case, tmp_path, listener, traffic)
    assert_refused(result, seen, expected)


@SLOW
@given(
    before=_text,
    bad=st.one_of(_surrogates, st.just("\x00"), _controls),
    after=_text,
    activity=st.sampled_from(KEY_ACTIVITIES),
)
def test_generated_keys_with_bad_characters(
    before, bad, after, activity, tmp_path, listener, traffic
):
    config = {**BASE[activity], "key": before + bad + after}
    _refused_config(activity, config, "key", tmp_path, listener, traffic)


@SLOW
@given(
    unit=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8),
    activity=st.sampled_from(KEY_ACTIVITIES),
)
def test_generated_keys_over_1024_bytes(unit, activity, tmp_path, listener, traffic):
    key = unit * (1024 // len(unit.encode("utf-8")) + 1)
    assert len(key.encode("utf-8")) > 1024
    _refused_config(activity, {**BASE[activity], "key": key}, "key", tmp_path, listener, traffic)


def _repeated(unit: str, size: int) -> str:
    """`unit` repeated, cut to at most `size` bytes of UTF-8."""
    text, used = [], 0
    for char in unit * (size + 1):
        used += len(char.encode("utf-8"))
        if used > size:
            break
        text.append(char)
    return "".join(text)


@SLOW
@given(
    folder_unit=st.text(alphabet="abcdé/\U0001f600", min_size=1, max_size=5),
    name_unit=st.text(alphabet="xyzé\U0001f600", min_size=1, max_size=5),
    folder_size=st.integers(min_value=1, max_value=1000),
    activity=st.sampled_from(["put_object", "write"]),
)
def test_generated_joined_keys_over_1024_bytes(
    folder_unit, name_unit, folder_size, activity, tmp_path, listener, traffic
):
    """A folder and a file name each within its own limit whose key is over 1,024 bytes."""
    folder = _repeated(folder_unit, folder_size)
    stripped = folder.strip("/")
    needed = 1025 - len(stripped.encode("utf-8")) - (1 if stripped else 0)
    name = _repeated(name_unit, needed + 3)  # a folder of slashes only needs a name over 1,024
    joined = f"{stripped}/{name}" if stripped else name
    assert len(joined.encode("utf-8")) > 1024
    config = {**BASE[activity], "key": DROP, "folder": folder, "file_name": name}
    config = {key: value for key, value in config.items() if value is not DROP}
    _refused_config(activity, config, "file_name", tmp_path, listener, traffic)


@SLOW
@given(
    name=st.text(
        alphabet=st.sampled_from("abcxyz019-._ABZ \n\x00é_"), min_size=0, max_size=70
    ).filter(lambda name: not (3 <= len(name) <= 63 and re.fullmatch(BUCKET_NAME_PATTERN, name))),
    activity=st.sampled_from(BUCKET_ACTIVITIES),
)
def test_generated_bucket_names(name, activity, tmp_path, listener, traffic):
    config = {**BASE[activity], "bucket": name}
    _refused_config(activity, config, "bucket", tmp_path, listener, traffic)


@SLOW
@given(
    name=st.text(alphabet=st.sampled_from("aeuswt019-_. \nA"), min_size=0, max_size=70).filter(
        lambda name: re.fullmatch(REGION_PATTERN, name) is None
    )
)
def test_generated_regions_that_are_no_host_label(name, tmp_path, listener, traffic):
    config = {**BASE["get_object"], "region": name}
    _refused_config("get_object", config, "region", tmp_path, listener, traffic)


@SLOW
@given(
    name=st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True).filter(
        lambda name: not is_aws_region(name)
    )
)
def test_generated_regions_that_are_not_aws(name, tmp_path, listener, traffic):
    """Without a custom endpoint the region must be AWS's: a connection's, or an activity's."""
    _refused_config(
        "get_object",
        dict(BASE["get_object"]),
        "connection.region",
        tmp_path,
        listener,
        traffic,
        connection={"endpoint_url": DROP, "region": name},
    )
    _refused_config(
        "get_object",
        {**BASE["get_object"], "region": name},
        "region",
        tmp_path,
        listener,
        traffic,
        connection={"endpoint_url": DROP},
    )


@SLOW
@given(
    first=st.integers(min_value=1, max_value=10**30),
    gap=st.integers(min_value=1, max_value=10**6),
    zeros=st.integers(min_value=0, max_value=3),
)
def test_generated_reversed_ranges(first, gap, zeros, tmp_path, listener, traffic):
    last = max(first - gap, 0)
    value = f"bytes={'0' * zeros}{first}-{last}"
    _refused_config("read", {**BASE["read"], "range": value}, "range", tmp_path, listener, traffic)


@SLOW
@given(
    value=st.text(alphabet=st.sampled_from("bytes=0123456789-, \n"), max_size=20).filter(
        lambda value: re.fullmatch(r"bytes=(?:[0-9]+-[0-9]*|-[0-9]+)", value) is None
    )
)
def test_generated_malformed_ranges(value, tmp_path, listener, traffic):
    config = {**BASE["get_object"], "range": value}
    _refused_config("get_object", config, "range", tmp_path, listener, traffic)


@SLOW
@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(
            lambda number: not number.is_integer()
        ),
        st.floats(min_value=-1e6, max_value=1e6)
        .filter(lambda number: not number.is_integer())
        .map(repr),
        st.booleans(),
    ),
    target=st.sampled_from(
        [("list_objects", "max_results"), ("purge", "max_objects"), ("presign", "expires_in")]
    ),
)
def test_generated_numbers_that_are_not_whole(value, target, tmp_path, listener, traffic):
    activity, name = target
    config = {**BASE[activity], name: value}
    _refused_config(activity, config, name, tmp_path, listener, traffic)


# --- the warm agent ----------------------------------------------------------------------------


def serve_request(case: Case, number: int, listener: Listener) -> dict[str, Any]:
    request: dict[str, Any] = {"id": number, "activity": case.activity, "config": case.config}
    if case.connection is not None:
        request["connection"] = connection_settings(listener, case.connection)
    if case.activity in CONSUMES:
        request["documents"] = [{"content_text": "content"}]
    return request


def serve_answers(cases: list[Case], listener: Listener, traffic) -> tuple[list[dict], Traffic]:
    lines = [json.dumps(serve_request(case, number, listener)) for number, case in enumerate(cases)]
    out = io.StringIO()
    agent = Agent(out, lambda: Connection(connection_settings(listener, None)), log=io.StringIO())
    with traffic() as seen:
        agent.serve(io.BytesIO(("\n".join(lines) + "\n").encode("utf-8")))
    return [json.loads(line) for line in out.getvalue().splitlines()], seen


def assert_invalid_input(case: Case, answer: dict[str, Any]) -> None:
    assert answer["status"] == "error", (case.id, answer)
    assert answer["exit_code"] == 2, (case.id, answer)
    assert answer["documents"] == 0
    error = answer["error"]
    assert error["kind"] == "invalid_input", (case.id, error)
    assert "\n" not in error["message"] and error["message"].strip()
    assert error["field"] == case.field, (case.id, error)


def test_the_agent_refuses_every_case_before_any_request(listener, traffic):
    """Every configuration and connection case as one `s3c serve` request line: an error line
    of kind invalid_input with exit code 2 naming the field, and no request sent."""
    cases = [case for case in CORPUS if case.serve]
    started = time.monotonic()
    answers, seen = serve_answers(cases, listener, traffic)
    assert len(answers) == len(cases), "one final line per request, no document line"
    for case, answer in zip(cases, answers, strict=True):
        assert_invalid_input(case, answer)
    assert (seen.requests, seen.connections) == (0, 0), "a request was sent"
    assert time.monotonic() - started < 60


# --- values checked where they are parsed ---------------------------------------------------

RUN_EDGE_CASES = [
    pytest.param(
        Case("write-data-surrogate", "data", "write", {**BASE["write"], "data": "\udcff"}),
        id="write-data-surrogate",
    ),
    pytest.param(
        args_case("p-name-with-newline", "-p", "-p", "da\nta", activity="write"),
        id="p-name-with-newline",
    ),
    pytest.param(
        args_case("p-deep-nesting", "data", "-p", "data=" + "[" * 100_000, activity="write"),
        id="p-deep-nesting",
    ),
]


@pytest.mark.parametrize("case", RUN_EDGE_CASES)
def test_values_refused_past_the_schema(case, tmp_path, listener, traffic):
    """Write's data, -p arguments: checked as they are parsed or loaded, not when they run."""
    result, seen = run_case(case, tmp_path, listener, traffic)
    assert_refused(result, seen, case.field, tmp_path)


def test_serve_content_text_with_a_lone_surrogate_is_refused(listener, traffic):
    case = Case(
        "content_text-surrogate", "documents[0].content_text", "put_object", BASE["put_object"]
    )
    request = {**serve_request(case, 1, listener), "documents": [{"content_text": "\udcff"}]}
    out = io.StringIO()
    agent = Agent(out, lambda: Connection(connection_settings(listener, None)), log=io.StringIO())
    with traffic() as seen:
        agent.serve(io.BytesIO((json.dumps(request) + "\n").encode()))
    [answer] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (seen.requests, seen.connections) == (0, 0)
    assert_invalid_input(case, answer)
