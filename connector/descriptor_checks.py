"""Checks of a descriptor: the meta-schema (`descriptors/descriptor.schema.json`) and the
rules a JSON Schema cannot state (groups, conditions and permissions name known fields)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from .catalogue import META_SCHEMA_FILE, read_text
from .conditions import named_fields
from .errors import InvalidInput

__all__ = ["META_SCHEMA_FILE", "DescriptorError", "check_descriptor", "meta_schema"]


class DescriptorError(InvalidInput):
    """A descriptor breaks the meta-schema, or an activity cannot be registered."""


@cache
def meta_schema() -> dict[str, Any]:
    return json.loads(read_text(META_SCHEMA_FILE))


def check_descriptor(descriptor: Any, source: str) -> dict[str, Any]:
    """Validate one descriptor against the meta-schema and the cross-field rules; return it."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    validator = Draft202012Validator(
        meta_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    error = best_match(validator.iter_errors(descriptor))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        raise DescriptorError(f"{source}: {where + ': ' if where else ''}{error.message}")
    names = [field["name"] for field in descriptor["fields"]]
    groups = {group["id"] for group in descriptor["groups"]}
    for field in descriptor["fields"]:
        if field["group"] not in groups:
            raise DescriptorError(
                f"{source}: field {field['name']}: unknown group {field['group']}"
            )
        for rule in ("condition", "required_when"):
            for named in named_fields(field[rule]) if rule in field else []:
                if named not in names:
                    raise DescriptorError(
                        f"{source}: field {field['name']}: {rule} names unknown field {named}"
                    )
    for permission in descriptor.get("permissions", []):
        condition = permission.get("when", {})
        named = condition if isinstance(condition, str) else condition.get("field")
        if named and named not in names:
            raise DescriptorError(
                f"{source}: permission {permission['action']}: 'when' names unknown field {named}"
            )
    if len(set(names)) != len(names):
        raise DescriptorError(f"{source}: field names repeat")
    return descriptor
