"""Generates descriptors from code: the marshmallow schemas are their single source of truth.

`python -m s3_connector.connector.descriptor_builder [DIR]` rewrites the shipped descriptors;
a test fails whenever a committed descriptor differs from what this module generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields, validate

from .activity import Activity

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
_plugin = MarshmallowPlugin()
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
        "secret": bool(meta.get("secret")),
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
    if "condition" in meta:
        entry["condition"] = meta["condition"]
    return entry


def describe_fields(schema: type[Schema]) -> tuple[list[dict], list[dict]]:
    """The fields of a schema, in declaration order, and the groups they use."""
    entries = [describe_field(name, field) for name, field in schema().fields.items()]
    used = []
    for entry in entries:
        if entry["group"] not in used:
            used.append(entry["group"])
    return entries, [{"id": group, "label": GROUPS[group]} for group in used]


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
        "response": cls.response,
        "permissions": [dict(permission) for permission in cls.permissions],
    }


def render(descriptor: dict[str, Any]) -> str:
    return json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"


def shipped_descriptors() -> dict[str, dict[str, Any]]:
    """File name to descriptor, for the connection and every shipped activity."""
    from .catalog import shipped_activity_classes

    generated = {"connection.json": connection_descriptor()}
    for cls in shipped_activity_classes():
        generated[f"{cls.id}.json"] = activity_descriptor(cls)
    return generated


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from .catalog import DESCRIPTORS_DIR

    target = Path(args[0]) if args else DESCRIPTORS_DIR
    for file_name, descriptor in shipped_descriptors().items():
        (target / file_name).write_text(render(descriptor), encoding="utf-8")
        print(f"wrote {target / file_name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
