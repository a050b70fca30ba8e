"""Options and loaders that several `s3c` commands share (`cli.main` imports this module
before any command runs: what the loaders need is imported when they run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from s3_connector.connector.connection import Connection

connection_option = click.option(
    "-c",
    "--connection",
    "connection_file",
    metavar="CONN.json",
    help="Connection settings (default: the AWS default chain and AWS_* variables).",
)


def load_connection(path: str | None) -> Connection:
    """The connection from a JSON file, or the default chain and AWS_* variables."""
    from s3_connector.connector.connection import Connection

    from .io import read_json_file

    if path is None:
        return Connection.from_environment()
    return connection_from(read_json_file(path, "connection"))


def connection_from(settings: Any) -> Connection:
    """A connection from its settings; a bad setting is named `connection.FIELD`."""
    from s3_connector.connector.connection import Connection
    from s3_connector.connector.errors import InvalidInput

    try:
        return Connection(settings)
    except InvalidInput as exc:
        raise exc.with_field(f"connection.{exc.field}") from None
