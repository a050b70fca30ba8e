"""Every activity's example in docs/activities.md runs as written against the embedded
SeaweedFS server (the README links each activity to its section there)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from s3_connector.connector.registry import Registry

ACTIVITIES = (Path(__file__).parents[2] / "docs" / "activities.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent


def examples() -> dict[str, str]:
    """Activity id to the first sh block of its section of docs/activities.md."""
    found = {}
    for section in re.split(r"^## ", ACTIVITIES, flags=re.M)[1:]:
        heading = re.match(r"[^\n]*\(`(\w+)`\)\n", section)
        block = re.search(r"```sh\n(.*?)```", section, re.S)
        if heading and block:
            found[heading.group(1)] = block.group(1)
    return found


EXAMPLES = examples()


def test_every_activity_has_an_example():
    assert set(Registry.shipped().ids) <= set(EXAMPLES)


@pytest.fixture(scope="module")
def demo_connection(seaweed, tmp_path_factory):
    client = seaweed.client()
    if "demo" not in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket="demo")
    path = tmp_path_factory.mktemp("readme") / "conn.json"
    path.write_text(json.dumps(seaweed.connection_settings()))
    return path


@pytest.mark.parametrize("activity", Registry.shipped().ids)
def test_the_documented_example_runs_as_written(activity, demo_connection, tmp_path):
    (tmp_path / "conn.json").write_text(demo_connection.read_text())
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", EXAMPLES[activity]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert result.stdout.strip(), "the example prints its responses"
