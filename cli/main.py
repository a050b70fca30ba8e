"""The `s3c` command line: descriptors, connection test, run, serve, policy, scaffolding and
the embedded server."""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback

import click

from s3_connector.connector import cancellation
from s3_connector.connector.errors import ERROR_KINDS, ConnectorError, translate
from s3_connector.connector.redaction import install_logging_redaction, redact

from .descriptors_command import descriptors
from .local_command import local
from .new_command import new
from .options import connection_option, load_connection
from .policy_command import policy
from .run_command import run
from .serve_command import serve

EXIT_UNEXPECTED = 1
CLI_FIELDS = {"input": "--input", "output": "--output"}
"""The command line's names for the connector's input and output fields."""


def _error(text: str) -> None:
    """One error line on standard error, with every secret masked (see `redaction`)."""
    click.echo(redact(text), err=True)


class S3cGroup(click.Group):
    """The top-level group: one-line errors and the documented exit codes, no traceback."""

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
        except ConnectorError as exc:
            _error(f"error: {exc.with_field(CLI_FIELDS.get(exc.field, exc.field))}")
            code = exc.exit_code
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = EXIT_UNEXPECTED
        except Exception as exc:
            if os.environ.get("S3C_DEBUG"):
                raise
            error = translate(exc, operation="s3c", target="request")
            if type(error) is ConnectorError:
                _error(f"error: unexpected {type(exc).__name__}: {exc}")
            else:
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
    """Check the credentials and that S3 answers; print the result as JSON."""
    result = load_connection(connection_file).test(bucket)
    click.echo(json.dumps(result))
    if not result["ok"]:
        sys.exit(ERROR_KINDS.get(result["error"], ConnectorError).exit_code)


cli.add_command(descriptors)
cli.add_command(run)
cli.add_command(local)
cli.add_command(new)
cli.add_command(policy)
cli.add_command(serve)


def _interrupt(signum: int, _frame: object) -> None:
    """Ctrl-C and SIGTERM: transfers stop at their next part and clean up (multipart uploads
    are aborted, temporary files removed); the command then exits 130."""
    cancellation.cancel()
    raise KeyboardInterrupt


def _redacted_traceback(kind, value, traceback_) -> None:
    """`sys.excepthook` of `s3c`: the traceback that S3C_DEBUG lets through, redacted."""
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, traceback_))))


def main() -> None:
    """Console entry point of `s3c`."""
    install_logging_redaction()
    sys.excepthook = _redacted_traceback
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    cli.main(prog_name="s3c")
