"""react-jsonschema-form renders every exported JSON Schema in Node (React's server renderer,
ajv's draft 2020-12 validator), with no converter, and refuses what the connector refuses."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from s3_connector.sdk.bundle import bundle

S3C = str(Path(sys.executable).with_name("s3c"))
SCRIPT = Path(__file__).parents[1] / "js" / "rjsf_render.mjs"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (SCRIPT.parent / "node_modules" / "@rjsf").is_dir(),
    reason="needs node and tests/js/node_modules (make test installs them)",
)


def render(path: Path) -> tuple[int, dict]:
    done = subprocess.run(
        ["node", str(SCRIPT), str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])["checks"]


def test_every_exported_schema_renders_and_validates(tmp_path):
    path = tmp_path / "bundle.json"
    exported = subprocess.run([S3C, "descriptors", "export", "-o", path], capture_output=True)
    assert exported.returncode == 0, exported.stderr
    code, checks = render(path)
    assert {name: c for name, c in checks.items() if not c["ok"]} == {}
    assert set(checks) >= {
        "every_schema_renders_every_field",
        "access_keys_without_keys_refused",
        "complete_connection_accepted",
    }
    assert code == 0


def test_the_check_fails_on_a_schema_without_the_conditional_rule(tmp_path):
    loose = copy.deepcopy(bundle())
    loose["json_schemas"]["connection"].pop("allOf")
    path = tmp_path / "loose.json"
    path.write_text(json.dumps(loose), encoding="utf-8")
    code, checks = render(path)
    assert checks["access_keys_without_keys_refused"]["ok"] is False
    assert checks["every_schema_renders_every_field"]["ok"] is True
    assert code == 1
