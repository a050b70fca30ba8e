"""`s3c serve`: the warm agent mode, on standard input and output (see `agent.py`)."""

from __future__ import annotations

import contextlib
import sys

import click

from s3_connector.connector.connection import Connection

from .agent import Agent
from .io import read_json_file
from .options import connection_from, connection_option


@click.command()
@connection_option
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Requests run at once. With 1, answers come in request order; with more, the "
    "lines of different requests may interleave (each carries its request_id).",
)
def serve(connection_file: str | None, workers: int) -> None:
    """Warm agent mode: read run requests as JSON lines on stdin, write response documents
    and one status line per request as JSON lines on stdout, until EOF."""
    if connection_file is None:
        default = Connection.from_environment
    else:
        settings = read_json_file(connection_file, "connection")
        connection = connection_from(settings)  # its secrets are registered for redaction

        def default() -> Connection:
            return connection

    out = sys.stdout
    agent = Agent(out, default, workers=workers, log=sys.stderr)
    # Only protocol lines go to stdout: anything else that prints goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        agent.serve(sys.stdin.buffer)


if __name__ == "__main__":
    serve(prog_name="s3c serve")
