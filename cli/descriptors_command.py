"""`s3c descriptors`: list, show, schema, export, choices, preview and validate the
descriptors.

`list` and `show` serve the shipped activities from their exported descriptors
(`Registry.installed()`): they import no activity module, and neither boto3, apispec nor
jsonschema; the other commands import what they need when they run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from s3_connector.connector.registry import SHIPPED_ORIGIN, Registry

from .completion import descriptor_ids
from .options import connection_option

if TYPE_CHECKING:
    from pathlib import Path


@click.group()
def descriptors() -> None:
    """Inspect the JSON descriptors a designer renders."""


@descriptors.command("list")
def list_descriptors() -> None:
    """A table of the activities: id, name, role."""
    registry = Registry.installed()
    header = ("ID", "NAME", "ROLE")
    rows = [(d["id"], d["name"], d["role"]) for d in map(registry.descriptor, registry.ids)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@descriptors.command("show")
@click.argument("descriptor_id", metavar="ID", shell_complete=descriptor_ids)
def show(descriptor_id: str) -> None:
    """Print one descriptor (an activity id, or `connection`)."""
    registry = Registry.installed()
    if descriptor_id == "connection":
        descriptor = registry.connection
    else:
        descriptor = registry.descriptor(descriptor_id)
    click.echo(json.dumps(descriptor, indent=2))


@descriptors.command("schema")
@click.argument("descriptor_id", metavar="ID", shell_complete=descriptor_ids)
@connection_option
def schema(descriptor_id: str, connection_file: str | None) -> None:
    """The JSON Schema (draft 2020-12) of ID's settings (an activity id, or `connection`):
    what a form checks. With -c, under that connection's rules (control characters in keys,
    region names of a custom endpoint); without, Amazon S3's."""
    from s3_connector.sdk.bundle import json_schema

    _known(descriptor_id)
    rules = _rules(connection_file)
    click.echo(json.dumps(json_schema(descriptor_id, rules=rules), indent=2, ensure_ascii=False))


EXPORT_FORMATS = ("bundle", "jsonschema", "camunda")


@descriptors.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file instead of stdout.",
)
@click.option(
    "--format",
    "export_format",
    type=click.Choice(EXPORT_FORMATS),
    default="bundle",
    show_default=True,
    help="bundle: every descriptor, their meta-schema and JSON Schemas. jsonschema: the JSON "
    "Schema of each one's settings, by id. camunda: Camunda 8 element templates, one per "
    "activity, as a JSON array.",
)
def export(output: str | None, export_format: str) -> None:
    """Everything a designer loads, in one file."""
    from s3_connector.sdk.bundle import bundle, json_schemas

    if export_format == "bundle":
        exported: object = bundle()
    elif export_format == "jsonschema":
        exported = json_schemas()
    else:
        from s3_connector.sdk.camunda import element_templates

        exported = element_templates(bundle())
    text = json.dumps(exported, indent=2, ensure_ascii=False) + "\n"
    if output:
        from pathlib import Path

        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@descriptors.command("choices")
@click.argument("descriptor_id", metavar="ID", shell_complete=descriptor_ids)
@click.argument("field_name", metavar="FIELD")
@connection_option
def choices(descriptor_id: str, field_name: str, connection_file: str | None) -> None:
    """The values a designer may offer for FIELD of ID, one per line (label, tab, value when
    they differ): the field's `choices_from` activity, run on the connection."""
    from s3_connector.sdk.choices import field_choices

    from .options import load_connection

    _known(descriptor_id)
    for value, label in field_choices(descriptor_id, field_name, load_connection(connection_file)):
        click.echo(value if label == value else f"{label}\t{value}")


@descriptors.command("preview")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, writable=True),
    help="Directory to write the page to (created when missing).",
)
def preview(output: str) -> None:
    """A static page that renders the connection's and every activity's form with a stock
    JSON-Schema form library (json-editor), from the exported JSON Schemas."""
    from pathlib import Path

    from s3_connector.sdk.bundle import bundle
    from s3_connector.sdk.preview import write_preview

    index = write_preview(Path(output), bundle())
    click.echo(f"wrote {index}")


def _known(descriptor_id: str) -> None:
    from s3_connector.connector.errors import InvalidInput

    registry = Registry.installed()
    if descriptor_id != "connection" and descriptor_id not in registry.ids:
        known = ", ".join(["connection", *registry.ids])
        raise InvalidInput(f"unknown descriptor '{descriptor_id}' (known: {known})", field="ID")


def _rules(connection_file: str | None):
    from s3_connector.connector.fields import STRICT_INPUT_RULES

    if connection_file is None:
        return STRICT_INPUT_RULES
    from s3_connector.connector.harness import connection_rules

    from .options import load_connection

    return connection_rules(load_connection(connection_file))


@descriptors.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
def validate(paths: tuple[str, ...]) -> None:
    """Check descriptor files against the meta-schema; without PATHS, check every activity's
    descriptor as its class declares it, and that the exported files in descriptors/ match
    the classes."""
    from s3_connector.connector.descriptor_checks import DescriptorError, check_descriptor

    checked, failures = 0, 0
    for name, load in _checks(paths):
        checked += 1
        try:
            check_descriptor(load(), name)
        except DescriptorError as exc:
            failures += 1
            click.echo(f"invalid: {exc}", err=True)
        else:
            click.echo(f"ok: {name}")
    if not paths:
        from s3_connector.sdk.export import stale_files

        for problem in stale_files(Registry.shipped()):
            failures += 1
            click.echo(f"stale: {problem}; regenerate with `make descriptors`", err=True)
    if failures:
        raise DescriptorError(f"{failures} problems in {checked} descriptors")
    click.echo(f"{checked} descriptors valid")


def _checks(paths: tuple[str, ...]):
    """What `validate` checks: the files given, else the descriptors as the classes declare
    them (the shipped ones built from their classes, which the exported files must match) and
    every plugin's."""
    from pathlib import Path

    if paths:
        return [(path, lambda path=path: _read(Path(path))) for path in paths]
    installed, shipped = Registry.installed(), Registry.shipped()
    registries = {activity_id: shipped for activity_id in shipped.ids}
    for activity_id in installed.ids:
        if installed.origins[activity_id] != SHIPPED_ORIGIN:
            registries[activity_id] = installed
    return [
        ("connection", lambda: shipped.connection),
        *(
            (
                f"{activity_id} ({registry.origins[activity_id]})",
                lambda i=activity_id, registry=registry: registry.descriptor(i),
            )
            for activity_id, registry in sorted(registries.items())
        ),
    ]


def _read(path: Path) -> dict:
    from s3_connector.connector.descriptor_checks import DescriptorError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DescriptorError(f"{path}: cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DescriptorError(f"{path.name}: invalid JSON ({exc})") from None
