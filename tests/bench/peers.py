"""Raw boto3 peers for the benchmark, each run as its own process by run_bench.py.

Usage: python peers.py OPERATION CONN.json BUCKET ARGS...

    upload    CONN BUCKET KEY FILE     boto3 upload_file
    download  CONN BUCKET KEY FILE     boto3 download_file
    put-many  CONN BUCKET PREFIX DIR   one put_object after another, one per file
    list      CONN BUCKET PREFIX       list_objects_v2 paginator, collecting the keys

The client is configured like the connector's for a custom endpoint: path addressing and
checksums only when required. Prints one JSON line: the operation's own time in seconds
(without interpreter start-up and imports) and a count.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import boto3
from botocore.config import Config
from timing import report_timed


def make_client(connection_path: str):
    settings = json.loads(Path(connection_path).read_text())
    config = Config(
        s3={"addressing_style": settings.get("addressing_style", "path")},
        signature_version="s3v4",
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=settings["endpoint_url"],
        aws_access_key_id=settings["access_key_id"],
        aws_secret_access_key=settings["secret_access_key"],
        region_name=settings["region"],
        config=config,
    )


def upload(s3, bucket: str, key: str, path: str) -> int:
    s3.upload_file(path, bucket, key)
    return 1


def download(s3, bucket: str, key: str, path: str) -> int:
    s3.download_file(bucket, key, path)
    return 1


def put_many(s3, bucket: str, prefix: str, directory: str) -> int:
    files = sorted(p for p in Path(directory).iterdir() if p.is_file())
    for path in files:
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{path.name}", Body=path.read_bytes())
    return len(files)


def list_keys(s3, bucket: str, prefix: str) -> int:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(entry["Key"] for entry in page.get("Contents", []))
    return len(keys)


OPERATIONS: dict[str, Callable[..., int]] = {
    "upload": upload,
    "download": download,
    "put-many": put_many,
    "list": list_keys,
}


def main(argv: list[str]) -> None:
    operation, connection_path, *args = argv
    s3 = make_client(connection_path)
    report_timed(operation, lambda: OPERATIONS[operation](s3, *args))


if __name__ == "__main__":
    main(sys.argv[1:])
