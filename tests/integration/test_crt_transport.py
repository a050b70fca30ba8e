"""The awscrt transport (connector/crt_transport.py) against a real S3 server (SeaweedFS)."""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest
from support import file_size_limit

from s3_connector.connector import cancellation
from s3_connector.connector.connection import Connection
from s3_connector.connector.crt_transport import (
    CrtNetworkError,
    CrtRequestError,
    CrtTransport,
    MiB,
)
from s3_connector.connector.errors import (
    Cancelled,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    TransientFailure,
)
from s3_connector.connector.integrity import checksum_of

S3 = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def transport_for(settings: dict, **kwargs) -> CrtTransport:
    credentials = Connection(settings).session().get_credentials()
    return CrtTransport(
        credentials.get_frozen_credentials,
        settings["region"],
        settings["endpoint_url"],
        settings["addressing_style"],
        verify_tls=True,
        **kwargs,
    )


@pytest.fixture
def crt(seaweed_settings):
    with transport_for(seaweed_settings) as transport:
        yield transport


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_back(client, bucket: str, key: str, **extra) -> bytes:
    return client.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()


def collect(crt: CrtTransport, bucket: str, key: str, headers=None, *, start=0, **kwargs):
    """The object's bytes through a callback sink, checking that offsets are contiguous from
    `start`: an offset is a position in the object, not in the body (a Range from 100 starts
    at 100)."""
    buffer = bytearray()

    def sink(chunk, offset):
        assert offset == start + len(buffer), "chunks arrive in order, without gaps"
        buffer.extend(chunk)

    response = crt.get_object(bucket, key, headers or {}, sink, **kwargs)
    return bytes(buffer), response


def sse_c_headers(key: bytes) -> dict[str, str]:
    return {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
        "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(
            hashlib.md5(key).digest()
        ).decode(),
    }


@pytest.mark.parametrize("size", [0, 1024, 20 * MiB], ids=["empty", "1KiB", "20MiB"])
def test_put_then_get_round_trips(crt, seaweed_client, seaweed_bucket, size):
    data = os.urandom(size)
    stored = crt.put_object(seaweed_bucket, "round/trip.bin", data, None, {})
    assert stored.status == 200 and stored["etag"]

    assert sha256(read_back(seaweed_client, seaweed_bucket, "round/trip.bin")) == sha256(data)
    content, response = collect(crt, seaweed_bucket, "round/trip.bin")
    assert sha256(content) == sha256(data)
    assert int(response["content-length"]) == size

    head = seaweed_client.head_object(
        Bucket=seaweed_bucket, Key="round/trip.bin", ChecksumMode="ENABLED"
    )
    if size > crt.part_size:
        # multipart inside CRT: three 8 MiB parts, each with its CRC32C, a composite checksum
        assert stored["etag"].strip('"').endswith("-3")
        assert head["ChecksumCRC32C"].endswith("-3") and head["ChecksumType"] == "COMPOSITE"
    else:
        assert head["ChecksumCRC32C"] == checksum_of("CRC32C", data)
        assert stored["x-amz-checksum-crc32c"] == head["ChecksumCRC32C"]
        assert "ContentEncoding" not in head, "no aws-chunked encoding stored with the object"
        assert response.checksum_validated and response.checksum_algorithm == "CRC32C"


