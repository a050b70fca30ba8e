"""Objects that another tool uploaded in parts are verified part by part: a composite
checksum, or a multipart ETag, with the part sizes S3 reports (GetObjectAttributes, or a
HeadObject of each part when a policy refuses GetObjectAttributes)."""

from __future__ import annotations

import base64
import errno
import os
from urllib.parse import parse_qs, urlsplit

import pytest
from awscrt import checksums
from faults.proxy import CORRUPT_BODY, DENIED, FaultProxy
from support import file_size_limit

from s3_connector.connector.connection import Connection
from s3_connector.connector.crt_transport import CrtTransport
from s3_connector.connector.errors import IntegrityError
from s3_connector.connector.harness import Harness
from s3_connector.connector.local_paths import write_under

PARTS = [os.urandom(5 * 1024 * 1024), os.urandom(5 * 1024 * 1024), os.urandom(1234)]


def upload_in_parts(client, bucket, key, algorithm=None):
    """A multipart upload as another tool would make it (boto3, no full-object checksum)."""
    extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, **extra)
    parts = []
    for number, data in enumerate(PARTS, 1):
        checksum = {}
        if algorithm:
            value = checksums.crc32c(data).to_bytes(4, "big")
            checksum = {"ChecksumCRC32C": base64.b64encode(value).decode()}
        answer = client.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=data,
            **checksum,
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"], **checksum})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )


@pytest.mark.parametrize(
    ("algorithm", "verified"), [("CRC32C", "CRC32C-composite"), (None, "MD5-multipart")]
)
def test_a_multipart_object_is_verified_part_by_part(
    seaweed_settings, seaweed_client, seaweed_bucket, algorithm, verified
):
    upload_in_parts(seaweed_client, seaweed_bucket, "parts.bin", algorithm)
    harness = Harness(Connection(seaweed_settings))
    [document] = harness.run("get_object", {"bucket": seaweed_bucket, "key": "parts.bin"})
    assert document.properties["verified"] == verified
    assert document.read() == b"".join(PARTS)


def test_a_download_that_cannot_be_written_fails_once_and_leaves_no_file(
    seaweed_settings, seaweed_client, seaweed_bucket, tmp_path, monkeypatch
):
    """A write refused (here the file size limit, as a full disk would) ends the read: it is
    not taken for a broken transfer and downloaded again range by range."""
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="big.bin", Body=os.urandom(12 << 20))
    ranged = []
    begin_get_object = CrtTransport.begin_get_object

    def counted(self, *args, **kwargs):
        ranged.append(args[1])
        return begin_get_object(self, *args, **kwargs)

    monkeypatch.setattr(CrtTransport, "begin_get_object", counted)
    harness = Harness(Connection({**seaweed_settings, "data_plane": "crt"}))
    [document] = harness.run("get_object", {"bucket": seaweed_bucket, "key": "big.bin"})
    with file_size_limit(4 << 20), pytest.raises(OSError) as refused:
        write_under(tmp_path, "out.bin", document.copy_to)
    assert refused.value.errno == errno.EFBIG
    assert ranged == [], "no ranged GET after the failed write"
    assert os.listdir(tmp_path) == []


# --- GetObjectAttributes refused ----------------------------------------------------------------

ALWAYS = 1000


@pytest.fixture
def denying(seaweed, seaweed_settings):
    """(proxy, connection): a connection through a proxy that answers every GetObjectAttributes
    with 403 AccessDenied, as a policy that grants s3:GetObject alone does."""
    with FaultProxy(seaweed.endpoint_url) as proxy:
        proxy.force(DENIED, query_has="attributes", times=ALWAYS)
        settings = {**seaweed_settings, "endpoint_url": proxy.endpoint_url, "max_attempts": 2}
        connection = Connection(settings)
        try:
            yield proxy, connection
        finally:
            connection.close()


def read_parts(connection: Connection, bucket: str):
    [document] = Harness(connection).run("get_object", {"bucket": bucket, "key": "parts.bin"})
    return document


def part_heads(proxy: FaultProxy) -> list[int]:
    """The part numbers of the HeadObject requests the proxy saw, in order."""
    numbers = []
    for seen in proxy.history:
        query = parse_qs(urlsplit(seen.target).query)
        if seen.method == "HEAD" and "partNumber" in query:
            numbers.append(int(query["partNumber"][0]))
    return numbers


@pytest.mark.parametrize(
    ("algorithm", "verified"), [("CRC32C", "CRC32C-composite"), (None, "MD5-multipart")]
)
def test_without_getobjectattributes_each_part_is_sized_by_a_headobject(
    denying, seaweed_client, seaweed_bucket, algorithm, verified
):
    proxy, connection = denying
    upload_in_parts(seaweed_client, seaweed_bucket, "parts.bin", algorithm)
    document = read_parts(connection, seaweed_bucket)
    assert document.properties["verified"] == verified
    assert document.read() == b"".join(PARTS)
    assert proxy.faults == {"denied": 1}
    assert sorted(part_heads(proxy)) == [1, 2, 3]


def test_without_getobjectattributes_a_corrupted_part_is_still_caught(
    denying, seaweed_client, seaweed_bucket
):
    proxy, connection = denying
    upload_in_parts(seaweed_client, seaweed_bucket, "parts.bin", "CRC32C")
    proxy.force(CORRUPT_BODY, method="GET", path_regex=r"/parts\.bin$", times=ALWAYS)
    document = read_parts(connection, seaweed_bucket)
    with pytest.raises(IntegrityError):
        document.read()
    assert proxy.faults["denied"] == 1 and proxy.faults["corrupt_body"] >= 1


def test_when_the_part_heads_are_refused_too_the_size_alone_is_checked(
    denying, seaweed_client, seaweed_bucket
):
    proxy, connection = denying
    proxy.force(DENIED, method="HEAD", query_has="partNumber", times=ALWAYS)
    upload_in_parts(seaweed_client, seaweed_bucket, "parts.bin", "CRC32C")
    document = read_parts(connection, seaweed_bucket)
    assert document.properties["verified"] == "size"
    assert document.read() == b"".join(PARTS)
    assert proxy.faults["denied"] >= 2
