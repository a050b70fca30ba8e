import base64
import io
import json
import os

import boto3
import pytest
from support import answer, new_sse_c_key

from s3_connector.connector.documents import Document, inline_content
from s3_connector.connector.errors import InvalidInput, NotFound, PreconditionFailed
from s3_connector.connector.harness import Harness
from s3_connector.connector.uploads import PART_SIZE


class OneShotStream(io.RawIOBase):
    """A non-seekable stream, like stdin or a socket, that counts what was read."""

    def __init__(self, size: int):
        self.remaining = size
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), self.remaining)
        buffer[:count] = os.urandom(count) if count < 64 else b"x" * count
        self.remaining -= count
        self.read_bytes += count
        return count


@pytest.fixture
def harness(moto_connection):
    return Harness(moto_connection)


def put(harness, config, *documents):
    return [d.properties for d in harness.run("put_object", config, list(documents))]


def s3():
    return boto3.client("s3", region_name="us-east-1")


def test_put_uses_the_document_file_name_and_guesses_content_type(harness, moto_bucket):
    [response] = put(harness, {"bucket": moto_bucket}, Document({"file_name": "in/a.csv"}, b"a,b"))
    assert response["key"] == "in/a.csv"
    assert (response["folder"], response["file_name"]) == ("in", "a.csv")
    assert response["content_type"] == "text/csv"
    assert response["size"] == 3 and response["region"] == "us-east-1"
    head = s3().head_object(Bucket=moto_bucket, Key="in/a.csv")
    assert head["ContentType"] == "text/csv"
    assert response["etag"] == head["ETag"].strip('"')
    assert response["link"] == f"https://{moto_bucket}.s3.us-east-1.amazonaws.com/in/a.csv"


def test_key_wins_over_folder_and_file_name(harness, moto_bucket):
    config = {"bucket": moto_bucket, "folder": "out/", "file_name": "x.bin"}
    assert put(harness, config, Document({}, b"1"))[0]["key"] == "out/x.bin"
    assert put(harness, {**config, "key": "k.bin"}, Document({}, b"1"))[0]["key"] == "k.bin"
    doc = Document({"key": "doc/key.txt", "file_name": "ignored"}, b"1")
    assert put(harness, config, doc)[0]["key"] == "doc/key.txt"


def test_missing_key_and_file_name_is_invalid(harness, moto_bucket):
    with pytest.raises(InvalidInput) as caught:
        put(harness, {"bucket": moto_bucket}, Document({}, b"1"))
    assert caught.value.field == "key"


def test_metadata_storage_class_and_content_type_are_stored(harness, moto_bucket):
    config = {
        "bucket": moto_bucket,
        "key": "m",
        "metadata": {"owner": "ops", "run-id": "7"},
        "storage_class": "STANDARD_IA",
        "content_type": "application/x-thing",
    }
    put(harness, config, Document({}, b"data"))
    head = s3().head_object(Bucket=moto_bucket, Key="m")
    assert head["Metadata"] == {"owner": "ops", "run-id": "7"}
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ContentType"] == "application/x-thing"


@pytest.mark.parametrize(
    ("metadata", "rule"),
    [
        ({"bad name": "v"}, "must be a token"),
        ({"k": "é"}, "printable ASCII"),
        ({"k": "v" * 3000}, "at most 2048 bytes"),
    ],
)
def test_bad_metadata_is_refused(harness, moto_bucket, metadata, rule):
    with pytest.raises(InvalidInput, match=rule) as caught:
        harness.prepare("put_object", {"bucket": moto_bucket, "metadata": metadata})
    assert caught.value.field == "metadata"


def test_overwrite_false_is_a_conditional_create(harness, moto_bucket):
    config = {"bucket": moto_bucket, "key": "once.txt", "overwrite": False}
    put(harness, config, Document({}, b"first"))
    with pytest.raises(PreconditionFailed):
        put(harness, config, Document({}, b"second"))
    body = s3().get_object(Bucket=moto_bucket, Key="once.txt")["Body"].read()
    assert body == b"first"


