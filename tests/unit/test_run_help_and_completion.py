"""`s3c run ACTIVITY --help` from the descriptor, and `s3c completion bash|zsh|fish`.

Until the lead's wiring lands (`cls=RunCommand` and the `shell_complete=` hooks in
cli/run_command.py, `completion` in cli/main.py's LAZY_COMMANDS), `wire()` applies the same
wiring in the test process and in the `s3c` the subprocess tests run; once it has landed,
`wire()` does nothing and every test runs the real command. `test_the_wiring_has_landed`
fails until then.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from s3_connector.cli import completion
from s3_connector.cli.run_help import RunCommand, field_rules

HEAVY = ("boto3", "botocore", "awscrt", "jsonschema", "apispec", "s3transfer")

WIRE = textwrap.dedent(
    """
    def wire():
        from s3_connector.cli import completion, main, run_command
        from s3_connector.cli.run_help import RunCommand

        if "completion" not in main.LAZY_COMMANDS:
            from s3_connector.cli.completion_command import completion as command

            main.LAZY_COMMANDS["completion"] = (lambda: command, "Print a completion script.")
        if not isinstance(run_command.run, RunCommand):
            hooks = {
                "activity": completion.activity_ids,
                "parameters": completion.run_parameters,
                "connection_file": completion.paths,
                "config_file": completion.paths,
                "input_path": completion.paths,
                "input_paths": completion.paths,
                "documents_path": completion.paths,
                "output_path": completion.paths,
            }
            old = run_command.run
            for param in old.params:
                param._custom_shell_complete = hooks.get(param.name)
            main.cli.add_command(
                RunCommand(name="run", params=old.params, callback=old.callback, help=old.help)
            )
    """
)
exec(WIRE)


def real_wiring() -> list[str]:
    """What of the lead's wiring is missing."""
    from s3_connector.cli import main, run_command

    missing = []
    if not isinstance(run_command.run, RunCommand):
        missing.append("cls=RunCommand on run_command.run")
    hooks = {p.name: p._custom_shell_complete for p in run_command.run.params}
    if hooks.get("activity") is not completion.activity_ids:
        missing.append("shell_complete on ACTIVITY")
    if hooks.get("parameters") is not completion.run_parameters:
        missing.append("shell_complete on -p")
    if "completion" not in main.LAZY_COMMANDS:
        missing.append("completion in LAZY_COMMANDS")
    return missing


MISSING = real_wiring()
wire()  # noqa: F821 (defined by exec(WIRE))


@pytest.fixture
def s3c_exe(tmp_path):
    """An `s3c` executable on PATH: the real one, wired as the lead will wire it."""
    boot = tmp_path / "boot.py"
    boot.write_text(WIRE + "\nwire()\nimport sys\nfrom s3_connector.cli.main import main\nmain()\n")
    exe = tmp_path / "bin" / "s3c"
    exe.parent.mkdir()
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{boot}" "$@"\n')
    exe.chmod(0o755)
    return exe


def s3c(exe, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    environment["PATH"] = f"{exe.parent}{os.pathsep}{environment['PATH']}"
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=environment, timeout=60
    )


def invoke(*args: str):
    from s3_connector.cli.main import cli

    return CliRunner().invoke(cli, list(args), prog_name="s3c")


def test_the_wiring_has_landed():
    assert MISSING == [], "add the lines of the helper's report to run_command.py and main.py"


# --- s3c run ACTIVITY --help ---------------------------------------------------------------


def test_activity_help_lists_that_activitys_fields_with_their_rules():
    result = invoke("run", "put_object", "--help")
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("Usage: s3c run put_object [OPTIONS]")
    assert "Put Object (target): Stores each incoming document" in text
    assert "--input PATH|-" in text
    for line in (
        "bucket  string, required unless the document has it, dynamic",
        "overwrite  boolean, default true",
        "sse_c_key  string, secret",
        "metadata  object",
    ):
        assert re.search(rf"^\s+{re.escape(line)}$", text, re.M), line
    flat = " ".join(text.split())
    assert "Rules: one of STANDARD, REDUCED_REDUNDANCY, STANDARD_IA," in flat
    assert "Rules: a valid S3 bucket name: 3 to 63 characters" in flat
    assert "Rules: the base64 encoding of a 32-byte (256-bit) key." in flat
    assert "Replace an existing object." in flat
    assert "Bucket and region:" in text and "Encryption:" in text
    assert "-p NAME=VALUE" in text and "--connection" in text
    assert "expires_in" not in text


def test_other_activities_show_ranges_conditions_and_what_they_return():
    flat = " ".join(invoke("run", "presign", "--help").output.split())
    assert "expires_in integer, default 3600" in flat
    assert "Rules: 1 to 604800 seconds (7 days)." in flat
    assert "Accepted only when method is PUT." in flat
    get = " ".join(invoke("run", "get_object", "-c", "x.json", "--help").output.split())
    assert "It returns content: --output PATH|- writes it" in get
    assert "Rules: one byte range: bytes=0-1023" in get