def test_full_object_checksum_given_as_a_header_is_stored_and_validated(
    crt, seaweed_client, seaweed_bucket
):
    data = os.urandom(20 * MiB)
    checksum = checksum_of("CRC32C", data)
    crt.put_object(seaweed_bucket, "full.bin", data, None, {"x-amz-checksum-crc32c": checksum})

    head = seaweed_client.head_object(Bucket=seaweed_bucket, Key="full.bin", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32C"] == checksum and head["ChecksumType"] == "FULL_OBJECT"
    content, response = collect(crt, seaweed_bucket, "full.bin")
    assert content == data and response.checksum_validated


def test_wrong_full_object_checksum_is_refused_and_leaves_no_upload(
    crt, seaweed_client, seaweed_bucket
):
    with pytest.raises(CrtRequestError) as failure:
        crt.put_object(
            seaweed_bucket,
            "bad.bin",
            os.urandom(20 * MiB),
            None,
            {"x-amz-checksum-crc32c": "AAAAAA=="},
        )
    assert failure.value.status == 400 and failure.value.code == "BadDigest"
    assert failure.value.operation == "CompleteMultipartUpload"
    assert not seaweed_client.list_multipart_uploads(Bucket=seaweed_bucket).get("Uploads")


def test_put_from_a_file_and_get_to_a_file(crt, seaweed_client, seaweed_bucket, tmp_path):
    data = os.urandom(20 * MiB + 5)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    crt.put_object(seaweed_bucket, "files/one.bin", source, None, {"Content-Type": "x/y"})
    assert sha256(read_back(seaweed_client, seaweed_bucket, "files/one.bin")) == sha256(data)

    target = tmp_path / "out" / "copy.bin"
    target.parent.mkdir()
    response = crt.get_object(seaweed_bucket, "files/one.bin", {}, target)
    assert target.read_bytes() == data and response["content-type"] == "x/y"
    assert os.listdir(target.parent) == ["copy.bin"]


def test_failed_get_to_a_file_leaves_no_file(crt, seaweed_bucket, tmp_path):
    target = tmp_path / "missing.bin"
    with pytest.raises(CrtRequestError) as failure:
        crt.get_object(seaweed_bucket, "no/such/key", {}, target)
    assert failure.value.status == 404
    assert isinstance(failure.value.to_connector_error("GetObject", "k"), NotFound)
    assert os.listdir(tmp_path) == []


def test_ranged_gets_to_a_file_start_the_file_at_the_range(crt, seaweed_bucket, tmp_path):
    data = os.urandom(20 * MiB)
    crt.put_object(seaweed_bucket, "ranged-file.bin", data, None, {})
    first, last = 100, 10 * MiB + 99
    target = tmp_path / "range.bin"
    crt.get_object(seaweed_bucket, "ranged-file.bin", {"Range": f"bytes={first}-{last}"}, target)
    assert target.read_bytes() == data[first : last + 1]
    crt.get_object(seaweed_bucket, "ranged-file.bin", {"Range": "bytes=-10"}, target)
    assert target.read_bytes() == data[-10:]

    downloaded = tmp_path / "download.bin"
    downloaded.write_bytes(b"older and longer content " * MiB)
    headers = {"Range": f"bytes={first}-{last}"}
    crt.begin_download(seaweed_bucket, "ranged-file.bin", headers, str(downloaded)).result()
    assert downloaded.read_bytes() == data[first : last + 1], "truncated, then written"
    assert sorted(os.listdir(tmp_path)) == ["download.bin", "range.bin"]


def test_a_failed_write_fails_the_get_with_its_error(crt, seaweed_bucket, tmp_path):
    crt.put_object(seaweed_bucket, "too-big.bin", os.urandom(20 * MiB), None, {})
    with pytest.raises(OSError) as full:
        crt.begin_download(seaweed_bucket, "too-big.bin", {}, "/dev/full").result()
    assert full.value.errno == errno.ENOSPC

    with file_size_limit(5 * MiB), pytest.raises(OSError) as too_big:
        crt.get_object(seaweed_bucket, "too-big.bin", {}, tmp_path / "copy.bin")
    assert too_big.value.errno == errno.EFBIG
    assert os.listdir(tmp_path) == [], "the partial file is removed"


def test_put_from_a_stream_of_unknown_size(crt, seaweed_client, seaweed_bucket):
    small, large = b"hello", os.urandom(9 * MiB)
    small_etag = crt.put_object(seaweed_bucket, "s", io.BytesIO(small), None, {})["etag"]
    large_etag = crt.put_object(seaweed_bucket, "l", io.BytesIO(large), None, {})["etag"]
    assert small_etag.strip('"') == hashlib.md5(small).hexdigest(), "one PutObject"
    assert large_etag.strip('"').endswith("-2"), "a multipart upload of two parts"
    assert read_back(seaweed_client, seaweed_bucket, "s") == small
    assert read_back(seaweed_client, seaweed_bucket, "l") == large


def test_metadata_content_type_and_odd_keys_are_kept(crt, seaweed_client, seaweed_bucket):
    key = "dir/a b+c&d=é~%.txt"
    crt.put_object(
        seaweed_bucket,
        key,
        b"odd",
        None,
        {"Content-Type": "text/csv", "x-amz-meta-origin": "crt", "Cache-Control": "no-cache"},
    )
    head = seaweed_client.head_object(Bucket=seaweed_bucket, Key=key)
    assert head["ContentType"] == "text/csv" and head["Metadata"] == {"origin": "crt"}
    assert head["CacheControl"] == "no-cache"
    status, headers, _ = crt.request("HEAD", seaweed_bucket, key)
    assert status == 200 and headers["x-amz-meta-origin"] == "crt"
    assert crt.request("DELETE", seaweed_bucket, key)[0] == 204


@pytest.mark.parametrize("size", [1000, 20 * MiB], ids=["single", "multipart"])
def test_sse_c_put_then_get_with_the_key_and_refused_without(
    crt, seaweed_client, seaweed_bucket, size
):
    key, data = os.urandom(32), os.urandom(size)
    crt.put_object(seaweed_bucket, "secret.bin", data, None, sse_c_headers(key))

    content, _ = collect(crt, seaweed_bucket, "secret.bin", sse_c_headers(key))
    assert content == data
    assert (
        read_back(
            seaweed_client,
            seaweed_bucket,
            "secret.bin",
            SSECustomerAlgorithm="AES256",
            SSECustomerKey=key,
        )
        == data
    )
    with pytest.raises(CrtRequestError) as failure:
        crt.get_object(seaweed_bucket, "secret.bin", {}, lambda chunk, offset: None)
    # validating checksums, CRT asks HeadObject first: a bodiless 400
    assert failure.value.status == 400 and failure.value.operation == "HeadObject"
    assert isinstance(failure.value.to_connector_error("GetObject", "k"), InvalidInput)
    with pytest.raises(CrtRequestError) as failure:
        crt.get_object(
            seaweed_bucket, "secret.bin", {}, lambda chunk, offset: None, validate_checksum=False
        )
    assert (failure.value.status, failure.value.code) == (400, "InvalidArgument")
    assert "customer" in failure.value.message


def test_if_none_match_refuses_to_replace_an_object(crt, seaweed_client, seaweed_bucket):
    crt.put_object(seaweed_bucket, "taken", b"first", None, {})
    with pytest.raises(CrtRequestError) as failure:
        crt.put_object(seaweed_bucket, "taken", b"second", None, {"If-None-Match": "*"})
    assert (failure.value.status, failure.value.code) == (412, "PreconditionFailed")
    assert failure.value.request_id
    assert isinstance(failure.value.to_connector_error("PutObject", "k"), PreconditionFailed)
    assert read_back(seaweed_client, seaweed_bucket, "taken") == b"first"


def test_if_none_match_on_a_multipart_put_fails_at_completion_and_is_aborted(
    crt, seaweed_client, seaweed_bucket
):
    crt.put_object(seaweed_bucket, "taken", b"first", None, {})
    with pytest.raises(CrtRequestError) as failure:
        crt.put_object(seaweed_bucket, "taken", os.urandom(20 * MiB), None, {"If-None-Match": "*"})
    assert (failure.value.status, failure.value.code) == (412, "PreconditionFailed")
    assert failure.value.operation == "CompleteMultipartUpload"
    assert not seaweed_client.list_multipart_uploads(Bucket=seaweed_bucket).get("Uploads")
    assert read_back(seaweed_client, seaweed_bucket, "taken") == b"first"


class _FailingStream(io.RawIOBase):
    """Serves `fail_at` bytes, then waits for `release` and raises."""

    def __init__(self, fail_at: int):
        self._left = fail_at
        self.waiting = threading.Event()
        self.release = threading.Event()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._left <= 0:
            self.waiting.set()
            self.release.wait(30)
            raise OSError("the source broke")
        count = min(len(buffer), self._left)
        buffer[:count] = b"x" * count
        self._left -= count
        return count


def test_a_failed_multipart_put_is_aborted_by_crt(crt, seaweed_client, seaweed_bucket):
    stream = _FailingStream(fail_at=2 * crt.part_size + MiB)
    pending = crt.begin_put_object(seaweed_bucket, "broken.bin", stream, 40 * MiB, {})
    assert stream.waiting.wait(30)
    # the upload exists while the body stream is stuck in its third part
    uploads = seaweed_client.list_multipart_uploads(Bucket=seaweed_bucket).get("Uploads", [])
    assert [upload["Key"] for upload in uploads] == ["broken.bin"]
    stream.release.set()
    with pytest.raises(OSError, match="the source broke"):
        pending.result()
    assert not seaweed_client.list_multipart_uploads(Bucket=seaweed_bucket).get("Uploads")
    with pytest.raises(seaweed_client.exceptions.ClientError):
        seaweed_client.head_object(Bucket=seaweed_bucket, Key="broken.bin")


class _SlowStream(io.RawIOBase):
    """Serves `size` bytes, slowly after the first `fast` bytes; `slowed` is set then."""

    def __init__(self, size: int, fast: int):
        self._left, self._fast = size, fast
        self.slowed = threading.Event()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._left <= 0:
            return 0
        if self._fast <= 0:
            self.slowed.set()
            time.sleep(0.05)
        count = min(len(buffer), self._left, 256 * 1024)
        buffer[:count] = b"y" * count
        self._left -= count
        self._fast -= count
        return count


def test_a_cancelled_multipart_put_is_aborted(crt, seaweed_client, seaweed_bucket):
    stream = _SlowStream(size=40 * MiB, fast=2 * crt.part_size + MiB)

    def cancel_once_the_upload_exists():
        stream.slowed.wait(30)
        while not seaweed_client.list_multipart_uploads(Bucket=seaweed_bucket).get("Uploads"):
            time.sleep(0.05)
        cancellation.cancel()

    helper = threading.Thread(target=cancel_once_the_upload_exists)
    helper.start()
    try:
        with pytest.raises(Cancelled):
            crt.put_object(seaweed_bucket, "cancelled.bin", stream, 40 * MiB, {})
    finally:
        helper.join()
        cancellation.reset()
    assert not seaweed_client.list_multipart_uploads(Bucket=seaweed_bucket).get("Uploads")


def test_ranged_get_across_parts(crt, seaweed_bucket):
    data = os.urandom(20 * MiB)
    crt.put_object(seaweed_bucket, "ranged.bin", data, None, {})
    first, last = 100, 10 * MiB + 99
    ranged = {"Range": f"bytes={first}-{last}"}
    content, response = collect(crt, seaweed_bucket, "ranged.bin", ranged, start=first)
    assert content == data[first : last + 1]
    assert response.status == 206
    assert response["content-range"] == f"bytes {first}-{last}/{len(data)}"

    suffix = {"Range": "bytes=-10"}
    content, _ = collect(crt, seaweed_bucket, "ranged.bin", suffix, start=len(data) - 10)
    assert content == data[-10:]


def test_get_a_version_and_if_match(crt, seaweed_client, seaweed_bucket):
    seaweed_client.put_bucket_versioning(
        Bucket=seaweed_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    first = crt.put_object(seaweed_bucket, "v", b"one", None, {})
    second = crt.put_object(seaweed_bucket, "v", b"two", None, {})
    assert first["x-amz-version-id"] != second["x-amz-version-id"]
    content, _ = collect(crt, seaweed_bucket, "v", version_id=first["x-amz-version-id"])
    assert content == b"one"
    content, _ = collect(crt, seaweed_bucket, "v", {"If-Match": second["etag"]})
    assert content == b"two"
    with pytest.raises(CrtRequestError) as failure:
        collect(crt, seaweed_bucket, "v", {"If-Match": first["etag"]})
    assert failure.value.status == 412


def test_list_objects_v2_pages_through_request(crt, seaweed_bucket):
    keys = [f"list/{number:03d}" for number in range(7)]
    for key in keys:
        crt.put_object(seaweed_bucket, key, b"", None, {})
    seen, token, pages = [], None, 0
    while True:
        query = {"list-type": "2", "prefix": "list/", "max-keys": "3"}
        if token:
            query["continuation-token"] = token
        status, headers, body = crt.request("GET", seaweed_bucket, None, query)
        assert status == 200 and headers["content-type"].startswith("application/xml")
        root = ET.fromstring(body)
        seen += [element.text for element in root.iter(f"{S3}Key")]
        pages += 1
        if root.findtext(f"{S3}IsTruncated") != "true":
            assert root.find(f"{S3}NextContinuationToken") is None
            break
        token = root.findtext(f"{S3}NextContinuationToken")
        assert token
    assert seen == keys and pages == 3


def test_request_error_is_parsed_from_the_xml_body(crt):
    with pytest.raises(CrtRequestError) as failure:
        crt.request("GET", "no-such-bucket-crt", None, {"list-type": "2"})
    error = failure.value
    assert (error.status, error.code, error.operation) == (404, "NoSuchBucket", "ListObjectsV2")
    assert error.request_id and error.headers["x-amz-request-id"] == error.request_id
    assert isinstance(error.to_connector_error("ListObjectsV2", "b"), NotFound)


def test_wrong_credentials_are_refused(seaweed_settings, seaweed_bucket):
    settings = dict(seaweed_settings, secret_access_key="wrong")
    with transport_for(settings, max_attempts=1) as crt, pytest.raises(CrtRequestError) as failure:
        crt.put_object(seaweed_bucket, "x", b"x", None, {})
    assert (failure.value.status, failure.value.code) == (403, "SignatureDoesNotMatch")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_credentials_failure_is_raised_as_itself(seaweed_settings, seaweed_bucket):
    def broken():
        raise LookupError("no credentials in the vault")

    endpoint = seaweed_settings["endpoint_url"]
    with (
        CrtTransport(broken, "us-east-1", endpoint, "path", True) as crt,
        pytest.raises(LookupError, match="vault"),
    ):
        crt.put_object(seaweed_bucket, "x", b"x", None, {})


def test_connection_refused_is_a_network_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    credentials = lambda: ("k", "s", None)  # noqa: E731
    with (
        CrtTransport(credentials, "us-east-1", endpoint, "path", True, max_attempts=2) as crt,
        pytest.raises(CrtNetworkError) as failure,
    ):
        crt.put_object("bucket", "key", b"x", None, {})
    assert failure.value.name == "AWS_IO_SOCKET_CONNECTION_REFUSED"
    assert isinstance(failure.value.to_connector_error("PutObject", "b/k"), TransientFailure)


_MEMORY_PROBE = """
import json, sys
from s3_connector.connector.crt_transport import CrtTransport

def peak_kib():  # VmHWM: ru_maxrss would include the (large) pytest parent's, kept over exec
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

endpoint, bucket, source, target = sys.argv[1:]
crt = CrtTransport(lambda: ("local", "local-secret", None), "us-east-1", endpoint, "path", True)
crt.put_object(bucket, "big.bin", source, None, {})
after_put = peak_kib()
crt.get_object(bucket, "big.bin", {}, target)
print(json.dumps({"after_put_kib": after_put, "peak_kib": peak_kib()}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmHWM (Linux)")
def test_peak_memory_of_a_large_put_and_get_stays_bounded(seaweed, seaweed_bucket, tmp_path):
    """192 MiB is 24 parts, more than CRT keeps in flight (4 connections x 4 requests)."""
    source, target = tmp_path / "big.bin", tmp_path / "copy.bin"
    with open(source, "wb") as out:
        for _ in range(192):
            out.write(os.urandom(MiB))
    run = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, seaweed.endpoint_url, seaweed_bucket, source, target],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    usage = json.loads(run.stdout)
    assert usage["peak_kib"] < 200 * 1024, usage
    assert sha256(target.read_bytes()) == sha256(source.read_bytes())
