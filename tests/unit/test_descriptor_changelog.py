"""The changelog rule: a descriptor that changes in a way a saved configuration or a designer
could trip on must raise its version and say why in descriptors/changelog.json."""

from __future__ import annotations

import copy
import json

import pytest

from s3_connector.connector.registry import Registry
from s3_connector.sdk import changelog, export

SHIPPED = Registry.shipped().descriptors()
RECORDED = changelog.read(export.DESCRIPTORS_DIR)


def test_the_shipped_descriptors_match_their_recorded_versions():
    assert changelog.problems(SHIPPED, RECORDED) == []
    assert changelog.recorded(SHIPPED, RECORDED) == RECORDED
    assert {key: entry["version"] for key, entry in RECORDED.items()} == {
        key: descriptor["version"] for key, descriptor in SHIPPED.items()
    }


def _field(descriptor, name):
    return next(field for field in descriptor["fields"] if field["name"] == name)


def _remove_field(d):
    d["fields"] = [f for f in d["fields"] if f["name"] != "storage_class"]


def _add_required_field(d):
    d["fields"].append({**_field(d, "overwrite"), "name": "tier", "required": True})


BREAKING = {
    "a field removed": (_remove_field, "field storage_class removed"),
    "a bound narrowed": (
        lambda d: _field(d, "folder")["constraints"].update(maxLength=100),
        "field folder: maxLength lowered to 100",
    ),
    "a field newly required": (
        lambda d: _field(d, "content_type").update(required=True),
        "field content_type: now required",
    ),
    "an allowed value removed": (
        lambda d: _field(d, "storage_class")["enum"].remove("GLACIER"),
        "allowed values narrowed (removed: ['GLACIER'])",
    ),
    "a pattern changed": (
        lambda d: _field(d, "content_type")["constraints"].update(pattern="^text/.*$"),
        "field content_type: pattern changed",
    ),
    "a required field added": (_add_required_field, "field tier added as required"),
    "no longer dynamic": (
        lambda d: _field(d, "key").update(dynamic=False),
        "field key: no longer dynamic",
    ),
    "a response property removed": (
        lambda d: d["response"]["properties"].pop("etag"),
        "response property etag removed",
    ),
    "a written property removed": (
        lambda d: d["document"]["writes"].remove("version_id"),
        "document property version_id removed",
    ),
}


@pytest.mark.parametrize("change", list(BREAKING))
def test_an_incompatible_change_needs_a_new_version(change):
    edit, phrase = BREAKING[change]
    changed = copy.deepcopy(SHIPPED["put_object"])
    edit(changed)
    [problem] = changelog.problems({"put_object": changed}, RECORDED)
    assert phrase in problem
    assert "raise its version to 2" in problem
    changed["version"] = 2
    [problem] = changelog.problems({"put_object": changed}, RECORDED)
    assert problem == "put_object: changelog.json says nothing of version 2"
    with_reason = copy.deepcopy(RECORDED)
    with_reason["put_object"]["changes"]["2"] = "Why it changed."
    assert changelog.problems({"put_object": changed}, with_reason) == []


def test_compatible_changes_keep_the_version():
    changed = copy.deepcopy(SHIPPED["put_object"])
    changed["fields"].append({**_field(changed, "overwrite"), "name": "tag", "default": False})
    _field(changed, "bucket").update(label="Target bucket", description="Another text.")
    _field(changed, "storage_class")["enum"].append("NEW_CLASS")
    _field(changed, "folder")["constraints"]["maxLength"] = 2000
    assert changelog.problems({"put_object": changed}, RECORDED) == []


def test_make_descriptors_refuses_to_record_a_breaking_change(tmp_path):
    registry = Registry.shipped()
    export.write(registry, tmp_path)
    recorded = json.loads((tmp_path / changelog.CHANGELOG_FILE).read_text())
    recorded["put_object"]["contract"]["fields"]["folder"]["constraints"]["maxLength"] = 5000
    (tmp_path / changelog.CHANGELOG_FILE).write_text(json.dumps(recorded))
    with pytest.raises(ValueError, match="put_object: field folder: maxLength lowered to 1023"):
        export.write(registry, tmp_path)
    assert any("maxLength lowered" in line for line in export.stale_files(registry, tmp_path))
