"""Create, Write, Read and Presigned Link on moto; the CLI for write and read."""

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner
from support import MOTO_SETTINGS, JsonObjectContract, unique_bucket

from s3_connector.activities.create import Create
from s3_connector.activities.presign import PresignedLink
from s3_connector.activities.read import Read
from s3_connector.activities.write import Write
from s3_connector.cli.main import cli
from s3_connector.connector.connection import Connection
from s3_connector.connector.documents import INLINE_LIMIT, Document
from s3_connector.connector.errors import InvalidInput, NotFound, PreconditionFailed
from s3_connector.connector.harness import Harness
from s3_connector.sdk.testing import MOTO_CONNECTION, ActivityContract


@pytest.fixture
def harness(moto):
    return Harness(Connection(MOTO_SETTINGS))


def s3(region="us-east-1"):
    return boto3.client("s3", region_name=region)


def run(harness, activity, config, documents=None):
    return [document.properties for document in harness.run(activity, config, documents)]


def stored(bucket, key):
    response = s3().get_object(Bucket=bucket, Key=key)
    return response["Body"].read(), response["ContentType"]


# Create


def test_create_makes_an_empty_object_typed_from_its_key(harness, moto_bucket):
    [response] = run(harness, "create", {"bucket": moto_bucket, "key": "out/empty.csv"})
    assert response["size"] == 0 and response["folder_marker"] is False
    assert response["content_type"] == "text/csv"
    assert (response["folder"], response["file_name"]) == ("out", "empty.csv")
    assert response["etag"] == "d41d8cd98f00b204e9800998ecf8427e"  # MD5 of nothing
    assert stored(moto_bucket, "out/empty.csv") == (b"", "text/csv")


def test_create_makes_a_folder_marker_when_the_key_ends_in_a_slash(harness, moto_bucket):
    [response] = run(harness, "create", {"bucket": moto_bucket, "key": "reports/2024/"})
    assert response["folder_marker"] is True and response["size"] == 0
    assert response["content_type"] == "application/x-directory"
    assert stored(moto_bucket, "reports/2024/") == (b"", "application/x-directory")


def test_create_keeps_a_given_content_type_and_metadata(harness, moto_bucket):
    config = {
        "bucket": moto_bucket,
        "key": "flags/ready",
        "content_type": "application/x-flag",
        "metadata": {"run": "42"},
    }
    run(harness, "create", config)
    head = s3().head_object(Bucket=moto_bucket, Key="flags/ready")
    assert head["ContentType"] == "application/x-flag" and head["Metadata"] == {"run": "42"}


def test_create_refuses_an_existing_key_unless_overwrite(harness, moto_bucket):
    s3().put_object(Bucket=moto_bucket, Key="taken.txt", Body=b"keep me")
    with pytest.raises(PreconditionFailed, match="PreconditionFailed"):
        run(harness, "create", {"bucket": moto_bucket, "key": "taken.txt"})
    assert stored(moto_bucket, "taken.txt")[0] == b"keep me"
    run(harness, "create", {"bucket": moto_bucket, "key": "taken.txt", "overwrite": True})
    assert stored(moto_bucket, "taken.txt")[0] == b""


def test_create_takes_its_key_from_each_document(harness, moto_bucket):
    documents = [Document({"key": "a/"}), Document({"key": "b.json"})]
    responses = run(harness, "create", {"bucket": moto_bucket}, documents)
    assert [(r["key"], r["folder_marker"], r["content_type"]) for r in responses] == [
        ("a/", True, "application/x-directory"),
        ("b.json", False, "application/json"),
    ]


# Write


@pytest.mark.parametrize(
    "data", [{"a": [1, "é"], "b": None}, [1, 2, 3], 42, 2.5, True, None], ids=repr
)
def test_write_stores_json_values_as_json(harness, moto_bucket, data):
    [response] = run(harness, "write", {"bucket": moto_bucket, "key": "v.json", "data": data})
    body, content_type = stored(moto_bucket, "v.json")
    assert json.loads(body) == data
    assert content_type == response["content_type"] == "application/json"
    assert response["size"] == len(body)


def test_write_stores_a_string_as_utf8_text(harness, moto_bucket):
    [response] = run(harness, "write", {"bucket": moto_bucket, "key": "note", "data": "héllo {"})
    assert stored(moto_bucket, "note") == ("héllo {".encode(), "text/plain; charset=utf-8")
    assert response["size"] == len("héllo {".encode())


def test_write_content_type_overrides_and_folder_file_name_locate(harness, moto_bucket):
    config = {
        "bucket": moto_bucket,
        "folder": "out/",
        "file_name": "page.html",
        "data": "<p>hi</p>",
        "content_type": "text/html",
    }
    [response] = run(harness, "write", config)
    assert response["key"] == "out/page.html"
    assert stored(moto_bucket, "out/page.html") == (b"<p>hi</p>", "text/html")


def test_write_takes_data_from_the_document(harness, moto_bucket):
    documents = [Document({"key": "d1", "data": {"n": 1}}), Document({"key": "d2", "data": "x"})]
    run(harness, "write", {"bucket": moto_bucket}, documents)
    assert stored(moto_bucket, "d1") == (b'{"n":1}', "application/json")
    assert stored(moto_bucket, "d2") == (b"x", "text/plain; charset=utf-8")


