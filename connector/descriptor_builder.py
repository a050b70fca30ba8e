"""Builds descriptors from code: an activity class and its marshmallow schema are their single
source of truth (the registry calls this; `s3_connector.sdk.export` writes the files)."""

from __future__ import annotations

import json
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields, validate

from .activity import Activity, Shape
from .fields import is_secret

FORMAT = "s3-connector/descriptor/v1"

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
_plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)
"""Converts fields and schemas to JSON Schema; nested schemas come out inline, never $ref."""
APISpec("s3-connector", "1", "3.1.0", plugins=[_plugin])


def describe_field(name: str, field: fields.Field) -> dict[str, Any]:
    """One field of a descriptor, from a marshmallow field and its metadata."""
    for validator in field.validators:
        if isinstance(validator, validate.Range) and not (
            validator.min_inclusive and validator.max_inclusive
        ):
            raise ValueError(f"{name}: exclusive ranges cannot be described; use inclusive bounds")
    prop = _plugin.converter.field2property(field)
    meta = field.metadata
    entry: dict[str, Any] = {
        "name": name,
        "type": "json" if type(field) is fields.Raw else prop.get("type", "string"),
        "label": meta["label"],
        "description": meta["description"],
        "required": bool(field.required),
        "secret": is_secret(field),
        "dynamic": bool(meta.get("dynamic")),
        "group": meta["group"],
    }
    if "default" in prop:
        entry["default"] = prop["default"]
    if "enum" in prop:
        entry["enum"] = prop["enum"]
    constraints = {key: prop[key] for key in _CONSTRAINTS if key in prop}
    if constraints:
        entry["constraints"] = constraints
    for name in ("condition", "required_when"):
        if name in meta:
            entry[name] = meta[name]
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
        "name": "Amazon S3 connection",
        "description": (ConnectionSchema.__doc__ or "").strip(),
        "class": class_path(Connection),
        "groups": groups,
        "fields": entries,
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
        "name": cls.name,
        "description": cls.description,
        "role": cls.role,
        "class": class_path(cls),
        "groups": groups,
        "fields": entries,
        "document": {"reads": list(cls.reads), "writes": list(cls.writes), "content": cls.content},
        "response": response_schema(cls.Response),
        "permissions": [dict(permission) for permission in cls.permissions],
    }


def render(descriptor: dict[str, Any]) -> str:
    """A descriptor as the exported JSON file holds it."""
    return json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
