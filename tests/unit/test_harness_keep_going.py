"""The harness's keep-going mode: a failed document is yielded as a `Failure` in its place,
the others still run, in input order, with the window of documents in flight kept."""

import threading
import time

import pytest
from marshmallow import Schema, fields

from s3_connector.connector.activity import ResponseSchema, TargetActivity
from s3_connector.connector.connection import Connection
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import Cancelled, NotFound
from s3_connector.connector.fields import describe
from s3_connector.connector.harness import Failure, Harness
from s3_connector.connector.registry import Registry


class FlakySettings(Schema):
    bucket = fields.String(
        required=True, metadata=describe("Bucket", "b", group="location", dynamic=True)
    )


class Flaky(TargetActivity):
    """Fails documents whose `fail` property is set (after `before` responses); records the
    most documents in flight at once."""

    id = "flaky"
    name = "Flaky"
    description = "Fails some documents."
    Settings = FlakySettings
    Response = ResponseSchema
    permissions = ()
    lock = threading.Lock()
    running = 0
    peak = 0

    def run(self, document, settings):
        with Flaky.lock:
            Flaky.running += 1
            Flaky.peak = max(Flaky.peak, Flaky.running)
        try:
            time.sleep(document.properties.get("delay", 0))
            n = document.properties["n"]
            for part in range(document.properties.get("before", 0)):
                yield Document({"n": n, "part": part})
            failure = document.properties.get("fail")
            if failure == "cancel":
                raise Cancelled("interrupted")
            if failure:
                raise NotFound(f"document {n} is missing")
            yield Document({"n": n})
        finally:
            with Flaky.lock:
                Flaky.running -= 1


class ConcurrentFlaky(Flaky):
    id = "concurrent_flaky"
    concurrent = True


@pytest.fixture
def harness():
    Flaky.peak = 0
    registry = Registry([Flaky, ConcurrentFlaky])
    return Harness(Connection({"region": "eu-west-1"}), registry, concurrency=4)


def _requests(prepared, documents):
    return [(document, prepared.settings_for(document)) for document in documents]


def _shown(outcome):
    if isinstance(outcome, Failure):
        return ("failed", outcome.index, outcome.document.properties["n"], type(outcome.error))
    return ("ok", outcome.properties["n"])


@pytest.mark.parametrize("activity", ["flaky", "concurrent_flaky"])
def test_failures_take_their_documents_place_and_the_others_run(harness, activity):
    docs = [
        Document({"n": n, "fail": n in (1, 5, 6), "delay": 0.02 if n % 3 == 0 else 0})
        for n in range(10)
    ]
    prepared = harness.prepare(activity, {"bucket": "b"})
    out = [_shown(o) for o in prepared.run_requests(_requests(prepared, docs), keep_going=True)]
    expected = [("failed", n, n, NotFound) if n in (1, 5, 6) else ("ok", n) for n in range(10)]
    assert out == expected
    if activity == "concurrent_flaky":
        assert 1 < Flaky.peak <= 4, "the window of documents in flight is kept"


@pytest.mark.parametrize("activity", ["flaky", "concurrent_flaky"])
def test_without_keep_going_the_first_failure_ends_the_run(harness, activity):
    docs = [Document({"n": n, "fail": n == 2}) for n in range(6)]
    prepared = harness.prepare(activity, {"bucket": "b"})
    seen = []
    with pytest.raises(NotFound, match="document 2"):
        for outcome in prepared.run_requests(_requests(prepared, docs)):
            seen.append(_shown(outcome))
    assert seen == [("ok", 0), ("ok", 1)]


@pytest.mark.parametrize("activity", ["flaky", "concurrent_flaky"])
def test_responses_before_a_failure_are_kept(harness, activity):
    docs = [Document({"n": 0, "before": 2, "fail": True}), Document({"n": 1})]
    prepared = harness.prepare(activity, {"bucket": "b"})
    out = list(prepared.run_requests(_requests(prepared, docs), keep_going=True))
    shown = [_shown(o) for o in out]
    if activity == "flaky":  # a sequential activity streams what it yields before failing
        assert [o.properties.get("part") for o in out[:2]] == [0, 1]
        assert shown[2:] == [("failed", 0, 0, NotFound), ("ok", 1)]
    else:  # a concurrent one hands over a document's responses once it is done
        assert shown == [("failed", 0, 0, NotFound), ("ok", 1)]


@pytest.mark.parametrize("activity", ["flaky", "concurrent_flaky"])
def test_a_cancellation_still_ends_a_keep_going_run(harness, activity):
    docs = [Document({"n": 0}), Document({"n": 1, "fail": "cancel"}), Document({"n": 2})]
    prepared = harness.prepare(activity, {"bucket": "b"})
    with pytest.raises(Cancelled):
        list(prepared.run_requests(_requests(prepared, docs), keep_going=True))


def test_run_still_raises_as_before(harness):
    prepared = harness.prepare("concurrent_flaky", {"bucket": "b"})
    with pytest.raises(NotFound):
        list(prepared.run([Document({"n": 0}), Document({"n": 1, "fail": True})]))