def test_run_help_without_an_activity_is_unchanged():
    result = invoke("run", "--help")
    assert result.exit_code == 0
    assert result.output.startswith("Usage: s3c run [OPTIONS] ACTIVITY")
    assert "Run ACTIVITY; print each response document as one JSON line." in result.output
    assert "Fields" not in result.output and "bucket" not in result.output


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("putobject", "did you mean put_object?"),
        ("list", "did you mean list_buckets, list_objects, list_prefixes?"),
        ("zzz", "known: copy_object, create, delete_object,"),
    ],
)
def test_an_unknown_activity_is_one_line_naming_it_and_near_matches(typed, hint):
    result = invoke("run", typed, "--help")
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"error: activity: unknown activity '{typed}'; {hint}")


def test_every_shipped_pattern_reads_as_its_validator_words_it():
    """A field's help states each pattern by the message its validator refuses with, never
    the pattern itself."""
    from marshmallow import validate

    from s3_connector.connector.registry import Registry
    from s3_connector.sdk.field_table import _schema

    def regexps(validator):
        if isinstance(validator, validate.Regexp):
            yield validator
        for inner in getattr(validator, "validators", []):
            yield from regexps(inner)

    checked = 0
    for descriptor in Registry.shipped().descriptors().values():
        schema = _schema(descriptor)
        for field in descriptor["fields"]:
            if "pattern" not in field.get("constraints", {}):
                continue
            rules = field_rules(field)
            name = f"{descriptor['id']}.{field['name']}"
            assert not any(rule.startswith("matches ") for rule in rules), name
            for validator in (
                v for top in schema.fields[field["name"]].validators for v in regexps(top)
            ):
                assert validator.error.removeprefix("must be ") in rules, name
                checked += 1
    assert checked > 40


def test_a_plugin_pattern_and_lengths_are_shown_as_they_are():
    field = {"name": "tag", "type": "string", "constraints": {"pattern": "^t[0-9]+$"}}
    field["constraints"] |= {"minLength": 2, "maxLength": 9}
    assert field_rules(field) == ["matches ^t[0-9]+$", "2 to 9 characters"]
    assert field_rules({"constraints": {"minimum": 1}}) == ["at least 1"]


def test_activity_help_imports_no_heavy_dependency(s3c_exe):
    script = (
        WIRE
        + "\nwire()\nimport json, sys\nfrom s3_connector.cli.main import cli\n"
        + "for args in (['run', '--help'], ['run', 'put_object', '--help']):\n"
        + "    cli.main(args, prog_name='s3c', standalone_mode=False)\n"
        + "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "sse_c_key  string, secret" in result.stdout
    loaded = json.loads(result.stdout.rstrip("\n").rpartition("\n")[2])
    assert [m for m in HEAVY if m in loaded] == []
    assert [m for m in loaded if m.startswith("s3_connector.activities.")] == []


# --- completion ------------------------------------------------------------------------------


def bash_answer(exe, line: str, **extra: str) -> tuple[list[str], list[str]]:
    """`s3c completion --complete bash` for the line typed so far: (its values, its modules)."""
    env = {"COMP_LINE": line, "COMP_POINT": str(len(line)), "COMP_WORDBREAKS": "\"'><=;|&(:"}
    result = s3c(exe, "completion", "bash", "--complete", env={**env, **extra})
    assert result.returncode == 0, result.stderr
    return [row.partition(",")[2] for row in result.stdout.splitlines() if row]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("s3c ", ["completion", "connection", "descriptors", "local", "new", "policy", "run"]),
        ("s3c run put", ["put_object"]),
        ("s3c run put_object -p buc", ["bucket="]),
        ("s3c run put_object -p bucket=b -p s", ["storage_class=", "sse_c_key="]),
        ("s3c run put_object -p storage_class=GL", ["GLACIER", "GLACIER_IR"]),
        ("s3c run put_object -p overwrite=", ["true", "false"]),
        ("s3c run put_object -c conn.json --input f -p stor", ["storage_class="]),
        ("s3c run -p buc", []),
        ("s3c run nosuch -p buc", []),
        ("s3c descriptors show conn", ["connection"]),
        ("s3c descriptors show list_b", ["list_buckets"]),
        ("s3c policy --activity pu", ["purge", "put_object"]),
        ("s3c local --wr", ["--write-conn"]),
    ],
)
def test_bash_completes_commands_ids_fields_and_values(s3c_exe, line, expected):
    values = bash_answer(s3c_exe, line)
    assert values[: len(expected)] == expected if line == "s3c " else values == expected


def test_bash_gives_values_back_from_where_bash_splits_the_word(s3c_exe):
    """Without `=` in COMP_WORDBREAKS, bash's word is the whole NAME=VALUE."""
    values = bash_answer(s3c_exe, "s3c run put_object -p method=G", COMP_WORDBREAKS=" ")
    assert values == []
    values = bash_answer(s3c_exe, "s3c run presign -p method=G", COMP_WORDBREAKS=" ")
    assert values == ["method=GET"]


