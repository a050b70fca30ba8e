"""Conditions on settings: one small grammar (Camunda's element templates use the same) that
says when a field is shown and when it is required; designers read it from the descriptors,
and `SettingsSchema` enforces it.

A condition is `{"field": F, "equals": V}`, `{"field": F, "oneOf": [V, ...]}`,
`{"field": F, "isSet": true}`, `{"allMatch": [conditions]}` or `{"anyMatch": [conditions]}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Condition = dict[str, Any]


def when(field: str, *values: Any) -> Condition:
    """`field` equals one of `values`."""
    if len(values) == 1:
        return {"field": field, "equals": values[0]}
    return {"field": field, "oneOf": list(values)}


def is_set(field: str) -> Condition:
    """`field` has a value."""
    return {"field": field, "isSet": True}


def any_match(*conditions: Condition) -> Condition:
    return {"anyMatch": list(conditions)}


def all_match(*conditions: Condition) -> Condition:
    return {"allMatch": list(conditions)}


def holds(condition: Condition, values: Mapping[str, Any]) -> bool:
    """Whether `condition` holds for the settings `values` (defaults applied)."""
    if "allMatch" in condition:
        return all(holds(part, values) for part in condition["allMatch"])
    if "anyMatch" in condition:
        return any(holds(part, values) for part in condition["anyMatch"])
    value = values.get(condition["field"])
    if "isSet" in condition:
        return _given(value) == condition["isSet"]
    if "equals" in condition:
        return value == condition["equals"]
    return value in condition["oneOf"]


def describe_condition(condition: Condition) -> str:
    """The condition in words: `auth is access_keys or assume_role`."""
    if "allMatch" in condition:
        return " and ".join(describe_condition(part) for part in condition["allMatch"])
    if "anyMatch" in condition:
        return " or ".join(describe_condition(part) for part in condition["anyMatch"])
    if "isSet" in condition:
        return f"{condition['field']} is {'set' if condition['isSet'] else 'not set'}"
    values = [condition["equals"]] if "equals" in condition else condition["oneOf"]
    return f"{condition['field']} is {' or '.join(map(_shown, values))}"


def _shown(value: Any) -> str:
    """A value as a condition names it: text as it is, anything else as JSON (false, 5)."""
    return value if isinstance(value, str) else json.dumps(value)


def named_fields(condition: Condition) -> list[str]:
    """The fields a condition reads."""
    parts = condition.get("allMatch") or condition.get("anyMatch")
    if parts is not None:
        return [name for part in parts for name in named_fields(part)]
    return [condition["field"]]


def _given(value: Any) -> bool:
    return value is not None and value != "" and value != {} and value != []


@dataclass(frozen=True)
class Rule:
    """A rule between fields: when `when` holds, a value given for `field` must fully match
    `pattern`, be one of `one_of`, or (`absent`) not be given at all; `message` says what
    is wrong. `SettingsSchema` enforces a schema's `rules`; descriptors and JSON Schemas
    state them."""

    field: str
    when: Condition
    message: str
    pattern: str | None = None
    one_of: tuple[Any, ...] | None = None
    absent: bool = False

    def broken(self, values: Mapping[str, Any]) -> bool:
        """Whether the settings `values` (defaults applied) break the rule."""
        value = values.get(self.field)
        if not _given(value) or not holds(self.when, values):
            return False
        if self.absent:
            return True
        if self.one_of is not None and value not in self.one_of:
            return True
        return self.pattern is not None and re.fullmatch(self.pattern, str(value)) is None

    def describe(self) -> dict[str, Any]:
        """The rule as a descriptor states it."""
        entry: dict[str, Any] = {"field": self.field, "when": self.when, "message": self.message}
        if self.pattern is not None:
            entry["pattern"] = self.pattern
        if self.one_of is not None:
            entry["oneOf"] = list(self.one_of)
        if self.absent:
            entry["absent"] = True
        return entry
