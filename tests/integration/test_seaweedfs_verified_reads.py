"""Objects that another tool uploaded in parts are verified part by part: a composite
checksum, or a multipart ETag, with the part sizes S3 reports (GetObjectAttributes)."""

from __future__ import annotations

import base64
import os

import pytest
from awscrt import checksums

from s3_connector.connector.connection import Connection
from s3_connector.connector.harness import Harness

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