def test_completing_a_command_or_an_activity_imports_no_heavy_dependency(s3c_exe):
    script = (
        WIRE
        + "\nwire()\nimport json, os, sys\nfrom s3_connector.cli.main import cli\n"
        + "line = os.environ['COMP_LINE']\n"
        + "try:\n    cli.main(['completion', 'bash', '--complete'], prog_name='s3c')\n"
        + "except SystemExit:\n    pass\n"
        + "print(json.dumps(sorted(sys.modules)))\n"
    )
    lines = ("s3c ", "s3c run put_object -p storage_class=", "s3c descriptors show g")
    for line in (*lines, "s3c local --wr"):
        env = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line))}
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
        )
        assert result.returncode == 0, result.stderr
        loaded = json.loads(result.stdout.rstrip("\n").rpartition("\n")[2])
        assert [m for m in HEAVY if m in loaded] == [], line


def test_clicks_own_protocol_completes_ids_and_fields(s3c_exe):
    """`_S3C_COMPLETE=bash_complete` with COMP_WORDS and COMP_CWORD, as click's own script
    calls it."""
    for words, cword, expected in (
        ("s3c run put", 2, ["put_object"]),
        ("s3c run put_object -p stor", 4, ["storage_class="]),
        ("s3c descriptors show head", 3, ["head_object"]),
    ):
        env = {"_S3C_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        result = s3c(s3c_exe, env=env)
        assert result.returncode == 0, result.stderr
        assert [r.partition(",")[2] for r in result.stdout.splitlines()] == expected


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_each_shells_script(s3c_exe, shell):
    result = s3c(s3c_exe, "completion", shell)
    assert result.returncode == 0, result.stderr
    assert "completion --complete " + shell in result.stdout
    assert "_s3c_completion" in result.stdout
    refused = s3c(s3c_exe, "completion", "tcsh")
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert "tcsh" in line and "bash" in line


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_real_bash_completes_through_the_sourced_script(s3c_exe):
    session = textwrap.dedent(
        """
        source <(s3c completion bash)
        complete -p s3c
        ask() {
            COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
            _s3c_completion s3c 2>/dev/null
            echo "[$1] ${COMPREPLY[*]}"
        }
        ask "s3c ru"
        ask "s3c run get_o"
        ask "s3c run put_object -p sto"
        ask "s3c run put_object -p storage_class=DEEP"
        """
    )
    env = {**os.environ, "PATH": f"{s3c_exe.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", session],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "complete -o nosort -F _s3c_completion s3c"
    assert lines[1:] == [
        "[s3c ru] run",
        "[s3c run get_o] get_object",
        "[s3c run put_object -p sto] storage_class=",
        "[s3c run put_object -p storage_class=DEEP] DEEP_ARCHIVE",
    ]


def run_shell(s3c_exe, argv: list[str], session: str) -> list[str]:
    env = {**os.environ, "PATH": f"{s3c_exe.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([*argv, session], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.skipif(shutil.which("fish") is None, reason="needs fish")
def test_real_fish_completes_through_the_sourced_script(s3c_exe):
    session = """
        s3c completion fish | source
        complete -C "s3c run get_o"
        complete -C "s3c run put_object -p sto"
        complete -C "s3c run put_object -p storage_class=DEEP"
    """
    assert run_shell(s3c_exe, ["fish", "--no-config", "-c"], session) == [
        "get_object\tGet Object",
        "storage_class=\tStorage class",
        "storage_class=DEEP_ARCHIVE",
    ]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="needs zsh")
def test_zsh_script_hands_fields_to_compadd_without_a_space(s3c_exe):
    """zsh's completion system stubbed: what the script hands to `_describe` and `compadd`."""
    session = """
        compdef() { : }
        _describe() { echo "describe ${(P)3}" }
        compadd() { local arr=${@[-1]}; echo "compadd ${@[1,-2]} => ${(P)arr}" }
        eval "$(s3c completion zsh)"
        ask() { words=(${(z)1}); CURRENT=${#words}; _s3c_completion }
        ask "s3c run get_o"
        ask "s3c run put_object -p sto"
        ask "s3c run put_object -p storage_class=DEEP"
    """
    assert run_shell(s3c_exe, ["zsh", "-f", "-c"], session) == [
        "describe get_object:Get Object",
        "compadd -U -S  -V unsorted -a => storage_class=",
        "compadd -U -V unsorted -a => storage_class=DEEP_ARCHIVE",
    ]


def test_the_doc_shows_what_the_commands_print(tmp_path):
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "cli-help-and-completion.md").read_text()
    blocks = re.findall(r"```text\n(.*?)```", doc, re.S)
    help_text = " ".join(invoke("run", "put_object", "--help").output.split())
    shown = [" ".join(line.split()) for line in blocks[0].splitlines() if "..." not in line]
    assert len(shown) > 15
    assert [line for line in shown if line not in help_text] == []
    assert blocks[1].splitlines()[1] == invoke("run", "putobject", "--help").output.strip()
    refused = invoke("local", "--write-conn", "/no/such/dir/conn.json")
    assert blocks[-1].splitlines()[1].strip() == refused.output.strip()
