import copy
import json

import pytest
from marshmallow import fields

from s3_connector.connector.catalogue import Catalogue
from s3_connector.connector.connection import ConnectionSchema
from s3_connector.connector.descriptor_checks import DescriptorError, check_descriptor
from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.registry import Registry, shipped_activity_classes
from s3_connector.sdk.export import DESCRIPTORS_DIR, exported_paths, stale_files, write


def test_committed_descriptors_are_exactly_what_the_classes_declare():
    assert stale_files(Registry.shipped()) == [], "run `make descriptors`"


def test_a_stale_or_missing_export_is_found(tmp_path):
    write(Registry.shipped(), tmp_path)
    assert stale_files(Registry.shipped(), tmp_path) == []
    broken = json.loads((tmp_path / "put_object.json").read_text())
    broken["fields"][0]["label"] = "Renamed"
    (tmp_path / "put_object.json").write_text(json.dumps(broken))
    (tmp_path / "get_object.json").unlink()
    (tmp_path / "gone.json").write_text("{}")
    assert stale_files(Registry.shipped(), tmp_path) == [
        "get_object.json is missing",
        "gone.json has no activity",
        "put_object.json differs from what the classes declare",
    ]


def test_every_shipped_descriptor_validates_and_names_its_class():
    registry = Registry.shipped()
    assert registry.connection["kind"] == "connection"
    check_descriptor(registry.connection, "connection")
    assert registry.ids == sorted(cls.id for cls in shipped_activity_classes())
    assert {"put_object", "get_object", "list_objects"} <= set(registry.ids)
    for activity_id in registry.ids:
        check_descriptor(registry.descriptor(activity_id), activity_id)
        assert registry.activity_class(activity_id).id == activity_id


def test_descriptors_are_built_once_and_lazily():
    registry = Registry(shipped_activity_classes())
    assert registry._descriptors == {}
    first = registry.descriptor("put_object")
    assert registry.descriptor("put_object") is first
    assert list(registry._descriptors) == ["put_object"]


def test_running_reads_no_descriptor_file(moto_connection, moto_bucket, monkeypatch):
    """A registry made of classes (a host's own, the test kit's) builds its descriptors from
    them and reads no exported file."""
    from s3_connector.connector.documents import Document
    from s3_connector.connector.harness import Harness

    opened = []
    real_open = open

    def watching_open(file, *args, **kwargs):
        if str(DESCRIPTORS_DIR) in str(file):
            opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", watching_open)
    harness = Harness(moto_connection, Registry(shipped_activity_classes()))
    [stored] = harness.run("put_object", {"bucket": moto_bucket, "key": "k"}, [Document({}, b"x")])
    assert stored.properties["size"] == 1
    assert [f for f in opened if not f.endswith("descriptor.schema.json")] == []


def test_the_installed_registry_serves_what_the_classes_declare():
    """`Registry.installed()` reads the shipped descriptors from their files (checked above to
    be the export of the classes) and imports a class when asked for: the same ids,
    descriptors and classes as the registry built from the classes."""
    installed, shipped = Registry(catalogue=Catalogue.shipped()), Registry.shipped()
    assert installed.ids == shipped.ids
    assert set(installed.origins.values()) == {"s3-connector"}
    assert installed.descriptors() == shipped.descriptors()
    for activity_id in installed.ids:
        assert installed.activity_class(activity_id) is shipped.activity_class(activity_id)


def _catalogue(tmp_path, without=(), change=None):
    """A copy of the shipped export, without some files, one of them changed."""
    for path in exported_paths():
        if path.stem not in without:
            descriptor = json.loads(path.read_text())
            if change and path.stem == change[0]:
                change[1](descriptor)
            (tmp_path / path.name).write_text(json.dumps(descriptor))
    return Catalogue(str(tmp_path))


