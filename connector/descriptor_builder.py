"""Builds descriptors from code: an activity class and its marshmallow schema are their single
source of truth (the registry calls this; `s3_connector.sdk.export` writes the files)."""

from __future__ import annotations

import json
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields, missing

from .activity import Activity, Shape
from .fields import InputRules, is_secret
from .json_schema import json_type, value_rules

FORMAT = "s3-connector/descriptor/v2"
DESCRIPTION_FORMAT = "commonmark"
CONNECTOR_ICON = (
    "data:image/svg+xml;base64,"
    "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAzMiAzMiI+PHBhdGgg"
    "ZmlsbD0iI2M4NTEzMyIgZD0iTTQgNmg0bDMgMjBoMTBsMy0yMGg0bC00IDI0SDhMNCA2eiIvPjxlbGxpcHNlIGN4"
    "PSIxNiIgY3k9IjYiIHJ4PSIxMiIgcnk9IjQiIGZpbGw9IiNlMDVhMzkiLz48L3N2Zz4="
)
"""A bucket, as an SVG: the icon of the connection and of every activity without its own."""
DOCUMENTATION = "docs/activities.md"
EVERY_CONNECTION = InputRules(allow_control_characters=True, custom_endpoint=True)
"""Descriptors state what holds whatever the connection; a JSON Schema for one connection
(`json_schema.settings_schema`) adds what its connection rules add."""

GROUPS = {
    "authentication": "Authentication",
    "endpoint": "Endpoint",
    "network": "Network and retries",
    "location": "Bucket and region",
    "object": "Object",
    "listing": "Listing",
    "encryption": "Encryption",
    "options": "Options",
}

_CONSTRAINTS = ("minimum", "maximum", "minLength", "maxLength", "pattern", "minItems", "maxItems")
_VALUE_KEYWORDS = ("propertyNames", "additionalProperties")
_plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)
"""Converts fields and schemas to JSON Schema; nested schemas come out inline, never $ref."""
APISpec("s3-connector", "1", "3.1.0", plugins=[_plugin])


def describe_field(name: str, field: fields.Field) -> dict[str, Any]:
    """One field of a descriptor, from a marshmallow field, its validators and its metadata."""
    meta = field.metadata
    described = value_rules(field, EVERY_CONNECTION)
    dynamic = bool(meta.get("dynamic"))
    entry: dict[str, Any] = {
        "name": name,
        "type": json_type(field),
        "label": meta["label"],
        "description": meta["description"],
        "required": bool(field.required) and not dynamic,
        "secret": is_secret(field),
        "dynamic": dynamic,
        "group": meta["group"],
    }
    if field.required and dynamic:
        entry["required_unless_document"] = True
    if field.load_default is not missing and not callable(field.load_default):
        entry["default"] = field.load_default
    if "enum" in described.schema:
        entry["enum"] = described.schema["enum"]
        labels = meta.get("enum_labels", {})
        entry["enum_labels"] = {
            str(value): labels.get(value, str(value)) for value in entry["enum"]
        }
    constraints = {key: described.schema[key] for key in _CONSTRAINTS if key in described.schema}
    if constraints:
        entry["constraints"] = constraints
    if described.messages:
        entry["messages"] = described.messages
    value_schema = {
        key: described.schema[key] for key in _VALUE_KEYWORDS if key in described.schema
    }
    if value_schema:
        entry["value_schema"] = value_schema
    if described.runtime:
        entry["runtime_rules"] = list(described.runtime)
    for key in (
        "placeholder",
        "examples",
        "choices_from",
        "deprecated",
        "condition",
        "required_when",
    ):
        if key in meta:
            entry[key] = meta[key]
    return entry


def describe_fields(schema: type[Schema]) -> tuple[list[dict], list[dict]]:
    """The fields of a schema, in declaration order, and the groups they use."""
    entries = [describe_field(name, field) for name, field in schema().fields.items()]
    used = []
    for entry in entries:
        if entry["group"] not in used:
            used.append(entry["group"])
    return entries, [{"id": group, "label": GROUPS[group]} for group in used]


def response_schema(schema: type[Schema]) -> dict[str, Any]:
    """The JSON Schema of a response schema's documents: a property per field (nested
    schemas inline), `required` from the fields, `additionalProperties: false` when the schema
    refuses unknown properties, and `oneOf` over its shapes when it declares any."""
    shapes: tuple[Shape, ...] = getattr(schema, "shapes", ())
    converted = _plugin.converter.schema2jsonschema(schema(partial=True) if shapes else schema())
    if shapes:
        converted["oneOf"] = [_shape(shape, converted["properties"]) for shape in shapes]
    return converted


def _shape(shape: Shape, properties: dict[str, Any]) -> dict[str, Any]:
    unknown = [name for name in (*shape.required, *shape.absent) if name not in properties]
    if unknown:
        raise ValueError(f"shape {shape.title!r} names unknown properties: {', '.join(unknown)}")
    entry: dict[str, Any] = {"title": shape.title, "required": list(shape.required)}
    if len(shape.absent) == 1:
        entry["not"] = {"required": list(shape.absent)}
    elif shape.absent:
        entry["not"] = {"anyOf": [{"required": [name]} for name in shape.absent]}
    return entry


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def connection_descriptor() -> dict[str, Any]:
    from .connection import Connection, ConnectionSchema

    entries, groups = describe_fields(ConnectionSchema)
    return {
        "format": FORMAT,
        "kind": "connection",
        "id": "connection",
        "version": Connection.version,
        "name": "Amazon S3 connection",
        "description": (ConnectionSchema.__doc__ or "").strip(),
        "description_format": DESCRIPTION_FORMAT,
        "deprecated": False,
        "icon": CONNECTOR_ICON,
        "documentation_url": "docs/connection.md",
        "class": class_path(Connection),
        "capabilities": {"test_connection": True},
        "groups": groups,
        "fields": entries,
        "rules": [rule.describe() for rule in ConnectionSchema.rules],
        "runtime_rules": list(ConnectionSchema.runtime_rules),
    }


def activity_descriptor(cls: type[Activity]) -> dict[str, Any]:
    if isinstance(getattr(cls, "response", None), dict):
        raise TypeError(
            f"{cls.__name__} declares `response` as a JSON Schema dict; declare `Response`, "
            "a marshmallow schema, instead"
        )
    entries, groups = describe_fields(cls.Settings)
    return {
        "format": FORMAT,
        "kind": "activity",
        "id": cls.id,
        "version": cls.version,
        "name": cls.name,
        "description": cls.description,
        "description_format": DESCRIPTION_FORMAT,
        "deprecated": cls.deprecated,
        "icon": cls.icon or CONNECTOR_ICON,
        "documentation_url": f"{DOCUMENTATION}#{documentation_anchor(cls)}",
        "role": cls.role,
        "class": class_path(cls),
        "groups": groups,
        "fields": entries,
        "rules": [rule.describe() for rule in getattr(cls.Settings, "rules", ())],
        "runtime_rules": list(getattr(cls.Settings, "runtime_rules", ())),
        "document": {"reads": list(cls.reads), "writes": list(cls.writes), "content": cls.content},
        "response": response_schema(cls.Response),
        "permissions": [dict(permission) for permission in cls.permissions],
    }


def documentation_anchor(cls: type[Activity]) -> str:
    """The anchor of the activity's section in docs/activities.md ("## Name (`id`)")."""
    words = f"{cls.name} {cls.id}".lower()
    return "".join(char for char in words.replace(" ", "-") if char.isalnum() or char in "-_")


def render(descriptor: dict[str, Any]) -> str:
    """A descriptor as the exported JSON file holds it."""
    return json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
