"""`s3c completion bash|zsh|fish`: the shell's completion script for `s3c`."""

from __future__ import annotations

import click

from .completion import SHELLS


@click.command()
@click.argument("shell", type=click.Choice(sorted(SHELLS)))
@click.option(
    "--complete",
    is_flag=True,
    hidden=True,
    help="Answer the completion request the script makes (its environment variables).",
)
@click.pass_context
def completion(ctx: click.Context, shell: str, complete: bool) -> None:
    """Print the completion script of SHELL: commands, activity ids, `-p` field names and their
    values. Install it with `eval "$(s3c completion bash)"` in ~/.bashrc (see the docs for zsh
    and fish)."""
    root = ctx.find_root()
    completer = SHELLS[shell](root.command, {}, root.info_name or "s3c", "_S3C_COMPLETE")
    click.echo(completer.complete() if complete else completer.source())
