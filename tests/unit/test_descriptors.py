import copy
import json

import pytest
from marshmallow import fields

from s3_connector.connector.catalog import (
    DESCRIPTORS_DIR,
    Catalog,
    DescriptorError,
    check_descriptor,
    read_descriptor,
    shipped_activity_classes,
    shipped_paths,
)
from s3_connector.connector.connection import ConnectionSchema
from s3_connector.connector.descriptor_builder import render, shipped_descriptors


def test_committed_descriptors_are_exactly_what_the_code_generates():
    generated = shipped_descriptors()
    committed = {path.name: path.read_text(encoding="utf-8") for path in shipped_paths()}
    assert set(committed) == set(generated)
    for name, descriptor in generated.items():
        assert committed[name] == render(descriptor), f"{name} is stale: run `make descriptors`"


def test_every_shipped_descriptor_validates_and_resolves_its_class():
    catalog = Catalog.shipped()
    assert catalog.connection["kind"] == "connection"
    assert set(catalog.activities) == {cls.id for cls in shipped_activity_classes()}
    assert {"put_object", "get_object", "list_objects"} <= set(catalog.activities)
    for activity_id in catalog.activities:
        assert catalog.activity_class(activity_id).id == activity_id


def _descriptor(name):
    return json.loads((DESCRIPTORS_DIR / name).read_text())


def test_a_missing_role_is_named():
    broken = _descriptor("put_object.json")
    del broken["role"]
    with pytest.raises(DescriptorError, match="'role' is a required property"):
        check_descriptor(broken, "put_object.json")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["fields"][0].pop("label"), "'label' is a required property"),
        (lambda d: d.__setitem__("role", "sink"), "'sink' is not one of"),
        (lambda d: d["fields"][0].__setitem__("group", "nowhere"), "unknown group nowhere"),
        (lambda d: d["fields"][0].__setitem__("colour", "red"), "colour"),
        (lambda d: d["fields"][0].__setitem__("secret", True), "'fields' differs"),
        (
            lambda d: d.__setitem__("class", "s3_connector.activities.nope:Nope"),
            "cannot be imported",
        ),
        (
            lambda d: d["fields"][0].__setitem__("condition", {"field": "ghost", "equals": 1}),
            "unknown field ghost",
        ),
    ],
)
def test_broken_descriptors_are_refused_with_the_problem_named(change, problem):
    broken = copy.deepcopy(_descriptor("put_object.json"))
    change(broken)
    with pytest.raises(DescriptorError, match=problem):
        check_descriptor(broken, "put_object.json")


def test_read_descriptor_names_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{")
    with pytest.raises(DescriptorError, match=r"broken\.json: invalid JSON"):
        read_descriptor(path)


def _field(descriptor, name):
    return next(f for f in descriptor["fields"] if f["name"] == name)


def test_connection_descriptor_marks_secrets_and_conditions():
    descriptor = _descriptor("connection.json")
    for name in ("secret_access_key", "session_token"):
        assert _field(descriptor, name)["secret"] is True
    assert _field(descriptor, "access_key_id")["secret"] is False
    assert _field(descriptor, "access_key_id")["condition"] == {
        "field": "auth",
        "oneOf": ["access_keys", "assume_role"],
    }
    assert _field(descriptor, "profile")["condition"] == {"field": "auth", "equals": "profile"}
    assert _field(descriptor, "auth")["enum"] == [
        "access_keys",
        "default_chain",
        "profile",
        "assume_role",
    ]
    assert _field(descriptor, "max_attempts")["constraints"] == {"minimum": 1, "maximum": 20}


def test_every_marshmallow_field_appears_once_with_matching_rules():
    descriptor = _descriptor("connection.json")
    schema = ConnectionSchema()
    assert [f["name"] for f in descriptor["fields"]] == list(schema.fields)
    for entry in descriptor["fields"]:
        field = schema.fields[entry["name"]]
        assert entry["required"] == field.required
        if isinstance(field, fields.Integer):
            assert entry["type"] == "integer"


def test_activity_descriptors_declare_role_permissions_and_document_properties():
    put = _descriptor("put_object.json")
    get = _descriptor("get_object.json")
    listing = _descriptor("list_objects.json")
    assert (put["role"], get["role"], listing["role"]) == ("target", "source", "target")
    assert put["permissions"] == [{"action": "s3:PutObject", "resource": "object"}]
    assert {"action": "s3:ListBucket", "resource": "bucket"} in listing["permissions"]
    assert _field(put, "bucket")["dynamic"] and _field(put, "key")["dynamic"]
    assert _field(put, "sse_c_key")["secret"] and not _field(put, "sse_c_key")["dynamic"]
    assert _field(listing, "max_results")["constraints"] == {"minimum": 1, "maximum": 100000}
    assert _field(listing, "max_results")["default"] == 100000
    assert get["document"]["content"] == "produces" and put["document"]["content"] == "consumes"
    assert "reference connector" in listing["description"]


def _schemas():
    yield "connection", ConnectionSchema
    for cls in shipped_activity_classes():
        yield cls.id, cls.Settings


@pytest.mark.parametrize(("descriptor_id", "schema"), list(_schemas()))
def test_descriptor_rules_agree_with_the_schema_at_their_edges(descriptor_id, schema):
    """A value the descriptor allows loads; a value just outside it is refused."""
    from marshmallow import ValidationError

    descriptor = _descriptor(f"{descriptor_id}.json")

    def accepts(name, value):
        try:
            schema().load({name: value}, partial=True)
        except ValidationError as exc:
            return name not in exc.messages
        return True

    for field in descriptor["fields"]:
        name, rules = field["name"], field.get("constraints", {})
        step = 1 if field["type"] == "integer" else 0.01
        if "minimum" in rules:
            assert accepts(name, rules["minimum"])
            assert not accepts(name, rules["minimum"] - step)
        if "maximum" in rules:
            assert accepts(name, rules["maximum"])
            assert not accepts(name, rules["maximum"] + step)
        for value in field.get("enum", []):
            assert accepts(name, value)
        if "enum" in field:
            assert not accepts(name, "not-" + str(field["enum"][0]))
        if "maxLength" in rules and "pattern" not in rules:
            assert not accepts(name, "a" * (rules["maxLength"] + 1))
