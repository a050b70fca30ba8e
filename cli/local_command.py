"""`s3c local`: the embedded S3 server (SeaweedFS) on loopback, until Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
from pathlib import Path

import click

from s3_connector.connector.errors import ConnectorError, InvalidInput

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
@click.option(
    "--write-conn",
    "conn_file",
    metavar="FILE",
    help="Also write the connection JSON to FILE (mode 0600) once the server is ready, "
    "for `s3c run ... -c FILE`.",
)
def local(
    data_dir: str | None, port: int | None, buckets: tuple[str, ...], conn_file: str | None
) -> None:
    """Start SeaweedFS on 127.0.0.1; print its endpoint and a ready connection JSON."""
    from s3_connector.connector import settings as settings_loader
    from s3_connector.connector.connection import BucketOnly
    from s3_connector.sdk.local_server import LocalS3Server, LocalServerError

    if conn_file is not None:
        _check_writable(Path(conn_file))
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
            if conn_file is not None:
                write_connection(Path(conn_file), server.connection_settings())
                click.echo(f"connection written to {conn_file}", err=True)
            click.echo("ready; press Ctrl-C to stop", err=True)
            while not stop.wait(0.5):
                if not server.running:
                    raise ConnectorError("the embedded server stopped unexpectedly")
        finally:
            server.stop()
            click.echo("stopped", err=True)


def _create_buckets(client, buckets: tuple[str, ...]) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    from s3_connector.connector.errors import translate

    for bucket in buckets:
        try:
            client.create_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _ALREADY_THERE:
                raise translate(exc, operation="CreateBucket", target=bucket) from None
        except BotoCoreError as exc:
            raise translate(exc, operation="CreateBucket", target=bucket) from None


def _refuse(path: Path, reason: str) -> InvalidInput:
    return InvalidInput(f"cannot write the connection to {path}: {reason}", field="--write-conn")


def _check_writable(path: Path) -> None:
    """Refuse, before the server starts, a FILE that could not be written."""
    if path.is_dir():
        raise _refuse(path, "it is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise _refuse(path, f"the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _refuse(path, f"the directory {parent} is not writable")


def write_connection(path: Path, settings: dict) -> None:
    """Write `settings` as JSON to `path`, mode 0600, atomically: a reader sees no file or the
    whole file, never part of it."""
    text = json.dumps(settings, indent=2) + "\n"
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise _refuse(path, exc.strerror or str(exc)) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise _refuse(path, exc.strerror or str(exc)) from None
