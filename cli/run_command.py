"""`s3c run`: run one activity through the host harness (`s3c run --help` imports only click:
the harness, the activity and the document I/O are imported when it runs)."""

from __future__ import annotations

import click

from .options import connection_option, load_connection


@click.command()
@click.argument("activity")
@connection_option
@click.option(
    "--config",
    "config_file",
    metavar="ACTIVITY.json",
    help="Activity configuration, a JSON object.",
)
@click.option(
    "-p",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="A configuration field; VALUE is JSON when it parses, else a string.",
)
@click.option(
    "--input",
    "input_path",
    metavar="PATH|-",
    help="A file, a directory (one document per file) or - for stdin.",
)
@click.option(
    "--output",
    "output_path",
    metavar="PATH|-",
    help="Where content goes: a file, a directory, or - for stdout. "
    "Without it, content is returned inline.",
)
def run(
    activity: str,
    connection_file: str | None,
    config_file: str | None,
    parameters: tuple[str, ...],
    input_path: str | None,
    output_path: str | None,
) -> None:
    """Run ACTIVITY; print each response document as one JSON line."""
    from s3_connector.connector.harness import Harness

    from .io import Output, documents_out, input_documents, parse_parameter, read_json_file

    config = read_json_file(config_file, "--config") if config_file else {}
    config.update(parse_parameter(text) for text in parameters)
    harness = Harness(load_connection(connection_file))
    prepared = harness.prepare(activity, config)
    documents = input_documents(input_path)
    documents_out(prepared.run(documents, check_first=True), Output(output_path))
