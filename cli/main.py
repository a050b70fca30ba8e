"""The `s3c` command line: descriptors, connection test, run, serve, policy, scaffolding and
the embedded server."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

import click

from .options import connection_option, load_connection

EXIT_UNEXPECTED = 1
CLI_FIELDS = {"input": "--input", "output": "--output"}
"""The command line's names for the connector's input and output fields."""


def _error(text: str) -> None:
    """One error line on standard error, with every secret masked (see `redaction`)."""
    from s3_connector.connector.redaction import redact

    click.echo(redact(text), err=True)


def _descriptors() -> click.Command:
    from .descriptors_command import descriptors

    return descriptors


def _run() -> click.Command:
    from .run_command import run

    return run


def _serve() -> click.Command:
    from .serve_command import serve

    return serve


def _policy() -> click.Command:
    from .policy_command import policy

    return policy


def _new() -> click.Command:
    from .new_command import new

    return new


def _local() -> click.Command:
    from .local_command import local

    return local


def _completion() -> click.Command:
    from .completion_command import completion

    return completion


LAZY_COMMANDS: dict[str, tuple[Callable[[], click.Command], str]] = {
    "descriptors": (_descriptors, "Inspect the JSON descriptors a designer renders."),
    "run": (_run, "Run ACTIVITY; print each response document as one JSON line."),
    "serve": (_serve, "Warm agent mode: run requests read as JSON lines on stdin."),
    "policy": (_policy, "Print the least-privilege IAM policy for activities."),
    "new": (_new, "Scaffold new parts of the connector."),
    "local": (_local, "Run an embedded S3 server (SeaweedFS) on loopback."),
    "completion": (_completion, "Print the shell completion script (bash, zsh, fish)."),
}
"""The commands that import the connector's heavy parts (boto3, awscrt, jsonschema), loaded
only when they run, so `s3c --help` starts in a blink; each with its line in that help. This
module imports nothing of the connector itself either: the error taxonomy, redaction and
cancellation are imported where they are used."""


WITHOUT_SECRETS = frozenset({"descriptors"})
"""Commands that never hold a secret (no connection, no key): they run without the redaction
of log records, whose import (some 10 ms) is a good part of their start. Every other command
installs it before it runs (see `S3cGroup.resolve_command`)."""


class S3cGroup(click.Group):
    """The top-level group: one-line errors and the documented exit codes, no traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def lazy_help(self) -> dict[str, str]:
        """The help line of each command loaded when it runs, without loading it."""
        return {name: line for name, (_, line) in LAZY_COMMANDS.items()}

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS and name not in self.commands:
            self.add_command(LAZY_COMMANDS[name][0](), name)
        return super().get_command(ctx, name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name not in WITHOUT_SECRETS:
            from s3_connector.connector.redaction import install_logging_redaction

            install_logging_redaction()
        return name, command, rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, LAZY_COMMANDS[name][1]) for name in LAZY_COMMANDS]
        rows += [
            (name, command.get_short_help_str(formatter.width))
            for name, command in self.commands.items()
            if name not in LAZY_COMMANDS and not command.hidden
        ]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.UsageError as exc:
            _error(f"error: {exc.format_message()}")
            code = 2
        except click.ClickException as exc:
            _error(f"error: {exc.format_message()}")
            code = exc.exit_code
        except click.Abort:
            click.echo("aborted", err=True)
            code = 130
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = EXIT_UNEXPECTED
        except Exception as exc:
            from s3_connector.connector.errors import ConnectorError, classify

            if isinstance(exc, ConnectorError):
                _error(f"error: {exc.with_field(CLI_FIELDS.get(exc.field, exc.field))}")
                code = exc.exit_code
            else:
                if os.environ.get("S3C_DEBUG"):
                    raise
                error = classify(exc, operation="s3c", target="request")
                _error(f"error: {error}")
                code = error.exit_code
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(cls=S3cGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="s3-connector", prog_name="s3c")
def cli() -> None:
    """Amazon S3 connector: run activities, serve agents, inspect descriptors, derive IAM
    policies, scaffold activities, run a local S3."""


@cli.group()
def connection() -> None:
    """Check a connection."""


@connection.command("test")
@connection_option
@click.option("--bucket", help="Check this bucket (HeadBucket) instead of listing buckets.")
def connection_test(connection_file: str | None, bucket: str | None) -> None:
    """Check the credentials and that S3 answers; print the result as JSON, with the region,
    endpoint, addressing style, credential source and profile in use (from the connection,
    else the AWS config chain), never a secret."""
    import json

    from s3_connector.connector.errors import ERROR_KINDS, ConnectorError

    result = load_connection(connection_file).test(bucket)
    click.echo(json.dumps(result))
    if not result["ok"]:
        sys.exit(ERROR_KINDS.get(result["error"], ConnectorError).exit_code)


def _interrupt(signum: int, _frame: object) -> None:
    """Ctrl-C and SIGTERM: transfers stop at their next part and clean up (multipart uploads
    are aborted, temporary files removed); the command then exits 130. Transfers import
    `cancellation`; when nothing has, no transfer is running and there is nothing to stop."""
    cancellation = sys.modules.get("s3_connector.connector.cancellation")
    if cancellation is not None:
        cancellation.cancel()
    raise KeyboardInterrupt


def _redacted_traceback(kind, value, traceback_) -> None:
    """`sys.excepthook` of `s3c`: the traceback that S3C_DEBUG lets through, redacted."""
    import traceback

    from s3_connector.connector.redaction import redact

    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, traceback_))))


def main() -> None:
    """Console entry point of `s3c`. Log records are redacted from when a command that may
    hold a secret is chosen (`S3cGroup.resolve_command`), not before: `s3c --help` and
    `s3c descriptors` import no redaction."""
    sys.excepthook = _redacted_traceback
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    cli.main(prog_name="s3c")
