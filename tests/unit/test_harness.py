import itertools
import threading
import time

import pytest
from marshmallow import Schema, fields

from s3_connector.connector.activity import ResponseSchema, TargetActivity
from s3_connector.connector.connection import Connection
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.fields import describe
from s3_connector.connector.harness import Harness
from s3_connector.connector.registry import Registry


class EchoSettings(Schema):
    bucket = fields.String(
        required=True, metadata=describe("Bucket", "b", group="location", dynamic=True)
    )
    verify_tls = fields.Boolean(metadata=describe("TLS", "t", group="options", dynamic=True))
    region = fields.String(metadata=describe("Region", "r", group="location", dynamic=True))
    note = fields.String(metadata=describe("Note", "n", group="options"))


class Echo(TargetActivity):
    """Returns its resolved settings; records which threads ran it."""

    id = "echo"
    name = "Echo"
    description = "Echoes its settings."
    Settings = EchoSettings
    Response = ResponseSchema
    permissions = ()
    threads: set = set()

    def run(self, document, settings):
        Echo.threads.add(threading.get_ident())
        delay = document.properties.get("delay", 0)
        time.sleep(delay)
        yield Document({**settings, "n": document.properties.get("n")})


class ConcurrentEcho(Echo):
    id = "concurrent_echo"
    concurrent = True


@pytest.fixture
def harness():
    registry = Registry([Echo, ConcurrentEcho])
    return Harness(
        Connection({"verify_tls": False, "region": "eu-west-1"}), registry, concurrency=4
    )


def test_dynamic_fields_come_from_document_then_config_never_the_connection(harness):
    docs = [Document({"bucket": "from-document", "note": "ignored: not dynamic"}), Document()]
    out = [d.properties for d in harness.run("echo", {"bucket": "from-config", "note": "c"}, docs)]
    assert out[0]["bucket"] == "from-document" and out[0]["note"] == "c"
    assert out[1]["bucket"] == "from-config"
    assert "verify_tls" not in out[0] and "region" not in out[1]


def test_invalid_configuration_is_refused_before_any_document(harness):
    with pytest.raises(InvalidInput, match="unknown field"):
        harness.prepare("echo", {"bucket": "b", "colour": "red"})
    with pytest.raises(InvalidInput) as caught:
        harness.prepare("unknown_activity", {})
    assert caught.value.field == "activity"


def test_required_dynamic_field_may_come_later_from_the_document(harness):
    prepared = harness.prepare("echo", {})
    assert prepared.settings_for(Document({"bucket": "x"}))["bucket"] == "x"
    with pytest.raises(InvalidInput, match="bucket: missing data"):
        prepared.settings_for(Document())


def test_responses_are_yielded_lazily_when_asked(harness):
    endless = (Document({"n": n}) for n in itertools.count())
    responses = harness.run("echo", {"bucket": "b"}, endless, lazy=True)
    assert [d.properties["n"] for d in itertools.islice(responses, 3)] == [0, 1, 2]


@pytest.mark.parametrize("activity", ["echo", "concurrent_echo"])
def test_check_first_refuses_an_invalid_document_before_any_runs(harness, activity):
    Echo.threads = set()
    docs = [Document({"bucket": "b"}), Document({"bucket": "b"}), Document()]
    prepared = harness.prepare(activity, {})
    with pytest.raises(InvalidInput, match="bucket: missing data"):
        next(prepared.run(docs, check_first=True))
    assert Echo.threads == set(), "no document may run before every one is checked"


def test_concurrent_activity_keeps_input_order_and_uses_threads(harness):
    Echo.threads = set()
    docs = [Document({"n": n, "delay": 0.05 if n % 2 else 0}) for n in range(12)]
    out = [d.properties["n"] for d in harness.run("concurrent_echo", {"bucket": "b"}, docs)]
    assert out == list(range(12))
    assert len(Echo.threads) > 1


def test_tracked_properties_fill_only_what_the_configuration_leaves_unset(harness):
    emitted = list(harness.run("echo", {"bucket": "source", "region": "eu-central-1"}))
    assert emitted[0].tracked >= {"bucket", "region"}
    prepared = harness.prepare("echo", {"bucket": "destination"})
    settings = prepared.settings_for(emitted[0])
    assert settings["bucket"] == "destination"
    assert "region" not in settings, "the source bucket's region must not follow the document"
    same_bucket = harness.prepare("echo", {}).settings_for(emitted[0])
    assert (same_bucket["bucket"], same_bucket["region"]) == ("source", "eu-central-1")
    redirected = emitted[0].with_properties(bucket="per-document")
    assert prepared.settings_for(redirected)["bucket"] == "per-document"
