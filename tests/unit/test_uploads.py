"""Uploads carry checksums and leave no multipart upload behind, whatever step fails."""

from __future__ import annotations

import base64
import hashlib
import os

import boto3
import pytest
from awscrt import checksums
from botocore.awsrequest import AWSResponse
from support import answer

from s3_connector.connector import cancellation
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import Cancelled, TransientFailure
from s3_connector.connector.harness import Harness
from s3_connector.connector.uploads import PART_SIZE, checksum_params, part_size_for

BIG = os.urandom(2 * PART_SIZE + 10)


def uploads_left(bucket):
    return boto3.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def put(connection, bucket, data, key="big.bin"):
    return list(
        Harness(connection).run("put_object", {"bucket": bucket, "key": key}, [Document({}, data)])
    )


def test_a_multipart_upload_declares_the_full_object_crc32c(moto_connection, moto_bucket):
    put(moto_connection, moto_bucket, BIG)
    head = boto3.client("s3").head_object(Bucket=moto_bucket, Key="big.bin", ChecksumMode="ENABLED")
    assert head["ChecksumType"] == "FULL_OBJECT"
    expected = base64.b64encode(checksums.crc32c(BIG).to_bytes(4, "big")).decode()
    assert head["ChecksumCRC32C"] == expected


def test_a_small_put_carries_its_checksum(moto_connection, moto_bucket):
    sent = []
    moto_connection.client().meta.events.register(
        "before-call.s3.PutObject", lambda params, **_: sent.append(params["headers"])
    )
    put(moto_connection, moto_bucket, b"small", key="small.txt")
    crc = base64.b64encode(checksums.crc32c(b"small").to_bytes(4, "big")).decode()
    assert sent[0]["x-amz-checksum-crc32c"] == crc


@pytest.mark.parametrize("operation", ["UploadPart", "CompleteMultipartUpload"])
def test_a_failed_step_aborts_the_upload(moto_connection, moto_bucket, operation):
    answer(moto_connection, operation, 503, "ServiceUnavailable")
    with pytest.raises(TransientFailure):
        put(moto_connection, moto_bucket, BIG)
    assert uploads_left(moto_bucket) == []
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=moto_bucket)


def test_a_create_retried_after_a_lost_answer_leaves_no_twin(moto_connection, moto_bucket):
    """The first CreateMultipartUpload reaches S3 but its answer is lost, so botocore sends a
    second one: the upload the first one started is found and aborted."""
    lost = []

    def lose_first_answer(request, **_):
        if lost:
            return None
        lost.append(boto3.client("s3").create_multipart_upload(Bucket=moto_bucket, Key="big.bin"))
        return AWSResponse(request.url, 503, {}, RawBody(b"<Error><Code>SlowDown</Code></Error>"))

    moto_connection.client().meta.events.register(
        "before-send.s3.CreateMultipartUpload", lose_first_answer
    )
    put(moto_connection, moto_bucket, BIG)
    assert lost and uploads_left(moto_bucket) == []
    body = boto3.client("s3").get_object(Bucket=moto_bucket, Key="big.bin")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(BIG).digest()


class RawBody:
    """The raw stream of a canned HTTP response."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_):
        yield self._data


def test_cancelling_stops_at_the_next_part_and_aborts(moto_connection, moto_bucket):
    moto_connection.client().meta.events.register(
        "before-call.s3.UploadPart", lambda **_: cancellation.cancel()
    )
    try:
        with pytest.raises(Cancelled):
            put(moto_connection, moto_bucket, BIG)
    finally:
        cancellation.reset()
    assert uploads_left(moto_bucket) == []


def test_part_sizes_stay_under_ten_thousand_parts():
    assert part_size_for(None) == PART_SIZE
    assert part_size_for(100 * PART_SIZE) == PART_SIZE
    size = 200 * 1024**3
    assert -(-size // part_size_for(size)) <= 10_000


def test_md5_is_sent_as_content_md5():
    assert checksum_params("MD5", b"abc") == {
        "ContentMD5": base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    }
