"""`import s3_connector` is the front door: the public names, imported when first used."""

from __future__ import annotations

import subprocess
import sys

import boto3
import pytest

import s3_connector
from s3_connector.connector import activity, connection, documents, errors, harness


def test_the_public_names_are_the_runtime_classes():
    assert s3_connector.Connection is connection.Connection
    assert s3_connector.Harness is harness.Harness
    assert s3_connector.Document is documents.Document
    assert s3_connector.SourceActivity is activity.SourceActivity
    assert s3_connector.TargetActivity is activity.TargetActivity
    for kind, cls in errors.ERROR_KINDS.items():
        assert getattr(s3_connector, cls.__name__) is cls, kind
    assert set(s3_connector.__all__) == set(s3_connector._EXPORTS)
    assert set(s3_connector.__all__) <= set(dir(s3_connector))


def test_importing_the_package_imports_no_sdk():
    code = (
        "import sys, s3_connector;"
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error():
    try:
        s3_connector.Nothing  # noqa: B018
    except AttributeError as exc:
        assert "Nothing" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")


@pytest.fixture
def s3_client(moto):
    return boto3.client("s3", region_name="us-east-1")


def test_a_put_whose_result_is_ignored_has_written(moto_connection, moto_bucket, s3_client):
    harness = s3_connector.Harness(moto_connection)
    harness.run(
        "put_object",
        {"bucket": moto_bucket, "key": "ignored.txt"},
        [s3_connector.Document.from_bytes(b"written")],
    )
    body = s3_client.get_object(Bucket=moto_bucket, Key="ignored.txt")["Body"].read()
    assert body == b"written"


def test_a_lazy_run_writes_only_as_it_is_iterated(moto_connection, moto_bucket, s3_client):
    harness = s3_connector.Harness(moto_connection)
    documents = [s3_connector.Document.from_bytes(b"%d" % n, key=f"lazy/{n}") for n in range(3)]
    responses = harness.run("put_object", {"bucket": moto_bucket}, documents, lazy=True)
    assert s3_client.list_objects_v2(Bucket=moto_bucket, Prefix="lazy/")["KeyCount"] == 0
    assert [r.properties["key"] for r in responses] == ["lazy/0", "lazy/1", "lazy/2"]
    assert s3_client.list_objects_v2(Bucket=moto_bucket, Prefix="lazy/")["KeyCount"] == 3


def test_an_eager_run_returns_the_responses_in_input_order(moto_connection, moto_bucket):
    harness = s3_connector.Harness(moto_connection)
    documents = [s3_connector.Document.from_bytes(b"x" * n, key=f"eager/{n}") for n in range(5)]
    responses = harness.run("put_object", {"bucket": moto_bucket}, documents)
    assert isinstance(responses, list)
    assert [(r.properties["key"], r.properties["size"]) for r in responses] == [
        (f"eager/{n}", n) for n in range(5)
    ]


def test_a_content_producing_run_stays_lazy(moto_connection, moto_bucket, s3_client):
    s3_client.put_object(Bucket=moto_bucket, Key="a.txt", Body=b"alpha")
    responses = s3_connector.Harness(moto_connection).run(
        "get_object", {"bucket": moto_bucket, "key": "a.txt"}
    )
    assert not isinstance(responses, list)
    [document] = responses
    assert document.read() == b"alpha"


def test_documents_are_built_from_bytes_path_and_stream(tmp_path, moto_connection, moto_bucket):
    path = tmp_path / "orders.csv"
    path.write_bytes(b"id,total\n1,9.50\n")
    from_path = s3_connector.Document.from_path(path, folder="in")
    assert from_path.properties == {"file_name": "orders.csv", "folder": "in"}
    with open(path, "rb") as stream:
        documents = [
            s3_connector.Document.from_bytes(b"bytes", key="api/bytes"),
            from_path,
            s3_connector.Document.from_stream(stream, key="api/stream"),
        ]
        harness = s3_connector.Harness(moto_connection)
        responses = harness.run("put_object", {"bucket": moto_bucket}, documents)
    assert [r.properties["key"] for r in responses] == ["api/bytes", "in/orders.csv", "api/stream"]
    assert [r.properties["size"] for r in responses] == [5, 16, 16]


def test_document_constructors_refuse_the_wrong_content_type():
    import io

    with pytest.raises(TypeError, match="from_bytes takes bytes, not str"):
        s3_connector.Document.from_bytes("text")
    with pytest.raises(TypeError, match="binary stream, not StringIO"):
        s3_connector.Document.from_stream(io.StringIO("text"))


def test_an_eager_purge_deletes_and_a_partial_one_raises(moto_connection, moto_bucket, s3_client):
    for n in range(5):
        s3_client.put_object(Bucket=moto_bucket, Key=f"old/{n}", Body=b"x")
    harness = s3_connector.Harness(moto_connection)
    [response] = harness.run("purge", {"bucket": moto_bucket, "prefix": "old/", "dry_run": False})
    assert response.properties["deleted"] == 5 and len(response.properties["keys"]) == 5
    assert s3_client.list_objects_v2(Bucket=moto_bucket, Prefix="old/")["KeyCount"] == 0


def test_an_eager_listing_is_read_into_lists(moto_connection, moto_bucket, s3_client):
    for n in range(3):
        s3_client.put_object(Bucket=moto_bucket, Key=f"l/{n}", Body=b"x")
    [listing] = s3_connector.Harness(moto_connection).run(
        "list_objects", {"bucket": moto_bucket, "prefix": "l/"}
    )
    assert [item["key"] for item in listing.properties["objects"]] == ["l/0", "l/1", "l/2"]
