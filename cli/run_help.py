"""`s3c run ACTIVITY --help`: the help of one activity, rendered from its descriptor.

The descriptors are served as exported (`Registry.installed()`), so this help imports no
activity module, nor boto3, botocore, jsonschema or apispec; `s3c run --help` without an
activity is click's help of the command, as before.
"""

from __future__ import annotations

import json
from typing import Any

import click

from s3_connector.connector.conditions import describe_condition

ACTIVITY_PARAM = "activity"
_ASKED = "s3c.run_help.activity"


class RunCommand(click.Command):
    """`s3c run`, whose `--help` shows the fields of the ACTIVITY on its command line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ASKED] = activity_in(self, ctx, args)
        return super().parse_args(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        activity_id = ctx.meta.get(_ASKED)
        if activity_id is None:
            super().format_help(ctx, formatter)
            return
        descriptor = activity_descriptor(activity_id)
        formatter.write_usage(ctx.command_path, f"{activity_id} {self.options_metavar}")
        format_activity(descriptor, formatter)
        self.format_options(ctx, formatter)


def activity_in(command: click.Command, ctx: click.Context, args: list[str]) -> str | None:
    """The ACTIVITY of `args`, parsed as the command parses them but running no callback;
    None when there is none or the arguments do not parse."""
    try:
        values, _, _ = command.make_parser(ctx).parse_args(args=list(args))
    except click.UsageError:
        return None
    value = values.get(ACTIVITY_PARAM)
    return value if isinstance(value, str) else None


def installed_registry():
    from s3_connector.connector.registry import Registry

    return Registry.installed()


def activity_descriptor(activity_id: str) -> dict[str, Any]:
    """The exported descriptor of `activity_id`; a one-line usage error naming it and the
    near matches when there is no such activity."""
    registry = installed_registry()
    if activity_id not in registry:
        raise click.UsageError(unknown_activity(activity_id, registry.ids))
    return registry.descriptor(activity_id)


def unknown_activity(activity_id: str, known: list[str]) -> str:
    from difflib import get_close_matches

    near = get_close_matches(activity_id, known, n=3, cutoff=0.75)
    lowered = activity_id.lower()
    near += [i for i in known if lowered and (lowered in i or i in lowered) and i not in near]
    hint = f"did you mean {', '.join(near)}?" if near else f"known: {', '.join(known)}"
    return f"activity: unknown activity '{activity_id}'; {hint}"


def field_rules(field: dict[str, Any]) -> list[str]:
    """The rules of a descriptor field, as a person reads them."""
    rules = []
    if "enum" in field:
        rules.append("one of " + ", ".join(map(_shown, field["enum"])))
    limits = field.get("constraints", {})
    messages = field.get("messages", {})
    worded = []
    for key in ("pattern", "minLength", "maxLength", "minimum", "maximum"):
        message = messages.get(key)
        if key in limits and message and message not in worded:
            worded.append(message)
    rules += [message.removeprefix("must be ") for message in worded]
    if "pattern" in limits and "pattern" not in messages:
        rules.append(f"matches {limits['pattern']}")
    if not any(key in messages for key in ("minLength", "maxLength")):
        rules += _range(limits, "minLength", "maxLength", "characters")
    if not any(key in messages for key in ("minimum", "maximum")):
        rules += _range(limits, "minimum", "maximum", "")
    rules += _range(limits, "minItems", "maxItems", "items")
    rules += field.get("runtime_rules", [])
    return rules


def _range(limits: dict[str, Any], low_key: str, high_key: str, unit: str) -> list[str]:
    low, high = limits.get(low_key), limits.get(high_key)
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return [f"{low} to {high}{unit}"]
    if low is not None:
        return [f"at least {low}{unit}"]
    if high is not None:
        return [f"at most {high}{unit}"]
    return []


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def field_summary(field: dict[str, Any]) -> str:
    """Type, required, default, dynamic and secret of a field, on one line."""
    parts = [field["type"]]
    if field.get("required"):
        parts.append("required")
    elif field.get("required_unless_document"):
        parts.append("required unless the document has it")
    if "default" in field:
        parts.append(f"default {json.dumps(field['default'])}")
    parts += [flag for flag in ("dynamic", "secret") if field.get(flag)]
    return ", ".join(parts)


_CONTENT = {
    "consumes": "It reads each document's content: give it with --input PATH|-.",
    "produces": "It returns content: --output PATH|- writes it, else it is inline.",
}


def format_activity(descriptor: dict[str, Any], formatter: click.HelpFormatter) -> None:
    """The activity's name, role and description, then its fields by group."""
    formatter.write_paragraph()
    with formatter.indentation():
        formatter.write_text(
            f"{descriptor['name']} ({descriptor['role']}): {descriptor['description']}"
        )
        content = _CONTENT.get(descriptor.get("document", {}).get("content", ""))
        if content:
            formatter.write_paragraph()
            formatter.write_text(content)
    labels = {group["id"]: group["label"] for group in descriptor.get("groups", [])}
    groups: dict[str, list[dict[str, Any]]] = {}
    for field in descriptor.get("fields", []):
        groups.setdefault(field.get("group", ""), []).append(field)
    with formatter.section("Fields (-p NAME=VALUE, or --config FILE with a JSON object)"):
        if any(field.get("dynamic") for field in descriptor.get("fields", [])):
            formatter.write_text(
                "A dynamic field is supplied by the document property of the same name when "
                "a document has one."
            )
            formatter.write_paragraph()
        for group, fields in groups.items():
            formatter.write_text(f"{labels.get(group, group or 'Other')}:")
            with formatter.indentation():
                for field in fields:
                    _format_field(field, formatter)
        if not groups:
            formatter.write_text("This activity has no fields.")


def _format_field(field: dict[str, Any], formatter: click.HelpFormatter) -> None:
    formatter.write_text(f"{field['name']}  {field_summary(field)}")
    with formatter.indentation(), formatter.indentation():
        formatter.write_text(field.get("description", ""))
        rules = field_rules(field)
        if rules:
            formatter.write_text("Rules: " + "; ".join(rules) + ".")
        if "condition" in field:
            formatter.write_text(f"Accepted only when {describe_condition(field['condition'])}.")
        if "required_when" in field:
            formatter.write_text(f"Required when {describe_condition(field['required_when'])}.")
