"""The Camunda templates of every activity, as `s3c descriptors export --format camunda` writes
them, pass Camunda's published schema (@camunda/zeebe-element-templates-json-schema, installed
by `make test`; no network) and the checks Camunda Modeler makes of a templated task
(tests/js/validate_camunda.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from s3_connector.sdk.camunda import element_templates

S3C = str(Path(sys.executable).with_name("s3c"))
JS = Path(__file__).parents[1] / "js"
SCHEMA = JS / "node_modules" / "@camunda" / "zeebe-element-templates-json-schema"


@pytest.fixture(autouse=True)
def _needs_node():
    if shutil.which("node") is None:
        pytest.skip("needs node on PATH")
    if (
        not (SCHEMA / "resources" / "schema.json").is_file()
        or not (JS / "node_modules" / "ajv").is_dir()
    ):
        pytest.skip("needs tests/js/node_modules (make test installs them: npm ci in tests/js)")


def export(path):
    done = subprocess.run(
        [S3C, "descriptors", "export", "--format", "camunda", "-o", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(path.read_text(encoding="utf-8"))


def validate(path):
    done = subprocess.run(
        ["node", str(JS / "validate_camunda.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    *lines, summary = done.stdout.splitlines()
    return (
        done.returncode,
        [line for line in lines if not line.startswith("warning:")],
        json.loads(summary),
    )


def test_every_template_validates_against_camundas_schema(tmp_path):
    path = tmp_path / "templates.json"
    templates = export(path)
    assert len(templates) == 15
    code, errors, summary = validate(path)
    assert (code, errors) == (0, []), "\n".join(errors)
    assert summary["templates"] == 15 and summary["errors"] == 0


def test_every_form_of_condition_and_control_passes_too(tmp_path):
    def field(name, **keys):
        base = {"name": name, "type": "string", "label": name, "description": name, "group": "g"}
        return {**base, "required": False, "secret": False, "dynamic": False, **keys}

    either = {"anyMatch": [{"field": "mode", "equals": "b"}, {"field": "path", "isSet": True}]}
    fields = [
        field("mode", enum=["a", "b", "c"]),
        field("level", enum=[1, 2], default=1),
        field("flag", type="boolean", default=False),
        field("tls", type="boolean"),
        field("path", constraints={"minLength": 2, "maxLength": 9, "pattern": "^[a-z]+$"}),
        field("count", type="integer", constraints={"minimum": 5}),
        field("ratio", type="number", default=0.5, constraints={"minimum": 0, "maximum": 1}),
        field("data", type="json", default={"a": [1, None]}),
        field("password", secret=True, required=True),
        field("choice", enum=["x", "y"], required=True),
        field("either", condition=either, required_when={"field": "flag", "equals": True}),
        field("both", condition={"allMatch": [{"field": "tls", "equals": False}, either]}),
    ]
    groups = [{"id": "g", "label": "G"}]
    connection = {"groups": groups, "fields": [field("token", secret=True)]}
    activity = {"id": "demo", "name": "Demo", "version": 2, "groups": groups, "fields": fields}
    path = tmp_path / "demo.json"
    path.write_text(
        json.dumps(element_templates({"connection": connection, "activities": [activity]}))
    )
    code, errors, summary = validate(path)
    assert (code, errors) == (0, []), "\n".join(errors)
    assert summary["templates"] == 1


def test_the_check_refuses_broken_templates(tmp_path):
    templates = export(tmp_path / "templates.json")
    for template in templates:
        template["properties"] = {p.get("id", "task"): p for p in template["properties"]}
    by_id = {template["id"].split(".")[-1]: template["properties"] for template in templates}
    by_id["put_object"]["settings.bucket"]["type"] = "Slider"  # schema: no such type
    by_id["get_object"]["settings.key"]["condition"] = {"property": "settings.key", "equals": "x"}
    by_id["presign"]["settings.method"]["value"] = "DELETE"  # not a choice
    region = by_id["head_object"]["settings.region"]
    region["constraints"]["pattern"]["value"] = "^[a-z0-9-]+$"  # refuses the empty value
    by_id["exists"]["settings.version_id"] = {**by_id["exists"]["settings.version_id"]}
    by_id["exists"]["settings.version_id"]["condition"] = {
        "property": "settings.nothing",
        "equals": "x",
    }
    for template in templates:
        template["properties"] = list(template["properties"].values())
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(templates), encoding="utf-8")
    code, errors, summary = validate(path)
    assert code == 1 and summary["errors"] == len(errors) >= 5
    text = "\n".join(errors)
    assert (
        "io.s3connector.put_object/properties/" in text and "invalid property type Slider" in text
    )
    assert "io.s3connector.get_object" in text and "must be different than property.id" in text
    assert "io.s3connector.presign/properties/" in text and 'value "DELETE" is not a choice' in text
    assert (
        "io.s3connector.head_object" in text and "modeler refuses its empty value: Region" in text
    )
    assert "io.s3connector.exists" in text and "condition on settings.nothing" in text
    assert not any("io.s3connector.copy_object" in line for line in errors)


def test_the_check_says_how_to_call_it():
    done = subprocess.run(
        ["node", str(JS / "validate_camunda.mjs")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "usage" in done.stderr
