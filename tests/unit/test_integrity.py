"""Verified, resumable reads and the digests behind them, without a server."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zlib

import pytest
from awscrt import checksums
from botocore.exceptions import IncompleteReadError, ReadTimeoutError

from s3_connector.connector.downloads import ObjectReader
from s3_connector.connector.errors import (
    Conflict,
    IntegrityError,
    PreconditionFailed,
    TransientFailure,
)
from s3_connector.connector.integrity import (
    Expected,
    composite_parts,
    expected_digest,
    plain_etag,
)

DATA = os.urandom(300_000)


def b64(number: int, width: int = 4) -> str:
    return base64.b64encode(number.to_bytes(width, "big")).decode()


def composite(parts: list[bytes]) -> str:
    """S3's composite CRC32C: the CRC32C of the parts' CRC32Cs, with the part count."""
    joined = b"".join(checksums.crc32c(p).to_bytes(4, "big") for p in parts)
    return f"{b64(checksums.crc32c(joined))}-{len(parts)}"


class Body:
    """A response body that serves `data` and breaks after `cut` bytes (raising `error`, or
    ending early when `error` is None)."""

    def __init__(self, data: bytes, cut: int | None = None, error: Exception | None = None):
        self._stream = io.BytesIO(data)
        self._cut = cut
        self._error = error
        self.closed = False

    def read(self, amount: int = -1) -> bytes:
        position = self._stream.tell()
        if self._cut is not None and position >= self._cut:
            if self._error is not None:
                raise self._error
            return b""
        if self._cut is not None:
            amount = min(amount, self._cut - position)
        return self._stream.read(amount)

    def close(self) -> None:
        self.closed = True


def response(data: bytes, body: Body | None = None, first: int = 0, **extra) -> dict:
    result = {"Body": body or Body(data), "ContentLength": len(data), "ETag": '"e1"', **extra}
    if first:
        result["ContentRange"] = f"bytes {first}-{first + len(data) - 1}/*"
    return result


def reader(first_response: dict, expected: Expected | None, refetch=None, attempts=3):
    return ObjectReader(
        first_response,
        refetch=refetch or (lambda first, last: pytest.fail("no resume expected")),
        expected=expected,
        attempts=attempts,
        target="s3://b/k",
    )


@pytest.mark.parametrize(
    ("algorithm", "value"),
    [
        ("CRC32", b64(zlib.crc32(DATA))),
        ("CRC32C", b64(checksums.crc32c(DATA))),
        ("CRC64NVME", b64(checksums.crc64nvme(DATA), 8)),
        ("SHA256", base64.b64encode(hashlib.sha256(DATA).digest()).decode()),
        ("SHA1", base64.b64encode(hashlib.sha1(DATA).digest()).decode()),
        ("MD5", hashlib.md5(DATA).hexdigest()),
    ],
    ids=["CRC32", "CRC32C", "CRC64NVME", "SHA256", "SHA1", "MD5"],
)
def test_whole_content_digests_verify_and_catch_a_flipped_byte(algorithm, value):
    assert reader(response(DATA), Expected(algorithm, value)).readall() == DATA
    corrupt = bytearray(DATA)
    corrupt[len(DATA) // 2] ^= 0xFF
    with pytest.raises(IntegrityError, match=algorithm):
        reader(response(bytes(corrupt)), Expected(algorithm, value)).readall()


def test_composite_checksum_and_multipart_etag_are_checked_part_by_part():
    parts = [DATA[:100_000], DATA[100_000:200_000], DATA[200_000:]]
    sizes = tuple(len(p) for p in parts)
    expected = Expected("CRC32C", composite(parts), sizes)
    assert reader(response(DATA), expected).readall() == DATA
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    etag = f"{hashlib.md5(md5s).hexdigest()}-3"
    assert reader(response(DATA), Expected("MD5", etag, sizes)).readall() == DATA
    wrong_boundaries = Expected("CRC32C", composite(parts), (150_000, 50_000, 100_000))
    with pytest.raises(IntegrityError):
        reader(response(DATA), wrong_boundaries).readall()


def test_the_strongest_declared_digest_is_chosen():
    full = {"ChecksumCRC32C": "AAAAAA==", "ETag": '"' + "a" * 32 + '"'}
    assert expected_digest(full, lambda: pytest.fail("no parts needed")).algorithm == "CRC32C"
    plain = {"ETag": '"' + "a" * 32 + '"'}
    assert expected_digest(plain, lambda: None) == Expected("MD5", "a" * 32)
    multipart = {"ChecksumCRC32": "AAAAAA==-2", "ETag": '"' + "b" * 32 + '-2"'}
    assert expected_digest(multipart, lambda: [5, 3]) == Expected("CRC32", "AAAAAA==-2", (5, 3))
    assert expected_digest(multipart, lambda: None) is None
    assert expected_digest(multipart, lambda: [5, 3, 1]) is None


def test_etags_of_encrypted_objects_are_not_taken_for_digests():
    md5 = '"' + "c" * 32 + '"'
    assert plain_etag({"ETag": md5}) == "c" * 32
    assert plain_etag({"ETag": md5, "SSECustomerAlgorithm": "AES256"}) is None
    assert plain_etag({"ETag": md5, "ServerSideEncryption": "aws:kms"}) is None
    assert plain_etag({"ETag": '"not-a-digest"'}) is None


@pytest.mark.parametrize(
    "error",
    [
        IncompleteReadError(actual_bytes=1, expected_bytes=2),
        ReadTimeoutError(endpoint_url="http://127.0.0.1"),
        ConnectionResetError(104, "Connection reset by peer"),
        None,
    ],
    ids=["incomplete", "read-timeout", "reset", "short-body"],
)
def test_a_broken_body_resumes_from_the_byte_reached_pinned_to_the_etag(error):
    asked = []

    def refetch(first, last):
        asked.append((first, last))
        return response(DATA[first : last + 1], first=first, ETag='"e1"')

    first = response(DATA, Body(DATA, cut=123_457, error=error))
    expected = Expected("CRC32C", b64(checksums.crc32c(DATA)))
    stream = reader(first, expected, refetch)
    assert stream.readall() == DATA
    assert asked == [(123_457, len(DATA) - 1)]
    assert stream.resumes == 1


def test_a_ranged_read_resumes_inside_its_range_and_checks_its_size():
    start, end = 1_000, 200_999
    part = DATA[start : end + 1]

    def refetch(first, last):
        return response(DATA[first : last + 1], first=first)

    first = response(part, Body(part, cut=5_000), first=start)
    stream = reader(first, None, refetch)
    assert stream.readall() == part
    assert stream.verification == "size"


def test_a_body_that_keeps_breaking_fails_as_transient_after_the_attempts():
    calls = []

    def refetch(first, last):
        calls.append(first)
        return response(DATA[first:], Body(DATA[first:], cut=0), first=first)

    first = response(DATA, Body(DATA, cut=10))
    with pytest.raises(TransientFailure, match="resumes failed"):
        reader(first, None, refetch, attempts=3).readall()
    assert len(calls) == 3


def test_an_object_changed_while_read_is_a_conflict_not_spliced():
    def refetch(first, last):
        raise PreconditionFailed("GetObject failed: PreconditionFailed")

    first = response(DATA, Body(DATA, cut=10))
    with pytest.raises(Conflict, match="changed while it was read"):
        reader(first, None, refetch).readall()


def test_a_resume_that_answers_other_bytes_is_an_integrity_error():
    def refetch(first, last):
        return response(DATA, first=0)

    with pytest.raises(IntegrityError, match="returned bytes"):
        reader(response(DATA, Body(DATA, cut=10)), None, refetch).readall()


def test_a_body_longer_than_declared_is_refused():
    first = {"Body": Body(DATA + b"extra"), "ContentLength": len(DATA), "ETag": '"e"'}
    with pytest.raises(IntegrityError, match="longer"):
        reader(first, None).readall()


def test_an_empty_object_is_verified():
    empty = Expected("CRC32C", b64(checksums.crc32c(b"")))
    assert reader(response(b""), empty).readall() == b""
    with pytest.raises(IntegrityError):
        reader(response(b""), Expected("CRC32C", "AAAAAQ==")).readall()


@pytest.mark.parametrize(
    ("response", "parts"),
    [
        ({"ChecksumCRC32C": "AAAAAA==-3", "ETag": '"0123456789abcdef0123456789abcdef-3"'}, 3),
        ({"ETag": '"0123456789abcdef0123456789abcdef-12"'}, 12),
        ({"ChecksumSHA256": "x" * 44 + "-2"}, 2),
        ({"ChecksumCRC32C": "AAAAAA==", "ETag": '"0123456789abcdef0123456789abcdef"'}, None),
        ({"ETag": '"0123456789abcdef0123456789abcdef-12"', "SSECustomerAlgorithm": "AES256"}, None),
        ({"ETag": '"0123456789abcdef0123456789abcdef-0"'}, None),
        ({}, None),
    ],
)
def test_the_parts_a_composite_form_declares(response, parts):
    assert composite_parts(response) == parts
