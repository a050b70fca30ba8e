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
    for field in descriptor["fields"]:
        _check_designer_metadata(field, source)
    for rule in descriptor["rules"]:
        for named in [rule["field"], *named_fields(rule["when"])]:
            if named not in names:
                raise DescriptorError(f"{source}: rule on {rule['field']}: unknown field {named}")
        if "pattern" in rule:
            check_ecma_pattern(rule["pattern"], f"{source}: rule on {rule['field']}")
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


_MESSAGED = ("minimum", "maximum", "minLength", "maxLength", "pattern")


def _check_designer_metadata(field: dict[str, Any], source: str) -> None:
    """Every enum value has a label, every constraint a readable message, and every pattern
    is one a browser can run (ECMA-262)."""
    where = f"{source}: field {field['name']}"
    if "enum" in field:
        labels = field.get("enum_labels", {})
        missing = [str(value) for value in field["enum"] if str(value) not in labels]
        if missing or len(labels) != len(field["enum"]):
            raise DescriptorError(
                f"{where}: enum_labels must label each value exactly (unlabelled: "
                f"{', '.join(missing) or 'none'})"
            )
    constraints = field.get("constraints", {})
    unexplained = [
        key for key in _MESSAGED if key in constraints and key not in field.get("messages", {})
    ]
    if unexplained:
        raise DescriptorError(f"{where}: no readable message for {', '.join(unexplained)}")
    if "pattern" in constraints:
        check_ecma_pattern(constraints["pattern"], where)


def check_ecma_pattern(pattern: str, where: str) -> None:
    """Refuse a pattern that ECMA-262 (what browsers and ajv run, with the `u` flag) does
    not compile, such as Python's `(?P<name>...)`, `\\Z` or inline flags `(?i)`."""
    import regress

    try:
        regress.Regex(pattern, "u")
    except regress.RegressError as exc:
        raise DescriptorError(
            f"{where}: pattern is not ECMA-262 (as browsers run it): {exc}"
        ) from None
