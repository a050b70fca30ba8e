"""Every validation error of a request (protocol version 2's `error.errors`), from the
marshmallow error behind an `InvalidInput`, in the order marshmallow reports them."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from s3_connector.connector.errors import ConnectorError


def _flatten(messages: Any, path: str, into: list[dict[str, str]]) -> None:
    if isinstance(messages, dict):
        for name, inner in messages.items():
            child = path if name == "_schema" else (f"{path}.{name}" if path else str(name))
            _flatten(inner, child, into)
    elif isinstance(messages, list | tuple):
        for inner in messages:
            _flatten(inner, path, into)
    else:
        into.append({"field": path or "settings", "message": _tidy(str(messages))})


def _tidy(message: str) -> str:
    message = " ".join(message.split()).rstrip(".")
    if message == "Unknown field":
        return "unknown field"
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    return message


def all_errors(error: ConnectorError) -> list[dict[str, Any]]:
    """`[{field, message}, ...]`: the first is always `error`'s own field and message; the
    others come from the marshmallow `ValidationError` the error was raised from, if any."""
    first = {"field": error.field, "message": error.message}
    source = error.__cause__ or error.__context__
    if not isinstance(source, ValidationError):
        return [first]
    found: list[dict[str, str]] = []
    _flatten(source.messages, "", found)
    rest = [item for item in found if item["field"] != first["field"]]
    return [first, *rest]
