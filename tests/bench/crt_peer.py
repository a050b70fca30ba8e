"""The awscrt floor for the benchmark: the same work as s3c on its default data plane, done by
a bare Python process on `awscrt.s3` (no boto3; of the connector, only its file writer, which
imports nothing but os), run by run_bench.py.

Usage: python crt_peer.py OPERATION CONN.json BUCKET ARGS...

    put-many  CONN BUCKET PREFIX DIR   one PutObject per file, 64 in flight, each carrying
                                       a CRC32C header (what s3c sends)
    download  CONN BUCKET KEY FILE     one GetObject (ranged GETs of 8 MiB on 2 connections)
                                       written to FILE by s3c's own `write_at`,
                                       nothing verified

What s3c does beyond this (settings, documents, output, verification) costs time on top;
when this process is no faster than a peer, no client on awscrt from Python is.
Prints one JSON line: the operation's own time in seconds and a count.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

from awscrt.auth import AwsCredentialsProvider
from awscrt.http import HttpHeaders, HttpRequest
from awscrt.io import ClientBootstrap
from awscrt.s3 import (
    S3ChecksumAlgorithm,
    S3ChecksumConfig,
    S3ChecksumLocation,
    S3Client,
    S3RequestTlsMode,
    S3RequestType,
    create_default_s3_signing_config,
)
from timing import report_timed

from s3_connector.connector.file_writes import write_at  # imports nothing but os

MIB = 1024 * 1024
IN_FLIGHT = 64


class Peer:
    """One CRT S3 client on a path-style, plain-HTTP endpoint (the bench's server)."""

    def __init__(self, connection_path: str, connections: int):
        settings = json.loads(Path(connection_path).read_text())
        endpoint = urlsplit(settings["endpoint_url"])
        self.host, self.base = endpoint.netloc, endpoint.path.rstrip("/")
        provider = AwsCredentialsProvider.new_static(
            settings["access_key_id"], settings["secret_access_key"]
        )
        self.client = S3Client(
            bootstrap=ClientBootstrap.get_or_create_static_default(),
            region=settings["region"],
            signing_config=create_default_s3_signing_config(
                region=settings["region"], credential_provider=provider
            ),
            tls_mode=S3RequestTlsMode.DISABLED,
            part_size=8 * MIB,
            throughput_target_gbps=1.0,
            memory_limit=256 * MIB,
            max_active_connections_override=connections,
        )

    def send(self, method: str, bucket: str, key: str, headers: dict[str, str], **options):
        request = HttpRequest(
            method=method,
            path=f"{self.base}/{bucket}/{quote(key, safe='/~')}",
            headers=HttpHeaders([("Host", self.host), *headers.items()]),
            body_stream=options.pop("body_stream", None),
        )
        kind = S3RequestType.PUT_OBJECT if method == "PUT" else S3RequestType.GET_OBJECT
        return self.client.make_request(type=kind, request=request, **options).finished_future


def put_many(connection: str, bucket: str, prefix: str, directory: str) -> int:
    peer = Peer(connection, 64)
    checksum = S3ChecksumConfig(
        algorithm=S3ChecksumAlgorithm.CRC32C, location=S3ChecksumLocation.HEADER
    )
    in_flight: deque = deque()
    files = sorted(path for path in Path(directory).iterdir() if path.is_file())
    for path in files:
        body = path.read_bytes()
        headers = {"Content-Length": str(len(body)), "Content-Type": "application/octet-stream"}
        in_flight.append(
            peer.send(
                "PUT",
                bucket,
                f"{prefix}/{path.name}",
                headers,
                body_stream=io.BytesIO(body),
                checksum_config=checksum,
                on_headers=lambda **_: None,
            )
        )
        if len(in_flight) >= IN_FLIGHT:
            in_flight.popleft().result()
    for future in in_flight:
        future.result()
    return len(files)


def download(connection: str, bucket: str, key: str, target: str) -> int:
    """CRT's own `recv_filepath` writes whole 8 MiB parts, which cost the kernel several times
    the system time of smaller writes on the bench machine (connector/file_writes.py)."""
    peer = Peer(connection, 2)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

    def write(chunk: bytes, offset: int, **_) -> None:
        write_at(descriptor, chunk, offset)

    try:
        peer.send("GET", bucket, key, {}, on_body=write).result()
    finally:
        os.close(descriptor)
    return 1


OPERATIONS: dict[str, Callable[..., int]] = {"put-many": put_many, "download": download}


def main(argv: list[str]) -> None:
    operation, connection_path, *args = argv
    report_timed(operation, lambda: OPERATIONS[operation](connection_path, *args))


if __name__ == "__main__":
    main(sys.argv[1:])
