"""The Camunda templates of every activity validate against Camunda's published schema
(@camunda/zeebe-element-templates-json-schema, installed by `make test`; no network)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

S3C = str(Path(sys.executable).with_name("s3c"))
JS = Path(__file__).parents[1] / "js"
SCHEMA = JS / "node_modules" / "@camunda" / "zeebe-element-templates-json-schema"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not SCHEMA.is_dir(),
    reason="needs node and tests/js/node_modules (make test installs them)",
)


def validate(path):
    return subprocess.run(
        ["node", str(JS / "validate_camunda.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_template_validates_against_camundas_schema(tmp_path):
    path = tmp_path / "templates.json"
    done = subprocess.run(
        [S3C, "descriptors", "export", "--format", "camunda", "-o", path],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    checked = validate(path)
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout.splitlines()[-1]) == {"templates": 15, "errors": 0}


def test_the_check_refuses_a_broken_template(tmp_path):
    templates = json.loads(
        subprocess.run(
            [S3C, "descriptors", "export", "--format", "camunda"], capture_output=True, text=True
        ).stdout
    )
    templates[0]["properties"][1]["type"] = "Slider"
    templates[1]["properties"][1]["condition"] = {"property": "connection.auth", "anyMatch": []}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(templates))
    checked = validate(path)
    assert checked.returncode == 1
    assert json.loads(checked.stdout.splitlines()[-1])["errors"] >= 2
