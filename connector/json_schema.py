"""Standalone JSON Schemas (draft 2020-12) of the connection's and each activity's settings,
generated from the same marshmallow schemas that load them, so that a stock form library
refuses what the connector refuses.

Conditions become `if`/`then`, the schema's `Rule`s too; each keyword's readable message is
under `errorMessage` (ajv-errors' convention; a pattern's also under `options.patternmessage`,
which json-editor shows), a secret is `writeOnly`, a labelled choice is a `oneOf` of
`const`/`title`. What a form cannot check (bytes of UTF-8, a file's content, a key
that two fields make) is stated under `x-runtimeRules`, on the property or the schema.
Rules that depend on the connection (control characters in keys; any region name with a
custom endpoint) follow `InputRules`: the strict defaults unless told otherwise.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, missing, validate

from .conditions import Condition, Rule
from .fields import STRICT_INPUT_RULES, InputRules, ValueRules, is_secret
from .settings import as_rule

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_TYPES = (
    (fields.Boolean, "boolean"),
    (fields.Integer, "integer"),
    (fields.Number, "number"),
    (fields.Dict, "object"),
    (fields.List, "array"),
    (fields.String, "string"),
)
_EMPTY = ["", {}, []]
_ANY_JSON = (
    ("Text", "string"),
    ("JSON object", "object"),
    ("JSON array", "array"),
    ("Number", "number"),
    ("Boolean", "boolean"),
    ("Null", "null"),
)
"""Any JSON value (`fields.Raw`), one type at a time, so that a form can offer each."""


def settings_schema(
    schema_class: type[Schema],
    *,
    title: str,
    description: str,
    schema_id: str | None = None,
    rules: InputRules = STRICT_INPUT_RULES,
) -> dict[str, Any]:
    """The JSON Schema of settings that `schema_class` loads as a designer saves them: a
    dynamic field is never required (a document may supply it, as the harness allows)."""
    loaded = schema_class()
    defaults = {
        name: field.load_default
        for name, field in loaded.fields.items()
        if field.load_default is not missing
    }
    properties = {name: property_schema(field, rules) for name, field in loaded.fields.items()}
    required = [
        name
        for name, field in loaded.fields.items()
        if field.required and not field.metadata.get("dynamic")
    ]
    conditional = []
    for name, field in loaded.fields.items():
        conditional += _field_conditions(name, field, defaults)
    conditional += [_rule_schema(rule, defaults) for rule in getattr(schema_class, "rules", ())]
    schema: dict[str, Any] = {"$schema": DRAFT}
    if schema_id:
        schema["$id"] = schema_id
    schema.update(
        {"title": title, "description": description, "type": "object", "properties": properties}
    )
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    if conditional:
        schema["allOf"] = conditional
    runtime = list(getattr(schema_class, "runtime_rules", ()))
    if runtime:
        schema["x-runtimeRules"] = runtime
    return schema


def property_schema(field: fields.Field, rules: InputRules = STRICT_INPUT_RULES) -> dict[str, Any]:
    """The JSON Schema of one field's value: its type, its validators' keywords and messages,
    and its designer metadata (title, description, default, labels, examples)."""
    meta = field.metadata
    schema: dict[str, Any] = {"title": meta["label"], "description": meta["description"]}
    kind = json_type(field)
    if kind == "json":
        schema["anyOf"] = [
            {"title": title, "type": name}
            for title, name in _ANY_JSON
            if name != "null" or field.allow_none
        ]
    else:
        schema["type"] = [kind, "null"] if field.allow_none else kind
    if field.load_default is not missing and not callable(field.load_default):
        schema["default"] = field.load_default
    described = value_rules(field, rules)
    labels = meta.get("enum_labels", {})
    if "enum" in described.schema:
        values = described.schema.pop("enum")
        schema["oneOf"] = [
            {"const": value, "title": labels.get(value, str(value))} for value in values
        ]
    schema.update(described.schema)
    if is_secret(field):
        schema["writeOnly"] = True
        schema["format"] = "password"
    if "examples" in meta:
        schema["examples"] = meta["examples"]
    if meta.get("deprecated"):
        schema["deprecated"] = True
    if described.messages:
        schema["errorMessage"] = described.messages
    if "pattern" in described.messages:
        schema["options"] = {"patternmessage": described.messages["pattern"]}
    extensions = {
        "x-group": meta["group"],
        "x-dynamic": bool(meta.get("dynamic")),
        "x-placeholder": meta.get("placeholder"),
        "x-choicesFrom": meta.get("choices_from"),
        "x-runtimeRules": list(described.runtime) or None,
    }
    schema.update({key: value for key, value in extensions.items() if value is not None})
    return schema


def json_type(field: fields.Field) -> str:
    """The JSON type of a field's value; `json` for any JSON value (`fields.Raw`)."""
    for field_type, name in _TYPES:
        if isinstance(field, field_type):
            return name
    if type(field) is fields.Raw:
        return "json"
    raise ValueError(f"{type(field).__name__}: no JSON type is known for this field")


