"""`s3c` starts without the connector's heavy dependencies: its help, `s3c run --help` and the
descriptors (served from the exported files), and `s3c run` imports only its activity."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "awscrt", "jsonschema", "apispec", "s3transfer")


def modules_after(args: list[str], env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """What `s3c ARGS` prints, and every module it imported, in a fresh interpreter."""
    script = (
        "import json, sys\n"
        "from s3_connector.cli.main import cli\n"
        f"code = cli.main({args!r}, prog_name='s3c', standalone_mode=False)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    output, _, loaded = result.stdout.rstrip("\n").rpartition("\n")
    return output, json.loads(loaded)


def activity_modules(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith("s3_connector.activities.")]


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (["--help"], "Usage: s3c"),
        (["run", "--help"], "Usage: s3c run"),
        (["connection", "--help"], "Usage: s3c connection"),
        (["descriptors", "--help"], "Usage: s3c descriptors"),
        (["descriptors", "list"], "Get Object"),
        (["descriptors", "show", "get_object"], '"id": "get_object"'),
        (["descriptors", "show", "connection"], '"kind": "connection"'),
    ],
)
def test_help_and_descriptors_import_no_heavy_dependency(args, shows):
    output, loaded = modules_after(args)
    assert shows in output
    assert [m for m in HEAVY if m in loaded] == []
    assert activity_modules(loaded) == []


def test_descriptors_list_neither_builds_nor_checks_descriptors():
    """The shipped descriptors are read as exported: no marshmallow (the classes' schemas), no
    redaction (no secret is at hand), and no importlib.metadata while no distribution
    declares a plugin."""
    from s3_connector.connector.registry import PLUGIN_GROUP, _may_declare

    _, loaded = modules_after(["descriptors", "list"])
    unused = ["marshmallow", "s3_connector.connector.redaction"]
    if not _may_declare(PLUGIN_GROUP):
        unused.append("importlib.metadata")
    assert [m for m in unused if m in loaded] == []


def test_run_imports_only_the_module_of_its_activity():
    """`s3c run get_object` refused for a bad bucket, before any request: the activity modules
    it imported are those that importing get_object's module imports, no other."""
    env = {
        "AWS_ACCESS_KEY_ID": "cold-start-id",
        "AWS_SECRET_ACCESS_KEY": "cold-start-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    args = ["run", "get_object", "-p", "bucket=Not_A_Bucket", "-p", "key=k"]
    _, loaded = modules_after(args, env)
    assert "s3_connector.activities.get_object" in loaded
    alone = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, s3_connector.activities.get_object\n"
            "print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert activity_modules(loaded) == activity_modules(json.loads(alone.stdout))
    assert "s3_connector.activities.put_object" not in loaded


def test_every_command_is_listed_and_loads():
    import click

    from s3_connector.cli.main import LAZY_COMMANDS, cli

    context = click.Context(cli)
    assert set(LAZY_COMMANDS) < set(cli.list_commands(context))
    for name in LAZY_COMMANDS:
        assert cli.get_command(context, name).name == name
