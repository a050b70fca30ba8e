"""What a designer relies on, tried as one would: `s3c descriptors schema`, the bundle, the
JSON Schema export, live choices on SeaweedFS, and patterns that a browser runs as the
connector does."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from support import run_node_on_json

from s3_connector.connector.descriptor_checks import DescriptorError, check_ecma_pattern
from s3_connector.connector.registry import Registry
from s3_connector.sdk.bundle import json_schemas

S3C = str(Path(sys.executable).with_name("s3c"))
JS = Path(__file__).parents[1] / "js"
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")


def s3c(*args):
    return subprocess.run([S3C, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_schema_prints_a_standalone_draft_2020_12_schema():
    done = s3c("descriptors", "schema", "connection")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["secret_access_key"]["writeOnly"] is True
    validator = Draft202012Validator(schema)
    refused = {error.message for error in validator.iter_errors({"auth": "access_keys"})}
    assert "'access_key_id' is a required property" in refused
    assert validator.is_valid(
        {"auth": "access_keys", "access_key_id": "AK", "secret_access_key": "s"}
    )


def test_schema_follows_the_connection_rules(tmp_path):
    amazon = json.loads(s3c("descriptors", "schema", "list_objects").stdout)
    conn = tmp_path / "conn.json"
    conn.write_text(
        json.dumps({"endpoint_url": "http://127.0.0.1:9", "allow_control_characters": True})
    )
    custom = json.loads(s3c("descriptors", "schema", "list_objects", "-c", conn).stdout)
    for schema, region_ok, tab_ok in ((amazon, False, False), (custom, True, True)):
        validator = Draft202012Validator(schema)
        assert validator.is_valid({"region": "local"}) is region_ok
        assert validator.is_valid({"prefix": "a\tb"}) is tab_ok
        assert not validator.is_valid({"prefix": "a\x00b"})


def test_an_unknown_id_is_one_line_and_exit_2():
    done = s3c("descriptors", "schema", "put_objet")
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: ID: unknown descriptor 'put_objet' (known: connection,")


def test_the_bundle_embeds_its_meta_schema_and_every_json_schema(tmp_path):
    path = tmp_path / "bundle.json"
    assert s3c("descriptors", "export", "-o", path).returncode == 0
    bundle = json.loads(path.read_text())
    meta = bundle["meta_schema"]
    Draft202012Validator.check_schema(meta)
    for descriptor in [bundle["connection"], *bundle["activities"]]:
        Draft202012Validator(meta).validate(descriptor)
    assert set(bundle["json_schemas"]) == {"connection", *Registry.installed().ids}
    plain = tmp_path / "schemas.json"
    assert s3c("descriptors", "export", "--format", "jsonschema", "-o", plain).returncode == 0
    assert json.loads(plain.read_text()) == bundle["json_schemas"]


def test_dynamic_fields_are_never_required_by_a_form_but_still_by_the_connector():
    schemas = json_schemas()
    for activity_id, descriptor in Registry.installed().activities.items():
        for field in descriptor["fields"]:
            if field.get("required_unless_document"):
                assert field["dynamic"] and not field["required"]
                assert field["name"] not in schemas[activity_id].get("required", [])
    bucket = next(
        f for f in Registry.installed().descriptor("get_object")["fields"] if f["name"] == "bucket"
    )
    assert bucket["required_unless_document"] is True
    assert bucket["choices_from"]["activity"] == "list_buckets"


def test_choices_fill_a_bucket_picker_from_list_buckets(seaweed, seaweed_bucket, tmp_path):
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps(seaweed.connection_settings()))
    done = s3c("descriptors", "choices", "put_object", "bucket", "-c", conn)
    assert done.returncode == 0, done.stderr
    assert seaweed_bucket in done.stdout.splitlines()
    refused = s3c("descriptors", "choices", "put_object", "key", "-c", conn)
    assert refused.returncode == 2
    assert (
        refused.stderr.strip()
        == "error: FIELD: key has no choices_from (fields with choices: bucket)"
    )


@pytest.mark.parametrize("pattern", [r"^(?P<name>a)$", r"^a\Z", r"(?i)^a$", r"^\-$"])
def test_a_pattern_that_browsers_cannot_run_is_refused(pattern):
    with pytest.raises(DescriptorError, match="pattern is not ECMA-262"):
        check_ecma_pattern(pattern, "plugin x: field y")


SAMPLES = [
    "",
    "a",
    "a\n",
    "\n",
    "my-bucket",
    "eu-west-1",
    "text/plain",
    "bytes=0-9",
    "x" * 70,
    "é",
    "http://127.0.0.1:8333",
    "A\tB",
    "AKIAEXAMPLE",
    "s3-connector",
    "local",
    "\x00",
]


@needs_node
def test_every_shipped_pattern_runs_in_a_browser_as_in_the_connector(tmp_path):
    """Each pattern of the descriptors and JSON Schemas compiles in Node (ECMA-262 with the
    `u` flag, as ajv runs it) and matches the same samples as the connector (`re.fullmatch`)."""
    import re

    patterns = set()

    def collect(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.add(node["pattern"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect([Registry.installed().descriptors(), json_schemas()])
    assert len(patterns) > 15
    cases = [[pattern, SAMPLES] for pattern in sorted(patterns)]
    results = run_node_on_json("ecma_patterns.mjs", cases, tmp_path)
    for (pattern, samples), result in zip(cases, results, strict=True):
        assert result["compiled"], (pattern, result)
        expected = [re.fullmatch(pattern, sample) is not None for sample in samples]
        assert result["matches"] == expected, pattern


def test_the_test_connection_capability_answers_on_the_agent_protocol(seaweed, seaweed_bucket):
    assert Registry.installed().connection["capabilities"] == {"test_connection": True}
    good = {"id": "t1", "test_connection": True, "connection": seaweed.connection_settings()}
    wrong = {
        **good,
        "id": "t2",
        "connection": {
            **good["connection"],
            "endpoint_url": "http://127.0.0.1:9",
            "max_attempts": 1,
        },
    }
    lines = [{**good, "id": "tb", "bucket": seaweed_bucket}, good, wrong]
    lines.append({"id": "t3", "test_connection": 1})
    done = subprocess.run(
        [S3C, "serve", "--protocol", "2"],
        input="".join(json.dumps(line) + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=120,
    )
    answers = {a["request_id"]: a for a in map(json.loads, done.stdout.splitlines()[1:])}
    assert answers["t1"]["status"] == "ok" and answers["t1"]["test"]["ok"] is True
    assert answers["t1"]["test"]["call"] == "ListBuckets"
    assert answers["tb"]["test"]["call"] == "HeadBucket"
    assert answers["tb"]["test"]["bucket"] == seaweed_bucket
    assert answers["t2"]["status"] == "error" and answers["t2"]["error"]["kind"] == "transient"
    assert answers["t2"]["test"]["endpoint"] == "http://127.0.0.1:9"
    assert answers["t3"]["error"]["field"] == "test_connection"
