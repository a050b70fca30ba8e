"""The descriptors' changelog (`descriptors/changelog.json`): each descriptor's version, why
each version came, and the contract of its current version, so that a change that a saved
configuration or a designer could trip on cannot ship without a version bump.

Breaking: a field removed, its type or secrecy changed, no longer dynamic, newly required, a
new or changed condition, an allowed value removed, a bound narrowed, a pattern changed, a
new rule between fields, a document property no longer written, a response property removed,
the role or the content changed. Anything else (a new optional field, labels, messages,
descriptions) is compatible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from s3_connector.connector.catalogue import CHANGELOG_FILE

__all__ = ["CHANGELOG_FILE", "breaking_changes", "contract", "problems", "recorded"]
_FIELD_KEYS = ("type", "secret", "dynamic", "required", "enum", "condition", "required_when")
_LOWER_BOUNDS = ("minimum", "minLength", "minItems")
_UPPER_BOUNDS = ("maximum", "maxLength", "maxItems")


def contract(descriptor: dict[str, Any]) -> dict[str, Any]:
    """What saved configurations, designers and the documents downstream rely on."""
    fields = {}
    for field in descriptor["fields"]:
        entry = {key: field[key] for key in _FIELD_KEYS if key in field}
        entry["required"] = bool(field["required"] or field.get("required_unless_document"))
        entry["constraints"] = field.get("constraints", {})
        fields[field["name"]] = entry
    terms: dict[str, Any] = {"fields": fields, "rules": descriptor.get("rules", [])}
    if descriptor["kind"] == "activity":
        response = descriptor["response"]
        terms.update(
            role=descriptor["role"],
            content=descriptor["document"]["content"],
            writes=descriptor["document"]["writes"],
            response=sorted(response.get("properties", {})),
        )
    return terms


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """How `new` breaks what `old` promised, one phrase each."""
    found = []
    for name, was in old["fields"].items():
        now = new["fields"].get(name)
        if now is None:
            found.append(f"field {name} removed")
            continue
        found += [f"field {name}: {change}" for change in _field_changes(was, now)]
    for name, now in new["fields"].items():
        if name not in old["fields"] and (now["required"] or "required_when" in now):
            found.append(f"field {name} added as required")
    found += [f"new rule on {rule['field']}" for rule in new["rules"] if rule not in old["rules"]]
    for key in ("role", "content"):
        if old.get(key) != new.get(key):
            found.append(f"{key} changed from {old.get(key)} to {new.get(key)}")
    for key, what in (("writes", "document property"), ("response", "response property")):
        found += [f"{what} {name} removed" for name in old.get(key, []) if name not in new[key]]
    return found


def _field_changes(was: dict[str, Any], now: dict[str, Any]) -> list[str]:
    changes = []
    for key in ("type", "secret", "condition", "required_when"):
        if was.get(key) != now.get(key):
            changes.append(f"{key} changed")
    if was["dynamic"] and not now["dynamic"]:
        changes.append("no longer dynamic")
    if now["required"] and not was["required"]:
        changes.append("now required")
    if "enum" in now:
        removed = [value for value in was.get("enum", []) if value not in now["enum"]]
        if "enum" not in was or removed:
            changes.append(f"allowed values narrowed (removed: {removed or 'any value'})")
    before, after = was["constraints"], now["constraints"]
    for key in _LOWER_BOUNDS:
        if key in after and after[key] > before.get(key, float("-inf")):
            changes.append(f"{key} raised to {after[key]}")
    for key in _UPPER_BOUNDS:
        if key in after and after[key] < before.get(key, float("inf")):
            changes.append(f"{key} lowered to {after[key]}")
    if "pattern" in after and after["pattern"] != before.get("pattern"):
        changes.append("pattern changed")
    return changes


def read(directory: Path) -> dict[str, Any]:
    path = directory / CHANGELOG_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def problems(
    descriptors: dict[str, dict[str, Any]], changelog: dict[str, Any], *, new_ones: bool = False
) -> list[str]:
    """What keeps `descriptors` from shipping against `changelog`, one line each; with
    `new_ones`, a descriptor the changelog does not know yet is no problem (it is recorded)."""
    found = []
    for key, descriptor in descriptors.items():
        version, entry = descriptor["version"], changelog.get(key)
        if entry is None:
            if not new_ones:
                found.append(f"{key}: not in {CHANGELOG_FILE}; run `make descriptors`")
            continue
        if str(version) not in entry["changes"]:
            found.append(f"{key}: {CHANGELOG_FILE} says nothing of version {version}")
        if version < entry["version"]:
            found.append(f"{key}: version {version} is below the recorded {entry['version']}")
        elif version == entry["version"]:
            breaks = breaking_changes(entry["contract"], contract(descriptor))
            if breaks:
                found.append(
                    f"{key}: {'; '.join(breaks)}: raise its version to {version + 1} and say "
                    f"why under changes in {CHANGELOG_FILE}"
                )
    return found


def recorded(descriptors: dict[str, dict[str, Any]], changelog: dict[str, Any]) -> dict[str, Any]:
    """`changelog` with each descriptor's current contract; a new descriptor starts at its
    version with the line "First version."."""
    updated = {}
    for key, descriptor in descriptors.items():
        version = descriptor["version"]
        changes = (changelog.get(key) or {}).get("changes") or {str(version): "First version."}
        updated[key] = {"version": version, "changes": changes, "contract": contract(descriptor)}
    return updated


def render(changelog: dict[str, Any]) -> str:
    return json.dumps(changelog, indent=2, ensure_ascii=False) + "\n"