def value_rules(field: fields.Field, rules: InputRules = STRICT_INPUT_RULES) -> ValueRules:
    """Everything a field's validators check, merged: several patterns become one (each a
    lookahead), and every keyword keeps a readable message."""
    parts = [_validator_rules(validator, rules) for validator in field.validators]
    if isinstance(field, fields.Dict) and field.value_field is not None:
        value_schema = {"type": json_type(field.value_field)}
        parts.insert(0, ValueRules({"additionalProperties": value_schema}))
    schema: dict[str, Any] = {}
    messages: dict[str, str] = {}
    runtime: list[str] = []
    patterns: list[str] = []
    for part in parts:
        for key, value in part.schema.items():
            if key == "pattern":
                patterns.append(value)
            elif isinstance(schema.get(key), dict) and isinstance(value, dict):
                schema[key] = {**schema[key], **value}
            elif key in schema and schema[key] != value:
                raise ValueError(f"{key} is stated twice, as {schema[key]!r} and {value!r}")
            else:
                schema[key] = value
        for key, message in part.messages.items():
            messages[key] = f"{messages[key]}; {message}" if key in messages else message
        runtime += part.runtime
    if patterns:
        schema["pattern"] = join_patterns(patterns)
    return ValueRules(schema, messages, tuple(runtime))


def join_patterns(patterns: list[str]) -> str:
    """One ECMA-262 pattern that fully matches what every one of `patterns` fully matches."""
    bodies = []
    for pattern in patterns:
        if not (pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")):
            raise ValueError(f"pattern {pattern!r} must be anchored: ^...$")
        bodies.append(pattern[1:-1])
    if len(bodies) == 1:
        return patterns[0]
    return "^" + "".join(f"(?=(?:{body})$)" for body in bodies[:-1]) + f"(?:{bodies[-1]})$"


def _validator_rules(validator: Any, rules: InputRules) -> ValueRules:
    described = getattr(validator, "value_rules", None)
    if described is not None:
        return described(rules)
    if isinstance(validator, validate.Length):
        schema = {}
        if validator.min is not None:
            schema["minLength"] = validator.min
        if validator.max is not None:
            schema["maxLength"] = validator.max
        if validator.equal is not None:
            schema = {"minLength": validator.equal, "maxLength": validator.equal}
        message = as_rule(validator.error or _length_message(validator))
        return ValueRules(schema, dict.fromkeys(schema, message))
    if isinstance(validator, validate.Range):
        if not (validator.min_inclusive and validator.max_inclusive):
            raise ValueError("exclusive ranges cannot be described; use inclusive bounds")
        schema = {}
        if validator.min is not None:
            schema["minimum"] = validator.min
        if validator.max is not None:
            schema["maximum"] = validator.max
        message = validator.error or _range_message(validator)
        return ValueRules(schema, dict.fromkeys(schema, as_rule(message)))
    if isinstance(validator, validate.OneOf):
        choices = ", ".join(str(choice) for choice in validator.choices)
        return ValueRules({"enum": list(validator.choices)}, {"enum": f"must be one of: {choices}"})
    raise ValueError(
        f"{getattr(validator, '__name__', type(validator).__name__)}: a validator a designer "
        "cannot see; give it a value_rules(rules) method that says what it checks"
    )


def _length_message(validator: validate.Length) -> str:
    if validator.max is None:
        return f"must be at least {validator.min} characters"
    if not validator.min:
        return f"must be at most {validator.max} characters"
    return f"must be {validator.min} to {validator.max} characters"


def _range_message(validator: validate.Range) -> str:
    if validator.max is None:
        return f"must be at least {validator.min}"
    if validator.min is None:
        return f"must be at most {validator.max}"
    return f"must be from {validator.min} to {validator.max}"


def _field_conditions(
    name: str, field: fields.Field, defaults: dict[str, Any]
) -> list[dict[str, Any]]:
    meta = field.metadata
    schemas = []
    required = meta.get("required_when")
    if required:
        then: dict[str, Any] = {"required": [name]}
        if json_type(field) == "string":
            then["properties"] = {name: {"minLength": 1}}
        schemas.append({"if": condition_schema(required, defaults), "then": then})
    condition = meta.get("condition")
    if condition:
        schemas.append(
            {"if": condition_schema(condition, defaults), "else": {"not": {"required": [name]}}}
        )
    return schemas


def _rule_schema(rule: Rule, defaults: dict[str, Any]) -> dict[str, Any]:
    if rule.absent:
        then: dict[str, Any] = {"not": {"required": [rule.field]}}
    else:
        constraint: dict[str, Any] = {}
        if rule.pattern is not None:
            constraint["pattern"] = rule.pattern
        if rule.one_of is not None:
            constraint["enum"] = list(rule.one_of)
        constraint["errorMessage"] = dict.fromkeys(constraint, rule.message)
        if rule.pattern is not None:
            constraint["options"] = {"patternmessage": rule.message}
        then = {"properties": {rule.field: constraint}}
    return {"if": condition_schema(rule.when, defaults), "then": then}


def condition_schema(condition: Condition, defaults: dict[str, Any]) -> dict[str, Any]:
    """A schema that settings match exactly when `condition` holds for them, defaults applied
    (see `conditions.holds`): a field with a default counts as that value when absent."""
    if "allMatch" in condition:
        return {"allOf": [condition_schema(part, defaults) for part in condition["allMatch"]]}
    if "anyMatch" in condition:
        return {"anyOf": [condition_schema(part, defaults) for part in condition["anyMatch"]]}
    name = condition["field"]
    default = defaults.get(name)
    if "isSet" in condition:
        given: dict[str, Any] = {"properties": {name: {"not": {"enum": _EMPTY}}}}
        if default is None or default in _EMPTY:
            given["required"] = [name]
        return given if condition["isSet"] else {"not": given}
    values = [condition["equals"]] if "equals" in condition else list(condition["oneOf"])
    value_schema = {"const": values[0]} if len(values) == 1 else {"enum": values}
    schema: dict[str, Any] = {"properties": {name: value_schema}}
    if name not in defaults or defaults[name] not in values:
        schema["required"] = [name]
    return schema
