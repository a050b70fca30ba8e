"""`s3c serve`: the warm agent mode, on standard input and output (see `agent.py`)."""

from __future__ import annotations

import contextlib
import signal
import sys

import click

from s3_connector.connector.connection import Connection

from .agent import Agent
from .agent_v2 import AgentV2
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
@click.option(
    "--protocol",
    type=click.IntRange(1, 2),
    default=1,
    show_default=True,
    help="Agent protocol version (docs/agent-protocol.md). 2 adds a ready line, ping, cancel, "
    "deadlines and a drain on SIGTERM/SIGINT.",
)
@click.option(
    "--grace-seconds",
    type=click.FloatRange(0, 3600),
    default=5.0,
    show_default=True,
    help="Protocol 2: on SIGTERM/SIGINT, how long in-flight requests may finish before the "
    "rest are answered as cancelled.",
)
def serve(connection_file: str | None, workers: int, protocol: int, grace_seconds: float) -> None:
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
    previous: dict[signal.Signals, object] = {}
    if protocol == 1:
        agent = Agent(out, default, workers=workers, log=sys.stderr)
    else:
        agent = AgentV2(out, default, workers=workers, log=sys.stderr, grace_seconds=grace_seconds)
        for number in (signal.SIGTERM, signal.SIGINT):
            previous[number] = signal.signal(
                number, lambda signum, _: agent.stop(signal.Signals(signum).name)
            )
    # Only protocol lines go to stdout: anything else that prints goes to stderr.
    try:
        with contextlib.redirect_stdout(sys.stderr):
            agent.serve(sys.stdin.buffer)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


if __name__ == "__main__":
    serve(prog_name="s3c serve")
