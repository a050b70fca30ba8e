"""`s3c descriptors`: list, show, export and validate the descriptors."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import click

from s3_connector.connector.catalog import (
    Catalog,
    DescriptorError,
    meta_schema,
    plugin_descriptor,
    plugin_entry_points,
    read_descriptor,
    shipped_paths,
)


@click.group()
def descriptors() -> None:
    """Inspect the JSON descriptors a designer renders."""


@descriptors.command("list")
def list_descriptors() -> None:
    """A table of the activities: id, name, role."""
    catalog = Catalog.installed()
    rows = [(d["id"], d["name"], d["role"]) for d in catalog.activities.values()]
    rows.sort()
    widths = [max(len(row[i]) for row in [("ID", "NAME", "ROLE"), *rows]) for i in range(3)]
    for row in [("ID", "NAME", "ROLE"), *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@descriptors.command("show")
@click.argument("descriptor_id", metavar="ID")
def show(descriptor_id: str) -> None:
    """Print one descriptor (an activity id, or `connection`)."""
    catalog = Catalog.installed()
    if descriptor_id == "connection":
        descriptor = catalog.connection
    else:
        descriptor = catalog.descriptor(descriptor_id)
    click.echo(json.dumps(descriptor, indent=2))


def bundle() -> dict:
    catalog = Catalog.installed()
    return {
        "format": "s3-connector/bundle/v1",
        "connector": "s3-connector",
        "version": version("s3-connector"),
        "meta_schema": meta_schema()["$id"],
        "connection": catalog.connection,
        "activities": [catalog.activities[key] for key in sorted(catalog.activities)],
    }


@descriptors.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the bundle to this file instead of stdout.",
)
def export(output: str | None) -> None:
    """One versioned bundle of all descriptors, for a designer."""
    text = json.dumps(bundle(), indent=2, ensure_ascii=False) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@descriptors.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
def validate(paths: tuple[str, ...]) -> None:
    """Check descriptors against the meta-schema and their classes (the shipped ones by
    default)."""
    checks: list[tuple[str, Callable[[], dict]]] = [
        (str(path), lambda path=path: read_descriptor(path))
        for path in ([Path(p) for p in paths] or shipped_paths())
    ]
    if not paths:
        checks += [
            (f"plugin {ep.name}", lambda ep=ep: plugin_descriptor(ep))
            for ep in plugin_entry_points()
        ]
    valid: dict[str, dict] = {}
    for name, check in checks:
        try:
            valid[name] = check()
        except DescriptorError as exc:
            click.echo(f"invalid: {exc}", err=True)
        else:
            click.echo(f"ok: {name}")
    if len(valid) < len(checks):
        failures = len(checks) - len(valid)
        raise DescriptorError(f"{failures} of {len(checks)} descriptors are invalid")
    if not paths:
        Catalog(list(valid.values()), list(valid))
    click.echo(f"{len(checks)} descriptors valid")
