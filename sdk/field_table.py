"""The docs' field tables and descriptor example, generated from the descriptors.

`python -m s3_connector.sdk.field_table FILE...` (`make descriptors` runs it on
docs/activities.md, docs/connection.md and docs/descriptor-format.md) rewrites every table
between `<!-- fields: ID -->` and `<!-- /fields -->`, and the JSON block after
`<!-- descriptor: ID -->`; a test fails when a file is not current.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from marshmallow import Schema, validate

from s3_connector.connector.fields import BUCKET_NAME_RULE
from s3_connector.connector.registry import Registry

_BLOCK = re.compile(r"(<!-- fields: (\w+) -->\n).*?(<!-- /fields -->)", re.S)
_EXAMPLE = re.compile(r"(<!-- descriptor: (\w+) -->\n```json\n).*?(\n```)", re.S)


def _schema(descriptor: dict[str, Any]) -> Schema:
    if descriptor["kind"] == "connection":
        from s3_connector.connector.connection import ConnectionSchema

        return ConnectionSchema()
    module, _, name = descriptor["class"].partition(":")
    return getattr(importlib.import_module(module), name).Settings()


def _pattern_rule(field: Any) -> str:
    for validator in field.validators:
        if isinstance(validator, validate.Regexp):
            if validator.error == BUCKET_NAME_RULE:
                return "S3 bucket naming rules"
            return validator.error.removeprefix("must be ")
    return ""


def _rules(entry: dict[str, Any], field: Any) -> str:
    rules = ["required"] if entry["required"] else []
    if entry.get("required_unless_document"):
        rules.append("required, or from the document")
    if "enum" in entry:
        rules.append(" \\| ".join(f"`{value}`" for value in entry["enum"]))
    limits = entry.get("constraints", {})
    pattern_rule = _pattern_rule(field) if "pattern" in limits else ""
    if pattern_rule:
        rules.append(pattern_rule)
    elif "minLength" in limits or "maxLength" in limits:
        low, high = limits.get("minLength", 0), limits.get("maxLength", "∞")
        rules.append(f"length {low} to {high}")
    if "minimum" in limits or "maximum" in limits:
        rules.append(f"{limits.get('minimum', '-∞')} to {limits.get('maximum', '∞')}")
    return "; ".join(rule for rule in rules if rule)


def _flags(entry: dict[str, Any]) -> str:
    flags = [name for name in ("secret", "dynamic") if entry[name]]
    condition = entry.get("condition")
    if condition and "field" in condition:
        values = condition.get("oneOf", [condition.get("equals")])
        flags.append(f"shown when `{condition['field']}` is {' or '.join(map(str, values))}")
    return ", ".join(flags)


def markdown_table(descriptor: dict[str, Any]) -> str:
    schema = _schema(descriptor)
    lines = [
        "| field | type | default | rules | flags | description |",
        "|---|---|---|---|---|---|",
    ]
    for entry in descriptor["fields"]:
        default = f"`{json.dumps(entry['default'])}`" if "default" in entry else ""
        cells = [
            f"`{entry['name']}`",
            entry["type"],
            default,
            _rules(entry, schema.fields[entry["name"]]),
            _flags(entry),
            entry["description"].replace("|", "\\|"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_readme(text: str, descriptors: Mapping[str, dict]) -> str:
    """`text` with every field table regenerated from `descriptors` (by id, `connection`
    included)."""

    def table(match: re.Match) -> str:
        return match.group(1) + markdown_table(descriptors[match.group(2)]) + match.group(3)

    def example(match: re.Match) -> str:
        shown = json.dumps(descriptors[match.group(2)], indent=2, ensure_ascii=False)
        return match.group(1) + shown + match.group(3)

    return _EXAMPLE.sub(example, _BLOCK.sub(table, text))


def heading_anchor(heading: str) -> str:
    """The anchor GitHub gives a markdown heading: lower case, punctuation dropped (but `-`
    and `_`), spaces as hyphens; `Put Object (`put_object`)` is `put-object-put_object`."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


# The files with generated blocks, relative to a checkout; `make descriptors` names the same.
GENERATED_DOCS = ("docs/activities.md", "docs/connection.md", "docs/descriptor-format.md")


def main(argv: list[str] | None = None) -> int:
    paths = [Path(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print(f"usage: python -m s3_connector.sdk.field_table FILE... (e.g. {GENERATED_DOCS[0]})")
        return 2
    descriptors = Registry.shipped().descriptors()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        rendered = render_readme(text, descriptors)
        if rendered != text:
            path.write_text(rendered, encoding="utf-8")
        print(f"{'wrote' if rendered != text else 'current:'} the generated blocks of {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
