"""`s3c descriptors preview` in headless Chromium: json-editor renders the exported JSON
Schemas, with no converter, and refuses what the connector refuses
(react-jsonschema-form's side is test_rjsf_render.py)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from s3_connector.sdk.bundle import bundle
from s3_connector.sdk.preview import write_preview

S3C = str(Path(sys.executable).with_name("s3c"))
JS = Path(__file__).parents[1] / "js"
MODULES = JS / "node_modules"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
VENDORED = Path(__file__).parents[2] / "sdk" / "preview_assets" / "jsoneditor.js"

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (MODULES / "@rjsf").is_dir(),
    reason="needs node and tests/js/node_modules (make test installs them)",
)
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or not (MODULES / "playwright-core").is_dir(),
    reason="needs Chromium (scripts/ensure-chromium.sh installs it) and playwright-core",
)


def drive(index: Path, screenshot: Path) -> dict:
    done = subprocess.run(
        ["node", str(JS / "preview_check.mjs"), str(index), str(screenshot)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "CHROMIUM": CHROMIUM},
    )
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])["checks"]


@needs_node
@needs_chromium
def test_the_preview_refuses_what_the_connector_refuses(tmp_path):
    done = subprocess.run(
        [S3C, "descriptors", "preview", "-o", tmp_path / "site"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    index = tmp_path / "site" / "index.html"
    assert {p.name for p in index.parent.iterdir()} >= {"index.html", "jsoneditor.js", "LICENSE"}
    checks = drive(index, tmp_path / "preview.png")
    failed = {name: check for name, check in checks.items() if not check["ok"]}
    assert failed == {}
    assert set(checks) >= {
        "access_keys_without_keys_refused",
        "complete_keys_accepted",
        "messages_are_the_connectors_not_regexes",
        "every_activity_form_renders_every_field",
    }
    assert (tmp_path / "preview.png").stat().st_size > 10_000


@needs_node
@needs_chromium
def test_the_check_fails_on_a_schema_without_the_conditional_rule(tmp_path):
    loose = copy.deepcopy(bundle())
    loose["json_schemas"]["connection"].pop("allOf")
    checks = drive(write_preview(tmp_path / "site", loose), tmp_path / "loose.png")
    assert checks["access_keys_without_keys_refused"]["ok"] is False
    assert checks["every_activity_form_renders_every_field"]["ok"] is True


@pytest.mark.skipif(not (MODULES / "@json-editor").is_dir(), reason="needs tests/js/node_modules")
def test_the_vendored_library_is_the_pinned_npm_release():
    pinned = json.loads((JS / "package.json").read_text())["dependencies"][
        "@json-editor/json-editor"
    ]
    installed = MODULES / "@json-editor" / "json-editor"
    assert json.loads((installed / "package.json").read_text())["version"] == pinned
    assert VENDORED.read_bytes() == (installed / "dist" / "jsoneditor.js").read_bytes()
    assert f"json-editor {pinned}" in (VENDORED.parent / "README.md").read_text()
