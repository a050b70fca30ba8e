"""Which data plane a connection uses, and the window of documents the harness keeps in
flight on it."""

from __future__ import annotations

import threading
import time

import pytest
from marshmallow import Schema, fields

from s3_connector.connector.activity import ResponseSchema, TargetActivity
from s3_connector.connector.connection import Connection
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.fields import describe
from s3_connector.connector.harness import BUFFER_BUDGET, Harness
from s3_connector.connector.registry import Registry

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("settings", "plane"),
    [
        ({}, "crt"),
        ({"data_plane": "auto"}, "crt"),
        ({"data_plane": "crt"}, "crt"),
        ({"data_plane": "boto3"}, "boto3"),
        ({"checksum_algorithm": "MD5"}, "boto3"),
        ({"data_plane": "boto3", "checksum_algorithm": "MD5"}, "boto3"),
    ],
)
def test_the_connection_picks_its_plane(settings, plane):
    connection = Connection(settings)
    assert connection.data_plane.name == plane
    assert Harness(connection, Registry([])).concurrency == (64 if plane == "crt" else 8)
    connection.close()


def test_crt_with_md5_checksums_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as refused:
        Connection({"data_plane": "crt", "checksum_algorithm": "MD5"})
    assert refused.value.field == "data_plane" and "MD5" in refused.value.message


def test_an_unknown_plane_is_refused():
    with pytest.raises(InvalidInput) as refused:
        Connection({"data_plane": "warp"})
    assert refused.value.field == "data_plane"


class _Settings(Schema):
    note = fields.String(metadata=describe("Note", "n", group="options"))


class Gauge(TargetActivity):
    """Records how many documents run at once, and how much content they hold."""

    id = "gauge"
    name = "Gauge"
    description = "Measures the window."
    Settings = _Settings
    Response = ResponseSchema
    permissions = ()
    concurrent = True
    lock = threading.Lock()
    running = 0
    peak = 0
    held = 0
    peak_held = 0

    def run(self, document, settings):
        weight = document.size if document.size is not None else 8 * MiB
        with Gauge.lock:
            Gauge.running += 1
            Gauge.held += min(weight, 8 * MiB)
            Gauge.peak = max(Gauge.peak, Gauge.running)
            Gauge.peak_held = max(Gauge.peak_held, Gauge.held)
        time.sleep(0.02)
        with Gauge.lock:
            Gauge.running -= 1
            Gauge.held -= min(weight, 8 * MiB)
        yield Document({"n": document.properties["n"]})


@pytest.fixture
def gauge():
    Gauge.running = Gauge.peak = Gauge.held = Gauge.peak_held = 0
    return Harness(Connection({"data_plane": "crt"}), Registry([Gauge]))


def test_small_documents_fill_the_window_and_come_out_in_order(gauge):
    documents = [Document({"n": n}, b"x" * 100) for n in range(300)]
    out = [d.properties["n"] for d in gauge.run("gauge", {}, documents)]
    assert out == list(range(300))
    assert 32 < Gauge.peak <= 64


def test_large_content_is_limited_by_the_buffer_budget(gauge):
    documents = [Document({"n": n}, b"x" * (6 * MiB)) for n in range(40)]
    out = [d.properties["n"] for d in gauge.run("gauge", {}, documents)]
    assert out == list(range(40))
    assert Gauge.peak_held <= BUFFER_BUDGET
    assert Gauge.peak == BUFFER_BUDGET // (6 * MiB)
