"""How `s3c run` hands out the outcomes of a run: a JSON line (or a table row) for each
response document, an error line for each document that failed, and for a set of documents
a one-line summary on standard error at the end, with the exit status of the failures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import click

from s3_connector.connector.documents import Document
from s3_connector.connector.errors import Cancelled, ConnectorError, InvalidInput, classify
from s3_connector.connector.harness import Failure
from s3_connector.connector.redaction import redact
from s3_connector.connector.streaming_json import compact_json

from .io import Inputs, Output, discard, error_line
from .output_table import Table

DONE = {
    "put_object": "stored",
    "write": "stored",
    "get_object": "read",
    "read": "read",
    "copy_object": "copied",
    "move_object": "moved",
}
"""What a summary calls a document done, by activity ("done" for the others)."""
CLI_FIELDS = {"input": "--input", "output": "--output"}
"""The command line's names for the connector's input and output fields (as `cli.main`
names them in the errors it prints; not imported from there, which imports this module)."""
LOCATION = ("bucket", "key", "version_id", "file_name")
"""The properties an error line repeats from the document that failed."""


@dataclass
class Report:
    done: int = 0
    failures: Counter = field(default_factory=Counter)
    exit_codes: set[int] = field(default_factory=set)
    skipped: int = 0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def summary(self, verb: str) -> str:
        text = f"{self.done} {verb}, {self.failed} failed"
        if self.failures:
            kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.failures.items()))
            text += f" ({kinds})"
        if self.skipped:
            text += f", {self.skipped} skipped (error lines of an earlier run)"
        return text

    @property
    def exit_code(self) -> int:
        """0 when nothing failed; the failures' exit status when they share one; else 1."""
        if len(self.exit_codes) == 1:
            return next(iter(self.exit_codes))
        return 1 if self.exit_codes or self.skipped else 0


class Sink:
    """Where outcomes go: JSON lines (or a table) through `Output`, error lines beside them,
    and a human error line on standard error for each failure."""

    def __init__(self, output: Output, *, table: bool, quiet: bool):
        self.output = output
        self.table = Table(output.lines) if table else None
        self.quiet = quiet

    def emit(self, document: Document) -> None:
        if self.table is None:
            self.output.emit(document, quiet=self.quiet)
            return
        properties = self.output.resolve(document)
        if self.quiet:
            self.output.emit(Document(properties), quiet=True)  # reads its lazy parts
        else:
            self.table.add(properties)

    def error(self, error: ConnectorError, where: dict[str, Any], origin: str | None) -> None:
        error = error.with_field(CLI_FIELDS.get(error.field, error.field))
        line = error_line(error, error.exit_code, where)
        if self.table is not None:
            self.table.add_error(line)
        else:
            text = compact_json(line) or ""
            self.output.lines.write(_one_line(redact(text)) + "\n")
            self.output.lines.flush()
        suffix = f" ({origin})" if origin else ""
        click.echo(_one_line(redact(f"error: {error}{suffix}")), err=True)

    def close(self) -> None:
        if self.table is not None:
            self.table.render()
        self.output.lines.flush()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def hand_out(outcomes: Any, sink: Sink, inputs: Inputs, *, keep_going: bool) -> Report:
    """Write every outcome; with `keep_going`, a document that fails to be written (its
    content failed verification, its local path is taken) gets an error line and the run goes
    on. A cancellation, a closed stdout, or several documents for one --output file end it."""
    report = Report(skipped=inputs.skipped)
    try:
        for outcome in outcomes:
            if isinstance(outcome, Failure):
                error = classify(outcome.error, operation="s3c", target="request")
                report.failures[error.kind] += 1
                report.exit_codes.add(error.exit_code)
                origin = (
                    inputs.origins[outcome.index] if outcome.index < len(inputs.origins) else None
                )
                where = {"number": outcome.index + 1}
                if origin:
                    where["input"] = origin
                where.update(_location(outcome.document.properties))
                sink.error(error, where, origin)
                continue
            try:
                sink.emit(outcome)
            except (Cancelled, BrokenPipeError):
                raise
            except Exception as exc:
                if not keep_going or (isinstance(exc, InvalidInput) and exc.field == "output"):
                    raise
                discard(outcome)
                error = classify(exc, operation="s3c", target="request")
                report.failures[error.kind] += 1
                report.exit_codes.add(error.exit_code)
                sink.error(error, _location(outcome.properties), None)
            else:
                report.done += 1
    finally:
        sink.close()
    return report


def _location(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        name: properties[name] for name in LOCATION if isinstance(properties.get(name), str | int)
    }
