"""Camunda 8 element templates from the descriptors (sdk/camunda.py)."""

from __future__ import annotations

import copy
import json
import re
from itertools import product

import pytest

from s3_connector.connector.conditions import holds as connector_holds
from s3_connector.sdk.bundle import bundle
from s3_connector.sdk.camunda import (
    SECRET_PATTERN,
    element_templates,
    integer_pattern,
    integer_range_pattern,
)

BUNDLE = bundle()
TEMPLATES = {template["id"]: template for template in element_templates(BUNDLE)}


def props(activity_id, templates=None):
    return (templates or TEMPLATES)[f"io.s3connector.{activity_id}"]["properties"]


def by_binding(activity_id, name, templates=None):
    return [p for p in props(activity_id, templates) if p["binding"].get("name") == name]


def field(name, **keys):
    return {
        "name": name,
        "type": "string",
        "label": name.title(),
        "description": f"The {name}.",
        "required": False,
        "secret": False,
        "dynamic": False,
        "group": "main",
        **keys,
    }


def templates_of(fields, connection_fields=(), **activity_keys):
    """Templates of a bundle with one activity `demo` holding `fields`."""
    groups = [{"id": "main", "label": "Main"}]
    connection = {"id": "connection", "groups": groups, "fields": list(connection_fields)}
    activity = {"id": "demo", "name": "Demo", "groups": groups, "fields": fields}
    activity.update(activity_keys)
    return {
        t["id"]: t for t in element_templates({"connection": connection, "activities": [activity]})
    }


def holds(condition, values):
    """Whether a Camunda condition holds when the properties have `values` (by id)."""
    if condition is None:
        return True
    if "allMatch" in condition:
        return all(holds(part, values) for part in condition["allMatch"])
    value = values.get(condition["property"])
    if "isEmpty" in condition:
        return (value in (None, "")) == condition["isEmpty"]
    if "equals" in condition:
        return value == condition["equals"]
    return value in condition["oneOf"]


def test_one_template_per_activity_with_the_connection_merged_in():
    assert len(TEMPLATES) == len(BUNDLE["activities"]) == 15
    connection = BUNDLE["connection"]
    for activity in BUNDLE["activities"]:
        template = TEMPLATES[f"io.s3connector.{activity['id']}"]
        assert template["$schema"].endswith(
            "/zeebe-element-templates-json-schema/resources/schema.json"
        )
        assert template["appliesTo"] == ["bpmn:Task"]
        assert template["elementType"] == {"value": "bpmn:ServiceTask"}
        assert template["version"] == activity["version"]
        bound = [p["binding"].get("name") for p in template["properties"]]
        assert {f"connection.{f['name']}" for f in connection["fields"]} <= set(bound)
        assert {f"settings.{f['name']}" for f in activity["fields"]} <= set(bound)
        assert [g["id"] for g in template["groups"]] == [
            *(f"connection.{g['id']}" for g in connection["groups"]),
            *(f"settings.{g['id']}" for g in activity["groups"]),
        ]
        [task] = [
            p for p in template["properties"] if p["binding"]["type"] == "zeebe:taskDefinition"
        ]
        assert task == {
            "type": "Hidden",
            "value": f"io.s3connector:{activity['id']}:{activity['version']}",
            "binding": {"type": "zeebe:taskDefinition", "property": "type"},
        }
        ids = [p["id"] for p in template["properties"] if "id" in p]
        assert len(ids) == len(set(ids))
        assert "documentationRef" not in template  # the descriptors' links are relative


def test_version_documentation_and_deprecation_come_from_the_descriptor_when_present():
    plain = templates_of([field("name")])["io.s3connector.demo"]
    assert plain["version"] == 1 and "documentationRef" not in plain and "icon" not in plain
    rich = templates_of(
        [field("name")],
        version=3,
        documentation_url="https://example.com/demo",
        deprecated=True,
        icon="data:image/svg+xml;base64,AA==",
    )["io.s3connector.demo"]
    assert rich["version"] == 3 and rich["documentationRef"] == "https://example.com/demo"
    assert rich["deprecated"] == {"message": "Demo is deprecated."}
    assert rich["properties"][0]["value"] == "io.s3connector:demo:3"
    assert rich["icon"] == {"contents": "data:image/svg+xml;base64,AA=="}


