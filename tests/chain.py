"""The chain List Objects -> Get Object -> Put Object, through the harness, with no glue."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

from s3_connector.connector.connection import Connection
from s3_connector.connector.harness import Harness


def fill(client, bucket: str, count: int, prefix: str = "chain/") -> dict[str, str]:
    """`count` objects of assorted sizes and types; key to sha256 of the content."""
    kinds = (("csv", "text/csv"), ("json", "application/json"), ("bin", "application/pdf"))

    def put(n: int) -> tuple[str, str]:
        extension, content_type = kinds[n % 3]
        key = f"{prefix}{n // 10:02d}/item-{n:03d}.{extension}"
        body = os.urandom(n * 97 % 5000 + (n % 7) * 40_000)
        client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        return key, hashlib.sha256(body).hexdigest()

    with ThreadPoolExecutor(16) as pool:
        return dict(pool.map(put, range(count)))


def copy_through_chain(connection: Connection, source: str, destination: str, prefix: str):
    harness = Harness(connection)
    listed = harness.run("list_objects", {"bucket": source, "prefix": prefix, "emit": "objects"})
    fetched = harness.run("get_object", {}, listed)
    return list(harness.run("put_object", {"bucket": destination}, fetched))


def stored(client, bucket: str, prefix: str = "chain/") -> dict[str, tuple[str, str]]:
    """Key to (sha256, content type) of every object under `prefix`."""
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]

    def read(key: str) -> tuple[str, tuple[str, str]]:
        response = client.get_object(Bucket=bucket, Key=key)
        return key, (hashlib.sha256(response["Body"].read()).hexdigest(), response["ContentType"])

    with ThreadPoolExecutor(16) as pool:
        return dict(pool.map(read, keys))