def test_overwrite_false_sends_if_none_match_on_every_write(moto_connection, moto_bucket):
    sent = []
    client = moto_connection.client(create_only=True)
    client.meta.events.register(
        "before-call.s3.*",
        lambda params, model, **_: sent.append(
            (model.name, params["headers"].get("If-None-Match"))
        ),
    )
    harness = Harness(moto_connection)
    stream = OneShotStream(PART_SIZE * 2 + 5)
    put(harness, {"bucket": moto_bucket, "key": "big", "overwrite": False}, Document({}, stream))
    put(harness, {"bucket": moto_bucket, "key": "small", "overwrite": False}, Document({}, b"s"))
    assert ("CompleteMultipartUpload", "*") in sent
    assert ("PutObject", "*") in sent


def test_large_unseekable_stream_is_uploaded_in_parts(harness, moto_bucket):
    stream = OneShotStream(PART_SIZE * 2 + 123)
    [response] = put(harness, {"bucket": moto_bucket, "key": "stream.bin"}, Document({}, stream))
    assert response["size"] == PART_SIZE * 2 + 123 == stream.read_bytes
    head = s3().head_object(Bucket=moto_bucket, Key="stream.bin")
    assert head["ContentLength"] == PART_SIZE * 2 + 123
    assert head["ETag"].strip('"').endswith("-3")


def test_large_file_is_uploaded_from_disk(harness, moto_bucket, tmp_path):
    path = tmp_path / "big.dat"
    path.write_bytes(os.urandom(PART_SIZE + 1))
    [response] = put(harness, {"bucket": moto_bucket}, Document.from_path(path))
    assert response["key"] == "big.dat" and response["size"] == PART_SIZE + 1
    assert s3().get_object(Bucket=moto_bucket, Key="big.dat")["Body"].read() == path.read_bytes()


def test_get_streams_the_object_with_its_properties(harness, moto_bucket):
    s3().put_object(
        Bucket=moto_bucket,
        Key="dir/data.bin",
        Body=b"0123456789",
        ContentType="application/octet-stream",
        Metadata={"a": "b"},
    )
    [document] = harness.run("get_object", {"bucket": moto_bucket, "key": "dir/data.bin"})
    props = document.properties
    assert props["size"] == 10 and props["metadata"] == {"a": "b"}
    assert (props["folder"], props["file_name"]) == ("dir", "data.bin")
    assert props["last_modified"].endswith("+00:00")
    assert document.read() == b"0123456789"


