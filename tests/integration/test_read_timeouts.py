"""The connection's `read_timeout` holds on both data planes against a server that takes a
request and never answers (the fault proxy holds the answer far longer): a listing page or
the first request of a read is given up and sent again, and a listing never answered fails as
transient after `max_attempts` requests. On the CRT plane these calls used to wait for CRT's
own connection monitor, which gives up on a silent connection after a fixed 30 s whatever
`read_timeout` says. A stalled put is sent again on both planes (on CRT, by CRT after those
30 s; see `CrtTransport`)."""

from __future__ import annotations

import time

import pytest
from faults.proxy import STALL, FaultProxy

from s3_connector.connector.connection import Connection
from s3_connector.connector.crt_transport import CrtTransport, retry_backoff
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import TransientFailure
from s3_connector.connector.harness import Harness
from s3_connector.connector.streaming_json import materialize

READ_TIMEOUT = 1.0
MAX_ATTEMPTS = 3
HELD = 120.0
"""How long the proxy holds a stalled answer."""
GIVEN_UP_WITHIN = 20.0
"""A call that returns sooner gave up on the stall by `read_timeout`: neither the server (HELD)
nor CRT's connection monitor (30 s) did."""
ALWAYS = 1000


@pytest.fixture
def stalling(seaweed, seaweed_client, seaweed_bucket, data_plane):
    """(proxy, harness, bucket): a bucket with two objects, and a harness whose connection
    goes through a proxy that holds stalled answers for HELD seconds."""
    for key in ("a.txt", "b.txt"):
        seaweed_client.put_object(Bucket=seaweed_bucket, Key=key, Body=key.encode())
    with FaultProxy(seaweed.endpoint_url, stall_seconds=HELD) as proxy:
        settings = dict(
            seaweed.connection_settings(),
            endpoint_url=proxy.endpoint_url,
            data_plane=data_plane,
            read_timeout=READ_TIMEOUT,
            max_attempts=MAX_ATTEMPTS,
        )
        connection = Connection(settings)
        try:
            yield proxy, Harness(connection), seaweed_bucket
        finally:
            connection.close()


def requests_for(proxy: FaultProxy, method: str, query: str = "") -> int:
    return sum(1 for seen in proxy.history if seen.method == method and query in seen.target)


def test_a_stalled_listing_page_is_sent_again(stalling):
    proxy, harness, bucket = stalling
    proxy.force(STALL, method="GET", query_has="list-type", times=1)
    started = time.monotonic()
    [listing] = harness.run("list_objects", {"bucket": bucket})
    listing = materialize(listing.properties)
    assert time.monotonic() - started < GIVEN_UP_WITHIN
    assert [item["key"] for item in listing["objects"]] == ["a.txt", "b.txt"]
    assert proxy.faults == {"stall": 1}
    assert requests_for(proxy, "GET", "list-type") == 2


def test_the_stalled_first_request_of_a_read_is_sent_again(stalling):
    proxy, harness, bucket = stalling
    proxy.force(STALL, path_regex=r"/b\.txt$", times=1)  # a HeadObject on the CRT plane
    started = time.monotonic()
    [document] = harness.run("get_object", {"bucket": bucket, "key": "b.txt"})
    assert document.read() == b"b.txt"
    assert time.monotonic() - started < GIVEN_UP_WITHIN
    assert proxy.faults == {"stall": 1}


def test_a_listing_never_answered_fails_as_transient_after_max_attempts(stalling):
    proxy, harness, bucket = stalling
    proxy.force(STALL, method="GET", query_has="list-type", times=ALWAYS)
    started = time.monotonic()
    with pytest.raises(TransientFailure) as failure:
        list(harness.run("list_objects", {"bucket": bucket}))
    assert time.monotonic() - started < GIVEN_UP_WITHIN
    assert failure.value.kind == "transient"
    assert "ListObjectsV2" in str(failure.value)
    assert "timeout" in str(failure.value).lower()
    assert requests_for(proxy, "GET", "list-type") == MAX_ATTEMPTS


def test_a_stalled_put_is_sent_again(stalling, seaweed_client):
    proxy, harness, bucket = stalling
    proxy.force(STALL, method="PUT", times=1)
    config = {"bucket": bucket, "key": "c.txt"}
    [stored] = harness.run("put_object", config, [Document({}, b"fresh content")])
    assert stored.properties["size"] == len(b"fresh content")
    assert proxy.faults == {"stall": 1}
    assert requests_for(proxy, "PUT") == 2
    assert seaweed_client.get_object(Bucket=bucket, Key="c.txt")["Body"].read() == b"fresh content"


@pytest.mark.parametrize(
    ("attempts", "backoff"), [(1, 0.0), (2, 0.5), (3, 1.5), (5, 7.5), (8, 51.5), (20, 291.5)]
)
def test_the_answer_time_allows_for_the_longest_backoff_of_crts_retries(attempts, backoff):
    """Before retry n (from 0) CRT waits up to min(20 s, 0.5 s * 2**n)."""
    assert retry_backoff(attempts) == backoff
    transport = CrtTransport(
        lambda: ("key", "secret", None),
        "us-east-1",
        "http://127.0.0.1:9",
        "path",
        True,
        max_attempts=attempts,
        read_timeout=READ_TIMEOUT,
    )
    with transport:
        assert transport.answer_time == READ_TIMEOUT + backoff
