"""`s3c run`: run one activity through the host harness (`s3c run --help` imports only click:
the harness, the activity and the document I/O are imported when it runs)."""

from __future__ import annotations

import gc

import click

from .completion import activity_ids, paths, run_parameters
from .options import connection_option, load_connection
from .run_help import RunCommand


@click.command(cls=RunCommand)
@click.argument("activity", shell_complete=activity_ids)
@connection_option
@click.option(
    "--config",
    "config_file",
    metavar="ACTIVITY.json",
    shell_complete=paths,
    help="Activity configuration, a JSON object.",
)
@click.option(
    "-p",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    shell_complete=run_parameters,
    help="A configuration field; VALUE is JSON when it parses, else a string.",
)
@click.option(
    "--input",
    "input_paths",
    multiple=True,
    metavar="PATH|GLOB|-",
    shell_complete=paths,
    help="A file, a directory (one document per file), a glob expanded by s3c "
    "('data/*.csv', '**' for any depth) or - for stdin. Repeatable.",
)
@click.option(
    "--documents",
    "documents_path",
    metavar="PATH|-",
    shell_complete=paths,
    help="JSON lines of an earlier run (a file, or - for stdin): each line's properties "
    "make one document (e.g. list_objects -p emit=objects | get_object --documents -).",
)
@click.option(
    "--output",
    "output_path",
    metavar="PATH|-",
    shell_complete=paths,
    help="Where content goes: a file, a directory, or - for stdout. "
    "Without it, content is returned inline.",
)
@click.option(
    "--fail-fast",
    is_flag=True,
    help="Stop at the first document that fails. By default the others still run.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No line for documents that succeed; errors and the summary still appear.",
)
@click.option(
    "--progress/--no-progress",
    "show_progress",
    default=None,
    help="A progress bar on stderr (bytes, rate, time left, documents done). "
    "Default: when stderr is a terminal.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="json: one JSON line per document, for scripts. table: a table for a person.",
)
def run(
    activity: str,
    connection_file: str | None,
    config_file: str | None,
    parameters: tuple[str, ...],
    input_paths: tuple[str, ...],
    documents_path: str | None,
    output_path: str | None,
    fail_fast: bool,
    quiet: bool,
    show_progress: bool | None,
    output_format: str,
) -> None:
    """Run ACTIVITY; print each response document as one JSON line.

    With a set of documents (a directory, a glob, several --input, --documents), a document
    that fails gets an error line and the others still run; the run ends with a summary on
    stderr and a non-zero status when any failed."""
    from s3_connector.connector.errors import InvalidInput
    from s3_connector.connector.harness import Harness

    from .bulk import DONE, Sink, hand_out
    from .io import Output, gather_inputs, parse_parameter, read_documents, read_json_file
    from .progress import counted, shown

    if documents_path is not None and input_paths:
        raise InvalidInput("give either --input or --documents, not both", field="--documents")
    if documents_path == "-" and config_file == "-":
        raise InvalidInput(
            "and --config both read standard input; give one of them a file", field="--documents"
        )
    config = read_json_file(config_file, "--config") if config_file else {}
    config.update(parse_parameter(text) for text in parameters)
    harness = Harness(load_connection(connection_file))
    prepared = harness.prepare(activity, config)
    # What is loaded by now lives until the end: kept out of the collector's full passes,
    # which a run over many documents otherwise repeats (about 5% of a 2,000-file put).
    gc.freeze()
    if documents_path is not None:
        if prepared.descriptor["document"]["content"] == "consumes":
            raise InvalidInput(
                f"{activity} stores content, which JSON lines do not carry; give files with "
                "--input",
                field="--documents",
            )
        inputs = read_documents(documents_path)
    else:
        inputs = gather_inputs(input_paths)
    requests = []
    for index, document in enumerate(prepared.requests(inputs.documents)):
        try:
            requests.append((document, prepared.settings_for(document)))
        except InvalidInput as exc:
            if not inputs.bulk:
                raise
            raise type(exc)(
                f"{exc.message} ({inputs.origins[index]})",
                field=exc.field,
                request_id=exc.request_id,
            ) from None
    keep_going = inputs.bulk and not fail_fast
    output = Output(output_path)
    sink = Sink(output, table=output_format == "table", quiet=quiet)
    with shown(show_progress, [document for document, _ in requests]) as bar:
        outcomes = prepared.run_requests(requests, keep_going=keep_going)
        report = hand_out(counted(outcomes, bar), sink, inputs, keep_going=keep_going)
    if keep_going or report.skipped:
        verb = "done" if config.get("dry_run") else DONE.get(activity, "done")
        click.echo(report.summary(verb), err=True)
        if report.exit_code:
            raise click.exceptions.Exit(report.exit_code)
