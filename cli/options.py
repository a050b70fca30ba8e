"""Options and loaders that several `s3c` commands share."""

from __future__ import annotations

import click

from s3_connector.connector.connection import Connection
from s3_connector.connector.errors import InvalidInput

from .io import read_json_file

connection_option = click.option(
    "-c",
    "--connection",
    "connection_file",
    metavar="CONN.json",
    help="Connection settings (default: the AWS default chain and AWS_* variables).",
)


def load_connection(path: str | None) -> Connection:
    """The connection from a JSON file, or the default chain and AWS_* variables."""
    if path is None:
        return Connection.from_environment()
    settings = read_json_file(path, "connection")
    try:
        return Connection(settings)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field=f"connection.{exc.field}") from None
