"""`s3c local --write-conn FILE`: the connection file, and the refusals before any server."""

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from s3_connector.cli.local_command import write_connection
from s3_connector.cli.main import cli
from s3_connector.connector.errors import InvalidInput

SETTINGS = {"auth": "access_keys", "access_key_id": "a", "secret_access_key": "b"}


def test_write_connection_replaces_a_file_with_mode_0600(tmp_path):
    path = tmp_path / "conn.json"
    path.write_text("old")
    path.chmod(0o644)
    write_connection(path, SETTINGS)
    assert json.loads(path.read_text()) == SETTINGS
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["conn.json"]


def test_write_connection_names_the_option_when_it_cannot_write():
    with pytest.raises(InvalidInput) as caught:
        write_connection(Path("/proc/conn.json"), SETTINGS)
    assert caught.value.field == "--write-conn"
    assert str(caught.value).startswith("--write-conn: cannot write the connection to /proc/")


@pytest.mark.parametrize(
    ("target", "reason"),
    [("missing/conn.json", "does not exist"), (".", "it is a directory")],
)
def test_local_refuses_an_unwritable_file_before_starting(tmp_path, target, reason):
    started = time.monotonic()
    result = CliRunner().invoke(
        cli, ["local", "--dir", str(tmp_path / "data"), "--write-conn", str(tmp_path / target)]
    )
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: --write-conn: cannot write the connection to ")
    assert reason in line
    assert not (tmp_path / "data").exists()
    assert time.monotonic() - started < 5
