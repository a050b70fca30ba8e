"""Checksums of content: what S3 declares for an object, and digests that verify it.

S3 declares an object's content in one of these ways, strongest first: a full-object
checksum (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256), a composite checksum of its parts
(`value-N`), the ETag when it is the MD5 of the content (single-part, not SSE-C or SSE-KMS),
or a multipart ETag (the MD5 of the parts' MD5s, `md5-N`). Composite forms need the part
sizes (GetObjectAttributes). `expected_digest` picks the strongest one a response allows.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from awscrt import checksums as crt_checksums

CHECKSUM_ALGORITHMS = ("CRC64NVME", "CRC32C", "CRC32", "SHA256", "SHA1")
"""Checksum algorithms S3 stores, the one this connector prefers first."""


class Hasher(Protocol):
    def update(self, data: bytes | memoryview) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A CRC as a hashlib-like object (big-endian digest, as S3 encodes it)."""

    def __init__(self, function: Callable[[Any, int], int], width: int):
        self._function = function
        self._width = width
        self._value = 0

    def update(self, data: bytes | memoryview) -> None:
        self._value = self._function(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


HASHERS: dict[str, Callable[[], Hasher]] = {
    "CRC32": lambda: _Crc(zlib.crc32, 4),
    "CRC32C": lambda: _Crc(crt_checksums.crc32c, 4),
    "CRC64NVME": lambda: _Crc(crt_checksums.crc64nvme, 8),
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "MD5": hashlib.md5,
}
"""A new hasher for each algorithm S3 knows (MD5 for Content-MD5 and ETags)."""


def encode(algorithm: str, digest: bytes) -> str:
    """A digest as S3 writes it: hex for an ETag's MD5, base64 for the checksums."""
    return digest.hex() if algorithm == "MD5" else base64.b64encode(digest).decode("ascii")


def checksum_of(algorithm: str, data: bytes | memoryview) -> str:
    """The checksum of `data`, encoded as S3 sends it (base64; MD5 as base64 for
    Content-MD5)."""
    hasher = HASHERS[algorithm]()
    hasher.update(data)
    return base64.b64encode(hasher.digest()).decode("ascii")


@dataclass(frozen=True)
class Expected:
    """What the content must hash to: `algorithm`, its encoded `value`, and the part sizes
    for a composite value (None for a whole-content digest)."""

    algorithm: str
    value: str
    parts: tuple[int, ...] | None = None

    @property
    def method(self) -> str:
        """How the content is verified, as a response property states it."""
        if self.algorithm == "MD5":
            return "MD5-multipart" if self.parts else "MD5"
        return f"{self.algorithm}-composite" if self.parts else self.algorithm

    def digest(self) -> PartwiseDigest:
        return PartwiseDigest(self)


class PartwiseDigest:
    """Computes an `Expected` digest over content fed in order, splitting composite digests
    at the part boundaries."""

    def __init__(self, expected: Expected):
        self.expected = expected
        factory = HASHERS[expected.algorithm]
        self._factory = factory
        self._whole = factory() if expected.parts is None else None
        self._parts = list(expected.parts or ())
        self._part_digests: list[bytes] = []
        self._current = factory()
        self._left = self._parts[0] if self._parts else 0

    def update(self, data: bytes | memoryview) -> None:
        if self._whole is not None:
            self._whole.update(data)
            return
        view = memoryview(data)
        while view.nbytes:
            if self._left == 0 and len(self._part_digests) + 1 < len(self._parts):
                self._close_part()
            take = view[: self._left] if self._left else view
            self._current.update(take)
            self._left = max(0, self._left - take.nbytes)
            view = view[take.nbytes :]

    def _close_part(self) -> None:
        self._part_digests.append(self._current.digest())
        self._current = self._factory()
        self._left = self._parts[len(self._part_digests)]

    def value(self) -> str:
        """The encoded digest of everything fed so far."""
        if self._whole is not None:
            return encode(self.expected.algorithm, self._whole.digest())
        digests = [*self._part_digests, self._current.digest()]
        combined = self._factory()
        combined.update(b"".join(digests))
        return f"{encode(self.expected.algorithm, combined.digest())}-{len(digests)}"

    def matches(self) -> bool:
        return self.value() == self.expected.value


def plain_etag(response: dict[str, Any]) -> str | None:
    """The ETag without quotes, when it is an MD5 of the content or of its parts: not for
    SSE-C or SSE-KMS objects, whose ETags are not digests of the content."""
    value = str(response.get("ETag") or "").strip('"')
    encrypted = response.get("SSECustomerAlgorithm") or str(
        response.get("ServerSideEncryption") or ""
    ).startswith("aws:kms")
    if encrypted or not value:
        return None
    digest, _, parts = value.partition("-")
    if len(digest) != 32 or (parts and not parts.isdigit()):
        return None
    try:
        bytes.fromhex(digest)
    except ValueError:
        return None
    return value.lower()


def declared_checksum(response: dict[str, Any]) -> tuple[str, str] | None:
    """The (algorithm, value) of the checksum S3 declared in a response, if any."""
    for algorithm in CHECKSUM_ALGORITHMS:
        value = response.get(f"Checksum{algorithm}")
        if value:
            return algorithm, value
    return None


def composite_parts(response: dict[str, Any]) -> int | None:
    """The number of parts that a composite checksum or a multipart ETag (`value-N`) of a
    response declares; None for a whole-object form."""
    declared = declared_checksum(response)
    for value in (declared[1] if declared else None, plain_etag(response)):
        count = value.rpartition("-")[2] if value and "-" in value else ""
        if count.isdigit() and int(count) > 0:
            return int(count)
    return None


def expected_digest(
    response: dict[str, Any], part_sizes: Callable[[], Sequence[int] | None]
) -> Expected | None:
    """The strongest digest a whole-object GetObject/HeadObject response lets the content be
    verified against. `part_sizes` is called only for composite forms; it returns None when
    the part sizes cannot be had, and the composite form is then skipped."""
    declared = declared_checksum(response)
    etag = plain_etag(response)
    if declared and "-" not in declared[1]:
        return Expected(*declared)
    if etag and "-" not in etag:
        return Expected("MD5", etag)
    if declared or etag:
        parts = part_sizes()
        if parts:
            if declared and declared[1].endswith(f"-{len(parts)}"):
                return Expected(declared[0], declared[1], tuple(parts))
            if etag and etag.endswith(f"-{len(parts)}"):
                return Expected("MD5", etag, tuple(parts))
    return None
