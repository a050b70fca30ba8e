"""Camunda 8 element templates from the descriptors (sdk/camunda.py)."""

from __future__ import annotations

import re

import pytest

from s3_connector.sdk.bundle import bundle
from s3_connector.sdk.camunda import SECRET_PATTERN, element_templates, integer_range_pattern

BUNDLE = bundle()
TEMPLATES = {template["id"]: template for template in element_templates(BUNDLE)}


def props(activity_id):
    return TEMPLATES[f"io.s3connector.{activity_id}"]["properties"]


def by_binding(activity_id, name):
    return [p for p in props(activity_id) if p["binding"].get("name") == name]


def test_one_template_per_activity_with_the_connection_merged_in():
    assert len(TEMPLATES) == len(BUNDLE["activities"]) == 15
    connection_fields = {f["name"] for f in BUNDLE["connection"]["fields"]}
    for activity in BUNDLE["activities"]:
        template = TEMPLATES[f"io.s3connector.{activity['id']}"]
        bound = {p["binding"].get("name") for p in template["properties"]}
        assert {f"connection.{name}" for name in connection_fields} <= bound
        assert {f"settings.{f['name']}" for f in activity["fields"]} <= bound
        [task] = [
            p for p in template["properties"] if p["binding"]["type"] == "zeebe:taskDefinition"
        ]
        assert task["value"] == f"io.s3connector:{activity['id']}:{activity['version']}"
        assert template["version"] == activity["version"]
        assert template["icon"]["contents"].startswith("data:image/svg+xml;base64,")
        ids = [p["id"] for p in template["properties"] if "id" in p]
        assert len(ids) == len(set(ids))


def test_secrets_are_references_never_values():
    for template in TEMPLATES.values():
        for prop in template["properties"]:
            name = prop["binding"].get("name", "")
            if name.split(".")[-1] in (
                "secret_access_key",
                "session_token",
                "sse_c_key",
                "source_sse_c_key",
            ):
                assert prop["constraints"]["pattern"]["value"] == SECRET_PATTERN
                shown = prop.get("value", prop.get("placeholder"))
                assert re.fullmatch(SECRET_PATTERN, shown), prop
    [required, optional] = by_binding("put_object", "connection.secret_access_key")
    assert required["value"] == "{{secrets.S3_SECRET_ACCESS_KEY}}"
    assert required["constraints"]["notEmpty"] is True
    assert required["condition"] == {
        "type": "simple",
        "property": "connection.auth",
        "oneOf": ["access_keys"],
    }
    assert "value" not in optional and optional["optional"] is True
    assert optional["condition"]["oneOf"] == ["assume_role"]
    assert "Required when auth is access_keys or access_key_id is set." in optional["description"]


def test_conditions_labels_ranges_and_messages_are_kept():
    [method] = by_binding("presign", "settings.method")
    assert method["type"] == "Dropdown" and method["value"] == "GET"
    assert {"name": "PUT (upload link)", "value": "PUT"} in method["choices"]
    [version] = by_binding("presign", "settings.version_id")
    assert version["condition"] == {
        "type": "simple",
        "property": "settings.method",
        "equals": "GET",
    }
    [storage] = by_binding("put_object", "settings.storage_class")
    assert storage["choices"][0] == {"name": "(not set)", "value": ""} and storage["value"] == ""
    [expires] = by_binding("presign", "settings.expires_in")
    assert expires["constraints"]["pattern"]["message"] == "must be 1 to 604800 seconds (7 days)"
    [bucket] = by_binding("get_object", "settings.bucket")
    assert (
        bucket["constraints"]["minLength"] == 3
        and "bucket name" in bucket["constraints"]["pattern"]["message"]
    )
    assert "notEmpty" not in bucket["constraints"] or bucket["constraints"]["notEmpty"] is False
    assert "A job variable `bucket` may supply it instead." in bucket["description"]
    [profile] = by_binding("get_object", "connection.profile")
    assert profile["constraints"]["notEmpty"] is True
    [region] = by_binding("get_object", "connection.region")
    assert "must be an AWS region name" in region["description"]


@pytest.mark.parametrize(
    ("low", "high"), [(1, 20), (900, 43200), (1, 604800), (1, 100000), (0, 9), (7, 7)]
)
def test_an_integer_range_becomes_a_pattern_of_exactly_its_integers(low, high):
    pattern = re.compile(integer_range_pattern(low, high))
    for number in {
        *range(0, min(high, 2000) + 50),
        *range(max(low - 50, 0), low + 50),
        high,
        high + 1,
        high * 10,
    }:
        assert (pattern.fullmatch(str(number)) is not None) == (low <= number <= high), number
    assert pattern.fullmatch(f"0{low}") is None