def test_an_activity_not_exported_yet_is_found_by_its_module_and_runs(
    tmp_path, moto_connection, moto_bucket
):
    """A scaffolded activity before `make descriptors`: not listed, but found by its module's
    name (activities/ID.py) when asked for, and described from its class."""
    from s3_connector.connector.documents import Document
    from s3_connector.connector.harness import Harness

    registry = Registry(catalogue=_catalogue(tmp_path, without={"put_object"}))
    assert "put_object" not in registry.ids
    [stored] = Harness(moto_connection, registry).run(
        "put_object", {"bucket": moto_bucket, "key": "k"}, [Document({}, b"x")]
    )
    assert stored.properties["size"] == 1
    assert registry.descriptor("put_object") == Registry.shipped().descriptor("put_object")
    assert registry.origins["put_object"] == "s3-connector"


@pytest.mark.parametrize(
    "path",
    [
        "s3_connector.activities.put_object:PutObject",
        "s3_connector.activities.gone:GetObject",
        "s3_connector.activities.get_object:Gone",
        "s3_connector.connector.activity:Activity",
        "",
    ],
)
def test_an_export_naming_another_class_is_refused(tmp_path, path):
    registry = Registry(
        catalogue=_catalogue(tmp_path, change=("get_object", lambda d: d.update({"class": path})))
    )
    assert registry.descriptor("get_object")["class"] == path
    with pytest.raises(DescriptorError, match=r"not the class of get_object.*make descriptors"):
        registry.activity_class("get_object")


def test_an_unreadable_export_is_refused_naming_the_file(tmp_path):
    registry = Registry(catalogue=_catalogue(tmp_path))
    (tmp_path / "get_object.json").write_text("{")
    with pytest.raises(DescriptorError, match=r"get_object\.json cannot be used.*make descriptors"):
        registry.descriptor("get_object")
    with pytest.raises(InvalidInput, match="unknown activity 'nope'"):
        registry.activity_class("nope")


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


def test_every_activity_declares_its_response_as_a_marshmallow_schema():
    """No hand-written `response` JSON Schema dict is left: each activity declares `Response`,
    and the builder refuses a class that still declares a `response` dict."""
    from marshmallow import Schema

    from s3_connector.connector.descriptor_builder import activity_descriptor

    for cls in shipped_activity_classes():
        assert not hasattr(cls, "response"), f"{cls.__name__} still declares `response`"
        assert issubclass(cls.Response, Schema), cls.__name__

    class Legacy(shipped_activity_classes()[0]):
        response = {"type": "object", "properties": {}}

    with pytest.raises(TypeError, match="declare `Response`"):
        activity_descriptor(Legacy)


def test_the_response_schema_is_generated_from_the_response_fields():
    response = Registry.shipped().descriptor("get_object")["response"]
    properties = response["properties"]
    assert properties["version_id"]["type"] == ["string", "null"]
    assert properties["metadata"] == {"type": "object", "additionalProperties": {"type": "string"}}
    assert properties["content_format"]["enum"] == ["json", "text", "base64"]
    assert "verified" in response["required"] and "version_id" not in response["required"]


def _schemas():
    yield "connection", ConnectionSchema
    for cls in shipped_activity_classes():
        yield cls.id, cls.Settings


def satisfying(condition):
    """Settings under which `condition` holds."""
    if condition is None:
        return {}
    if "allMatch" in condition:
        return {k: v for part in condition["allMatch"] for k, v in satisfying(part).items()}
    if "anyMatch" in condition:
        return satisfying(condition["anyMatch"][0])
    if "equals" in condition:
        return {condition["field"]: condition["equals"]}
    return {condition["field"]: condition["oneOf"][0]}


@pytest.mark.parametrize(("descriptor_id", "schema"), list(_schemas()))
def test_descriptor_rules_agree_with_the_schema_at_their_edges(descriptor_id, schema):
    """A value the descriptor allows loads; a value just outside it is refused."""
    from marshmallow import ValidationError

    descriptor = _descriptor(f"{descriptor_id}.json")

    def accepts(name, value):
        condition = next(f for f in descriptor["fields"] if f["name"] == name).get("condition")
        try:
            schema().load({**satisfying(condition), name: value}, partial=True)
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
