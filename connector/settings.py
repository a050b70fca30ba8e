"""Loading settings through a marshmallow schema, with one-line errors that name the field."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, validates_schema

from .conditions import Rule, describe_condition, holds
from .errors import InvalidInput


class SettingsSchema(Schema):
    """Settings whose fields' conditions are enforced: a field is accepted only when its
    `condition` holds, and must be set when its `required_when` holds (see `describe`).
    `rules` declares the rules between fields (see `Rule`); `runtime_rules`, in words, what
    only the connector can check of the settings as a whole (a form cannot)."""

    rules: tuple[Rule, ...] = ()
    runtime_rules: tuple[str, ...] = ()

    @validates_schema(pass_original=True)
    def _check_conditions(self, data: dict, original: Any, **_: Any) -> None:
        given = original if isinstance(original, Mapping) else {}
        for name, field in self.fields.items():
            meta = field.metadata
            required = meta.get("required_when")
            if required and holds(required, data) and data.get(name) in (None, ""):
                raise ValidationError(f"required when {describe_condition(required)}", name)
            condition = meta.get("condition")
            if condition and given.get(name) is not None and not holds(condition, data):
                raise ValidationError(f"only when {describe_condition(condition)}", name)
        for rule in self.rules:
            if rule.broken(data):
                raise ValidationError(rule.message, rule.field)


def _first_error(messages: Any, path: str = "") -> tuple[str, str]:
    if isinstance(messages, Mapping):
        name, inner = next(iter(messages.items()))
        if name == "_schema":
            return _first_error(inner, path)
        child = f"{path}.{name}" if path else str(name)
        return _first_error(inner, child)
    if isinstance(messages, list | tuple) and messages:
        return _first_error(messages[0], path)
    return path or "settings", str(messages)


def _one_line(text: str) -> str:
    """`text` with every unprintable character (a line break, a control character, a lone
    surrogate) escaped, so that an error naming a value or an unknown field stays one line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def validation_error(exc: ValidationError, schema: Schema) -> InvalidInput:
    """Turn a marshmallow error into an InvalidInput naming the first failing field, on one
    line."""
    field, message = _first_error(exc.messages)
    field, message = _one_line(field), _one_line(message)
    if message == "Unknown field.":
        known = ", ".join(sorted(schema.fields))
        message = f"unknown field (known fields: {known})"
    return InvalidInput(as_rule(message), field=field)


def as_rule(message: str) -> str:
    """A validator's message as the connector words it after a field's name: no final full
    stop, a lowercase first word ("Length must be..." becomes "length must be...")."""
    message = message.rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    return message


_schemas = threading.local()


def _schema(schema_class: type[Schema], partial: tuple[str, ...]) -> Schema:
    """One instance per schema class and partial, per thread: making a schema copies every
    field, which costs more than loading a document's settings with it."""
    cache = getattr(_schemas, "cache", None)
    if cache is None:
        cache = _schemas.cache = {}
    key = (schema_class, partial)
    schema = cache.get(key)
    if schema is None:
        schema = cache[key] = schema_class(unknown=RAISE, partial=partial or False)
    return schema


def load(
    schema_class: type[Schema], data: Mapping[str, Any], *, partial: Iterable[str] = ()
) -> dict[str, Any]:
    """Validate `data` with `schema_class`; raise InvalidInput naming the field on failure."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"must be a JSON object, not {type(data).__name__}", field="settings")
    schema = _schema(schema_class, tuple(partial))
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise validation_error(exc, schema) from None
