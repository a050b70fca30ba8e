"""`s3c --help` and `s3c run --help` start without the connector's heavy dependencies."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "awscrt", "jsonschema", "apispec", "s3transfer")


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["connection", "--help"]])
def test_help_imports_no_heavy_dependency(args):
    script = (
        "import json, sys\n"
        "from s3_connector.cli.main import cli\n"
        f"code = cli.main({args!r}, prog_name='s3c', standalone_mode=False)\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    *help_lines, loaded = result.stdout.strip().splitlines()
    assert json.loads(loaded) == []
    assert any(line.startswith("Usage: s3c") for line in help_lines)


def test_every_command_is_listed_and_loads():
    import click

    from s3_connector.cli.main import LAZY_COMMANDS, cli

    context = click.Context(cli)
    assert set(LAZY_COMMANDS) < set(cli.list_commands(context))
    for name in LAZY_COMMANDS:
        assert cli.get_command(context, name).name == name