def test_secrets_are_references_never_values():
    secrets = {
        f["name"]
        for d in [BUNDLE["connection"], *BUNDLE["activities"]]
        for f in d["fields"]
        if f["secret"]
    }
    assert {"secret_access_key", "session_token", "sse_c_key", "source_sse_c_key"} <= secrets
    for template in TEMPLATES.values():
        for prop in template["properties"]:
            name = prop["binding"].get("name", "").split(".")[-1]
            if name not in secrets:
                continue
            reference = "{{secrets.S3_" + name.upper() + "}}"
            assert prop.get("value", prop.get("placeholder")) == reference, prop
            assert set(prop) & {"value", "placeholder"} != {"value", "placeholder"}
            assert reference in prop["description"] and "never the value" in prop["description"]
            pattern = prop["constraints"]["pattern"]["value"]
            assert pattern in (SECRET_PATTERN, f"^$|(?:{SECRET_PATTERN})")
            assert re.search(pattern, reference)
            assert not re.search(pattern, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    [required, optional] = by_binding("put_object", "connection.secret_access_key")
    assert required["value"] == "{{secrets.S3_SECRET_ACCESS_KEY}}"
    assert required["constraints"]["notEmpty"] is True
    assert "value" not in optional and optional["optional"] is True
    [token] = by_binding("get_object", "connection.session_token")
    assert "value" not in token and token["placeholder"] == "{{secrets.S3_SESSION_TOKEN}}"


def test_a_secret_default_never_reaches_a_template():
    fields = [field("password", secret=True, required=True, default="hunter2")]
    text = json.dumps(
        templates_of(fields, connection_fields=[field("pin", secret=True, default="1234")])
    )
    assert "hunter2" not in text and "1234" not in text
    assert "{{secrets.S3_PASSWORD}}" in text and "{{secrets.S3_PIN}}" in text


def test_controls_follow_the_field_types():
    [method] = by_binding("presign", "settings.method")
    assert method["type"] == "Dropdown" and method["value"] == "GET" and "optional" not in method
    assert {"name": "PUT (upload link)", "value": "PUT"} in method["choices"]
    [storage] = by_binding("put_object", "settings.storage_class")
    assert storage["choices"][0] == {"name": "(not set)", "value": ""} and storage["value"] == ""
    assert storage["optional"] is True  # "(not set)" writes no input
    [overwrite] = by_binding("put_object", "settings.overwrite")
    assert overwrite == {**overwrite, "type": "Boolean", "value": True}
    # unset and false differ: false turns certificate checks off
    [verify] = by_binding("put_object", "connection.verify_tls")
    assert verify["type"] == "Dropdown" and verify["value"] == "" and verify["optional"] is True
    assert [c["value"] for c in verify["choices"]] == ["", "true", "false"]
    [timeout] = by_binding("put_object", "connection.connect_timeout")
    assert timeout["type"] == "Number" and timeout["value"] == 10.0
    assert "Must be from 0.1 to 600." in timeout["description"]
    [metadata] = by_binding("put_object", "settings.metadata")
    assert metadata["type"] == "Text" and metadata["feel"] == "required"
    [expires] = by_binding("presign", "settings.expires_in")
    assert expires["type"] == "String" and expires["value"] == "3600"
    [bucket] = by_binding("get_object", "settings.bucket")
    assert bucket["placeholder"] == "my-bucket"
    [profile] = by_binding("get_object", "connection.profile")
    assert profile["placeholder"] == "e.g. default"  # from examples
    [data] = templates_of([field("data", type="json", default={"a": [1, None]})])[
        "io.s3connector.demo"
    ]["properties"][1:]
    assert data["value"] == '={"a": [1, null]}'


def test_required_dynamic_and_optional_fields():
    for template in TEMPLATES.values():
        for prop in template["properties"]:
            name = prop["binding"].get("name", "")
            if name.startswith("settings."):
                activity = next(
                    a for a in BUNDLE["activities"] if template["id"].endswith(f".{a['id']}")
                )
                spec = next(f for f in activity["fields"] if f"settings.{f['name']}" == name)
                if spec["dynamic"]:
                    assert prop.get("constraints", {}).get("notEmpty") is not True, prop
                    assert f"a document's `{spec['name']}` property" in prop["description"].lower()
            if prop.get("optional"):
                assert prop.get("constraints", {}).get("notEmpty", False) is False
    [bucket] = by_binding("get_object", "settings.bucket")
    assert bucket["optional"] is True and "Needed, but not required here" in bucket["description"]
    [required] = by_binding("demo", "settings.name", templates_of([field("name", required=True)]))
    assert required["constraints"] == {"notEmpty": True} and "optional" not in required


def test_conditions_are_mapped():
    [version] = by_binding("presign", "settings.version_id")
    assert version["condition"] == {
        "type": "simple",
        "property": "settings.method",
        "equals": "GET",
    }
    [token] = by_binding("presign", "connection.session_token")
    assert token["condition"] == {
        "type": "simple",
        "property": "connection.auth",
        "oneOf": ["access_keys", "assume_role"],
    }
    fields = [
        field("mode", enum=["a", "b", "c"], default="a"),
        field("flag", type="boolean", default=False),
        field("path"),
        field(
            "both",
            condition={
                "allMatch": [{"field": "mode", "equals": "b"}, {"field": "flag", "equals": True}]
            },
        ),
        field("when_set", condition={"field": "path", "isSet": True}),
        field("free", condition={"field": "path", "equals": "x"}),
    ]
    templates = templates_of(fields)
    [both] = by_binding("demo", "settings.both", templates)
    assert both["condition"] == {
        "allMatch": [
            {"type": "simple", "property": "settings.mode", "equals": "b"},
            {"type": "simple", "property": "settings.flag", "equals": True},
        ]
    }
    [when_set] = by_binding("demo", "settings.when_set", templates)
    assert when_set["condition"] == {
        "type": "simple",
        "property": "settings.path",
        "isEmpty": False,
    }
    [free] = by_binding("demo", "settings.free", templates)
    assert free["condition"] == {"type": "simple", "property": "settings.path", "equals": "x"}


def test_any_match_becomes_properties_with_disjoint_conditions():
    fields = [
        field("mode", enum=["a", "b", "c"], default="a"),
        field("path"),
        field(
            "extra",
            condition={
                "anyMatch": [{"field": "mode", "equals": "b"}, {"field": "path", "isSet": True}]
            },
        ),
    ]
    extras = by_binding("demo", "settings.extra", templates_of(fields))
    assert len(extras) == 2 and len({p["id"] for p in extras}) == 2
    for mode, path in product(["a", "b", "c"], ["", "p"]):
        values = {"settings.mode": mode, "settings.path": path}
        shown = [p for p in extras if holds(p.get("condition"), values)]
        assert len(shown) == (1 if mode == "b" or path else 0), values


def test_required_when_becomes_required_and_optional_cases():
    [profile] = by_binding("get_object", "connection.profile")
    assert profile["id"] == "connection.profile" and profile["constraints"]["notEmpty"] is True
    pairs = by_binding("get_object", "connection.access_key_id")
    assert [p["id"] for p in pairs] == [
        "connection.access_key_id.required",
        "connection.access_key_id.optional",
    ]
    for auth in ("access_keys", "default_chain", "profile", "assume_role"):
        shown = [p for p in pairs if holds(p.get("condition"), {"connection.auth": auth})]
        assert len(shown) == (auth in ("access_keys", "assume_role"))
        if shown:
            assert bool(shown[0].get("constraints", {}).get("notEmpty")) == (auth == "access_keys")
    # the other disjunct refers to a field that is itself split: said in words
    assert (
        "Required when auth is access_keys or secret_access_key is set." in pairs[1]["description"]
    )
    fields = [
        field("kind", enum=["x", "y"], default="x"),
        field("name", required_when={"field": "kind", "equals": "y"}),
    ]
    cases = by_binding("demo", "settings.name", templates_of(fields))
    assert [
        (p["condition"]["equals"], p.get("constraints", {}).get("notEmpty")) for p in cases
    ] == [
        ("y", True),
        ("x", None),
    ]


SHOWN = [
    None,
    {"field": "mode", "isSet": True},
    {
        "anyMatch": [
            {"field": "mode", "equals": "b"},
            {"allMatch": [{"field": "flag", "equals": True}, {"field": "path", "isSet": True}]},
        ]
    },
    {
        "allMatch": [
            {"field": "mode", "oneOf": ["a", "b"]},
            {"anyMatch": [{"field": "flag", "equals": False}, {"field": "path", "isSet": False}]},
        ]
    },
]
NEEDED = [
    None,
    {"anyMatch": [{"field": "mode", "equals": "c"}, {"field": "path", "isSet": True}]},
    {"allMatch": [{"field": "flag", "equals": True}, {"field": "mode", "oneOf": ["a", "c"]}]},
]


@pytest.mark.parametrize(("shown", "needed"), list(product(SHOWN, NEEDED)))
def test_conditions_of_enums_booleans_and_is_set_are_kept_exactly(shown, needed):
    fields = [
        field("mode", enum=["a", "b", "c"]),
        field("flag", type="boolean", default=False),
        field("path"),
        field("target", **({"condition": shown} if shown else {}), required_when=needed),
    ]
    targets = by_binding("demo", "settings.target", templates_of(fields))
    for mode, flag, path in product(["", "a", "b", "c"], [True, False], ["", "p"]):
        settings = {"mode": mode or None, "flag": flag, "path": path or None}
        values = {"settings.mode": mode, "settings.flag": flag, "settings.path": path}
        active = [p for p in targets if holds(p.get("condition"), values)]
        assert len(active) == (shown is None or connector_holds(shown, settings)), settings
        for prop in active:
            required = needed is not None and connector_holds(needed, settings)
            assert prop.get("constraints", {}).get("notEmpty", False) == required, settings


def test_every_condition_names_another_property():
    for template in TEMPLATES.values():
        ids = {p["id"] for p in template["properties"] if "id" in p}
        for prop in template["properties"]:
            condition = prop.get("condition") or {}
            for simple in condition.get("allMatch", [condition]):
                if simple:
                    assert simple["property"] in ids and simple["property"] != prop["id"], prop


def test_constraints_and_messages_are_kept():
    [bucket] = by_binding("get_object", "settings.bucket")
    constraints = bucket["constraints"]
    assert constraints["maxLength"] == 63 and "bucket name" in constraints["pattern"]["message"]
    pattern = constraints["pattern"]["value"]
    for name, ok in [("", True), ("my-bucket", True), ("ab", False), ("My_Bucket", False)]:
        assert bool(re.search(pattern, name)) == ok, name
    [region] = by_binding("get_object", "settings.region")
    assert region["constraints"]["pattern"]["message"] == "must be a region name such as eu-west-1"
    [key] = by_binding("get_object", "settings.key")
    assert key["constraints"]["maxLength"] == 1024
    assert re.search(key["constraints"]["pattern"]["value"], "")
    assert not re.search(key["constraints"]["pattern"]["value"], "a\0b")
    [required] = by_binding("put_object", "connection.access_key_id")[:1]
    assert required["constraints"]["minLength"] == 1
    [connection_region] = by_binding("get_object", "connection.region")
    assert (
        "When endpoint_url is not set: must be an AWS region name"
        in connection_region["description"]
    )
    [expires] = by_binding("presign", "settings.expires_in")
    assert expires["constraints"]["pattern"]["message"] == "must be 1 to 604800 seconds (7 days)"
    [most] = by_binding("purge", "settings.max_objects")
    assert [
        bool(re.search(most["constraints"]["pattern"]["value"], n))
        for n in ["", "0", "1", "10000000"]
    ] == [
        True,
        False,
        True,
        True,
    ]
    for template in TEMPLATES.values():
        for prop in template["properties"]:
            if not prop.get("constraints", {}).get("notEmpty") and "pattern" in prop.get(
                "constraints", {}
            ):
                assert re.search(prop["constraints"]["pattern"]["value"], ""), prop["id"]


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (1, 20),
        (900, 43200),
        (1, 604800),
        (1, 100000),
        (0, 9),
        (7, 7),
        (1, None),
        (25, None),
        (0, None),
    ],
)
def test_an_integer_range_becomes_a_pattern_of_exactly_its_integers(low, high):
    pattern = re.compile(integer_pattern(low, high))
    top = high if high is not None else 10**6
    for number in {
        *range(0, min(top, 2000) + 50),
        *range(max(low - 50, 0), low + 50),
        top,
        top + 1,
        top * 10,
    }:
        expected = low <= number and (high is None or number <= high)
        assert (pattern.fullmatch(str(number)) is not None) == expected, number
    assert pattern.fullmatch(f"0{low}") is None


def test_integers_without_a_usable_lower_bound_are_any_integer():
    assert integer_pattern(None, 10) == integer_pattern(-5, 10) == r"^-?(?:0|[1-9][0-9]*)$"
    with pytest.raises(ValueError):
        integer_range_pattern(5, 4)


def test_the_bundle_is_not_modified():
    before = copy.deepcopy(BUNDLE)
    element_templates(BUNDLE)
    assert before == BUNDLE