def test_get_reads_a_range_and_a_version(harness, moto_bucket):
    s3().put_bucket_versioning(Bucket=moto_bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3().put_object(Bucket=moto_bucket, Key="v", Body=b"version one")["VersionId"]
    s3().put_object(Bucket=moto_bucket, Key="v", Body=b"version two")
    [old] = harness.run("get_object", {"bucket": moto_bucket, "key": "v", "version_id": first})
    assert old.read() == b"version one" and old.properties["version_id"] == first
    [part] = harness.run("get_object", {"bucket": moto_bucket, "key": "v", "range": "bytes=0-6"})
    assert part.read() == b"version"
    assert part.properties["content_range"] == "bytes 0-6/11"


def test_get_missing_key_is_not_found(harness, moto_bucket):
    with pytest.raises(NotFound, match="NoSuchKey"):
        list(harness.run("get_object", {"bucket": moto_bucket, "key": "missing"}))


AMAZON_S3_SSE_C_REFUSAL = (
    "The object was stored using a form of Server Side Encryption. The correct parameters "
    "must be provided to retrieve the object."
)
"""What Amazon S3 answers (400 InvalidRequest) to a GET of an SSE-C object without its key."""
SEAWEEDFS_SSE_C_REFUSAL = (
    "Requests specifying Server Side Encryption with Customer provided keys must provide the "
    "customer key."
)
"""What SeaweedFS answers (400 InvalidArgument) to the same GET."""


@pytest.mark.parametrize("activity", ["get_object", "read"])
@pytest.mark.parametrize(
    ("code", "message"),
    [("InvalidRequest", AMAZON_S3_SSE_C_REFUSAL), ("InvalidArgument", SEAWEEDFS_SSE_C_REFUSAL)],
)
def test_an_sse_c_object_read_without_its_key_names_the_field(
    harness, moto_connection, moto_bucket, activity, code, message
):
    s3().put_object(Bucket=moto_bucket, Key="secret.txt", Body=b"classified")
    answer(moto_connection, "GetObject", 400, code, message)
    with pytest.raises(InvalidInput) as caught:
        list(harness.run(activity, {"bucket": moto_bucket, "key": "secret.txt"}))
    assert caught.value.field == "sse_c_key"
    assert caught.value.request_id == "REQ123"
    assert caught.value.message == (
        "the object is encrypted with SSE-C and needs its key; "
        f"GetObject s3://{moto_bucket}/secret.txt failed: {code} ({message})"
    )


def test_an_sse_c_refusal_with_a_key_given_is_s3s_error(harness, moto_connection, moto_bucket):
    answer(moto_connection, "GetObject", 400, "InvalidRequest", AMAZON_S3_SSE_C_REFUSAL)
    config = {"bucket": moto_bucket, "key": "secret.txt", "sse_c_key": new_sse_c_key()}
    with pytest.raises(InvalidInput, match="InvalidRequest") as caught:
        list(harness.run("get_object", config))
    assert caught.value.field is None
    assert "needs its key" not in caught.value.message


def test_other_refusals_are_not_taken_for_sse_c_even_when_the_key_says_customer(
    harness, moto_connection, moto_bucket
):
    answer(moto_connection, "GetObject", 416, "InvalidRange", "The requested range is not valid")
    config = {"bucket": moto_bucket, "key": "customers/encryption.csv", "range": "bytes=90-99"}
    with pytest.raises(InvalidInput, match="InvalidRange") as caught:
        list(harness.run("get_object", config))
    assert caught.value.field is None


@pytest.mark.parametrize("bad", ["0-10", "bytes=a-b", "bytes=5"])
def test_bad_range_is_refused(harness, bad):
    with pytest.raises(InvalidInput, match="byte range") as caught:
        harness.prepare("get_object", {"bucket": "abc", "key": "k", "range": bad})
    assert caught.value.field == "range"


@pytest.mark.parametrize(
    ("content_type", "data", "expected", "form"),
    [
        ("application/json", b'{"a": [1, 2]}', {"a": [1, 2]}, "json"),
        ("application/vnd.api+json; charset=utf-8", b"[1]", [1], "json"),
        ("text/plain; charset=utf-8", "héllo".encode(), "héllo", "text"),
        ("application/json", b"not json", "not json", "text"),
        ("image/png", b"\x89PNG\x00", base64.b64encode(b"\x89PNG\x00").decode(), "base64"),
        ("text/plain", b"\xff\xfe", base64.b64encode(b"\xff\xfe").decode(), "base64"),
    ],
)
def test_inline_content_follows_the_content_type(content_type, data, expected, form):
    inline = inline_content(Document({"content_type": content_type}, data))
    assert inline == {"content": expected, "content_format": form}
    json.dumps(inline)


def test_inline_content_has_a_size_limit():
    with pytest.raises(InvalidInput, match="inline limit") as caught:
        inline_content(Document({"content_type": "text/plain"}, b"x" * 11), limit=10)
    assert caught.value.field == "output"


class ShortReads(io.RawIOBase):
    """A raw stream whose reads return at most 100 bytes, as sockets and pipes may."""

    def __init__(self, data: bytes):
        self.data = memoryview(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), 100, len(self.data))
        buffer[:count] = self.data[:count]
        self.data = self.data[count:]
        return count


def test_short_reads_never_truncate_an_upload(harness, moto_bucket):
    data = os.urandom(20_000)
    put(harness, {"bucket": moto_bucket, "key": "short"}, Document({}, ShortReads(data)))
    assert s3().get_object(Bucket=moto_bucket, Key="short")["Body"].read() == data