def test_write_refuses_an_existing_key_by_default(harness, moto_bucket):
    config = {"bucket": moto_bucket, "key": "once.json", "data": {"v": 1}}
    run(harness, "write", config)
    with pytest.raises(PreconditionFailed):
        run(harness, "write", {**config, "data": {"v": 2}})
    assert json.loads(stored(moto_bucket, "once.json")[0]) == {"v": 1}
    run(harness, "write", {**config, "data": {"v": 3}, "overwrite": True})
    assert json.loads(stored(moto_bucket, "once.json")[0]) == {"v": 3}


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        ("x" * (INLINE_LIMIT + 1), "at most 16 MiB encoded"),
        ({"big": "é" * (INLINE_LIMIT // 2)}, "at most 16 MiB encoded"),
        (float("nan"), "NaN"),
        ({"when": datetime(2024, 1, 1)}, "JSON value or a string"),
    ],
    ids=["long-string", "multibyte-json", "nan", "not-json"],
)
def test_write_refuses_bad_data_before_writing(harness, moto_bucket, data, rule):
    with pytest.raises(InvalidInput, match=rule) as caught:
        run(harness, "write", {"bucket": moto_bucket, "key": "bad", "data": data})
    assert caught.value.field == "data"
    with pytest.raises(ClientError):
        s3().head_object(Bucket=moto_bucket, Key="bad")


def test_write_needs_data(harness, moto_bucket):
    with pytest.raises(InvalidInput) as caught:
        run(harness, "write", {"bucket": moto_bucket, "key": "k"})
    assert caught.value.field == "data"


# Read


@pytest.mark.parametrize(
    ("body", "content_type", "content", "form"),
    [
        (b'{"a": [1, 2]}', "application/json", {"a": [1, 2]}, "json"),
        ("héllo".encode(), "text/plain; charset=utf-8", "héllo", "text"),
        (b"\x89PNG\x00\xff", "image/png", base64.b64encode(b"\x89PNG\x00\xff").decode(), "base64"),
    ],
    ids=["json", "text", "binary"],
)
def test_read_returns_the_content_inline(harness, moto_bucket, body, content_type, content, form):
    s3().put_object(Bucket=moto_bucket, Key="in/obj", Body=body, ContentType=content_type)
    [response] = harness.run("read", {"bucket": moto_bucket, "key": "in/obj"})
    assert not response.has_content
    props = response.properties
    assert (props["content"], props["content_format"]) == (content, form)
    assert props["size"] == len(body) and props["content_type"] == content_type
    assert (props["folder"], props["file_name"]) == ("in", "obj")
    json.dumps(props)


def test_read_a_range_and_a_version(harness, moto_bucket):
    s3().put_bucket_versioning(Bucket=moto_bucket, VersioningConfiguration={"Status": "Enabled"})
    put = {"Bucket": moto_bucket, "Key": "v.txt", "ContentType": "text/plain"}
    first = s3().put_object(**put, Body=b"version one")["VersionId"]
    s3().put_object(**put, Body=b"version two")
    config = {"bucket": moto_bucket, "key": "v.txt", "version_id": first, "range": "bytes=8-"}
    [response] = run(harness, "read", config)
    assert response["content"] == "one" and response["version_id"] == first
    assert response["content_range"] == "bytes 8-10/11"


def test_read_a_missing_key_is_not_found(harness, moto_bucket):
    with pytest.raises(NotFound, match="NoSuchKey"):
        run(harness, "read", {"bucket": moto_bucket, "key": "absent"})


def test_read_refuses_an_object_over_the_inline_limit(harness, moto_bucket):
    s3().put_object(Bucket=moto_bucket, Key="big", Body=b"x" * (INLINE_LIMIT + 1))
    with pytest.raises(InvalidInput, match="16 MiB inline limit") as caught:
        run(harness, "read", {"bucket": moto_bucket, "key": "big"})
    assert caught.value.field == "key"
    [part] = run(harness, "read", {"bucket": moto_bucket, "key": "big", "range": "bytes=0-9"})
    assert part["content"] == base64.b64encode(b"x" * 10).decode()


# Presigned Link


def query(url):
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_presign_get_url_shape(harness, moto_bucket):
    before = datetime.now(UTC).replace(microsecond=0)
    [link] = run(harness, "presign", {"bucket": moto_bucket, "key": "dir/a b.txt"})
    parts, q = urlsplit(link["url"]), query(link["url"])
    assert (parts.scheme, parts.netloc) == ("https", f"{moto_bucket}.s3.amazonaws.com")
    assert unquote(parts.path) == "/dir/a b.txt"
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert (
        q["X-Amz-Credential"].startswith("AKIAMOTO/") and "/us-east-1/s3/" in q["X-Amz-Credential"]
    )
    assert q["X-Amz-Expires"] == "3600" and q["X-Amz-SignedHeaders"] == "host"
    assert "moto-secret" not in link["url"]
    assert (link["method"], link["expires_in"], link["headers"]) == ("GET", 3600, {})
    assert (link["folder"], link["file_name"], link["region"]) == ("dir", "a b.txt", "us-east-1")
    expires_at = datetime.fromisoformat(link["expires_at"])
    signed = datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert expires_at == signed + timedelta(seconds=3600)
    assert before <= signed <= datetime.now(UTC)


def test_presign_put_signs_the_content_type(harness, moto_bucket):
    config = {
        "bucket": moto_bucket,
        "key": "up.csv",
        "method": "PUT",
        "content_type": "text/csv",
        "expires_in": 60,
    }
    [link] = run(harness, "presign", config)
    q = query(link["url"])
    assert q["X-Amz-SignedHeaders"] == "content-type;host" and q["X-Amz-Expires"] == "60"
    assert link["headers"] == {"Content-Type": "text/csv"} and link["method"] == "PUT"


def test_presign_get_carries_the_version(harness, moto_bucket):
    config = {"bucket": moto_bucket, "key": "k", "version_id": "v-123"}
    [link] = run(harness, "presign", config)
    assert query(link["url"])["versionId"] == "v-123" and link["version_id"] == "v-123"


def test_presign_uses_the_buckets_regional_endpoint(harness):
    bucket = unique_bucket("eu")
    s3("eu-west-1").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    [link] = run(harness, "presign", {"bucket": bucket, "key": "k"})
    assert urlsplit(link["url"]).netloc == f"{bucket}.s3.eu-west-1.amazonaws.com"
    assert "/eu-west-1/s3/" in query(link["url"])["X-Amz-Credential"]
    assert link["region"] == "eu-west-1"


@pytest.mark.parametrize(
    ("config", "field", "rule"),
    [
        ({"expires_in": 0}, "expires_in", "1 to 604800 seconds"),
        ({"expires_in": 604801}, "expires_in", "1 to 604800 seconds"),
        ({"method": "PUT", "version_id": "v1"}, "version_id", "only when method is GET"),
        ({"content_type": "text/plain"}, "content_type", "only when method is PUT"),
        ({"method": "DELETE"}, "method", "must be one of"),
        ({"sse_c_key": base64.b64encode(b"k" * 32).decode()}, "sse_c_key", "unknown field"),
    ],
    ids=["zero", "over-7-days", "version-with-put", "type-with-get", "method", "sse-c"],
)
def test_presign_refuses_bad_settings(harness, config, field, rule):
    with pytest.raises(InvalidInput, match=rule) as caught:
        harness.prepare("presign", {"bucket": "abc", "key": "k", **config})
    assert caught.value.field == field


def test_presign_accepts_the_limits(harness, moto_bucket):
    for expires_in in (1, 604800):
        [link] = run(
            harness, "presign", {"bucket": moto_bucket, "key": "k", "expires_in": expires_in}
        )
        assert query(link["url"])["X-Amz-Expires"] == str(expires_in)


# CLI


def test_cli_write_then_read(moto, moto_bucket, tmp_path):
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps(MOTO_SETTINGS))
    runner = CliRunner()

    def s3c(*args):
        base = ["run", *args[:1], "-c", str(conn), "-p", f"bucket={moto_bucket}", *args[1:]]
        result = runner.invoke(cli, base, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.output.splitlines()]

    [written] = s3c("write", "-p", "key=a.json", "-p", 'data={"a": 1}')
    assert written["content_type"] == "application/json"
    assert stored(moto_bucket, "a.json") == (b'{"a":1}', "application/json")
    s3c("write", "-p", "key=b.txt", "-p", "data=hello")
    assert stored(moto_bucket, "b.txt") == (b"hello", "text/plain; charset=utf-8")

    [read] = s3c("read", "-p", "key=a.json")
    assert read["content"] == {"a": 1} and read["content_format"] == "json"
    assert read["key"] == "a.json" and "output" not in read
    [text] = s3c("read", "-p", "key=b.txt")
    assert text["content"] == "hello" and text["content_format"] == "text"


# The activity test kit


class TestCreateContract(ActivityContract):
    activity = Create
    config = {"key": "contract/new/", "metadata": {"origin": "kit"}}

    def prepare(self, client, bucket):
        return [Document({"key": "contract/new/"}), Document({"key": "contract/new/ready.txt"})]


class TestWriteContract(ActivityContract):
    activity = Write
    config = {"key": "contract/w.json", "data": {"hello": ["world", 1, None]}}


class TestReadContract(JsonObjectContract):
    activity = Read


class TestPresignContract(ActivityContract):
    activity = PresignedLink
    config = {"key": "contract/upload.csv", "method": "PUT", "content_type": "text/csv"}

    def test_secrets_never_show(self, valid_config, contract_bucket):
        """A link signed with temporary credentials must carry their session token (S3 needs
        it to check the signature); the secret key, which signs, never shows."""
        [link] = self._run(valid_config, contract_bucket)
        assert MOTO_CONNECTION["secret_access_key"] not in json.dumps(link)
        token = query(link["url"])["X-Amz-Security-Token"]
        assert token == MOTO_CONNECTION["session_token"]
