"""`s3c local`: the embedded S3 server (SeaweedFS) on loopback, until Ctrl-C."""

from __future__ import annotations

import json
import signal
import tempfile
import threading

import click
from botocore.exceptions import BotoCoreError, ClientError

from s3_connector.connector import settings as settings_loader
from s3_connector.connector.connection import BucketOnly
from s3_connector.connector.errors import ConnectorError, InvalidInput, translate

_ALREADY_THERE = ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")


@click.command()
@click.option(
    "--dir",
    "data_dir",
    type=click.Path(file_okay=False),
    help="Where the server keeps its data (default: a temporary directory).",
)
@click.option("--port", type=click.IntRange(1, 65535), help="S3 port (default: a free one).")
@click.option(
    "--bucket",
    "buckets",
    multiple=True,
    metavar="NAME",
    help="Create this bucket once the server is ready (repeatable).",
)
def local(data_dir: str | None, port: int | None, buckets: tuple[str, ...]) -> None:
    """Start SeaweedFS on 127.0.0.1; print its endpoint and a ready connection JSON."""
    from s3_connector.sdk.local_server import LocalS3Server, LocalServerError

    for bucket in buckets:
        try:
            settings_loader.load(BucketOnly, {"bucket": bucket})
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field="--bucket") from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with tempfile.TemporaryDirectory(prefix="s3c-local-") as scratch:
        server = LocalS3Server(data_dir or scratch, port)
        try:
            server.start()
        except LocalServerError as exc:
            raise ConnectorError(str(exc)) from None
        try:
            _create_buckets(server.client(), buckets)
            click.echo(f"endpoint: {server.endpoint_url}")
            click.echo(f"connection: {json.dumps(server.connection_settings())}")
            click.echo("ready; press Ctrl-C to stop", err=True)
            while not stop.wait(0.5):
                if not server.running:
                    raise ConnectorError("the embedded server stopped unexpectedly")
        finally:
            server.stop()
            click.echo("stopped", err=True)


def _create_buckets(client, buckets: tuple[str, ...]) -> None:
    for bucket in buckets:
        try:
            client.create_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _ALREADY_THERE:
                raise translate(exc, operation="CreateBucket", target=bucket) from None
        except BotoCoreError as exc:
            raise translate(exc, operation="CreateBucket", target=bucket) from None
