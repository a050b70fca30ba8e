"""`s3c descriptors`: list, show, export and validate the descriptors."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import click

from s3_connector.connector.descriptor_checks import (
    DescriptorError,
    check_descriptor,
    meta_schema,
)
from s3_connector.connector.registry import Registry


@click.group()
def descriptors() -> None:
    """Inspect the JSON descriptors a designer renders."""


@descriptors.command("list")
def list_descriptors() -> None:
    """A table of the activities: id, name, role."""
    registry = Registry.installed()
    header = ("ID", "NAME", "ROLE")
    rows = [(cls.id, cls.name, cls.role) for cls in map(registry.activity_class, registry.ids)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@descriptors.command("show")
@click.argument("descriptor_id", metavar="ID")
def show(descriptor_id: str) -> None:
    """Print one descriptor (an activity id, or `connection`)."""
    registry = Registry.installed()
    if descriptor_id == "connection":
        descriptor = registry.connection
    else:
        descriptor = registry.descriptor(descriptor_id)
    click.echo(json.dumps(descriptor, indent=2))


def bundle() -> dict:
    registry = Registry.installed()
    return {
        "format": "s3-connector/bundle/v1",
        "connector": "s3-connector",
        "version": version("s3-connector"),
        "meta_schema": meta_schema()["$id"],
        "connection": registry.connection,
        "activities": list(registry.activities.values()),
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
    """Check descriptor files against the meta-schema; without PATHS, check every installed
    activity's descriptor, and that the exported files in descriptors/ match the classes."""
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
    if paths:
        return [(path, lambda path=path: _read(Path(path))) for path in paths]
    registry = Registry.installed()
    return [
        ("connection", lambda: registry.connection),
        *(
            (
                f"{activity_id} ({registry.origins[activity_id]})",
                lambda i=activity_id: registry.descriptor(i),
            )
            for activity_id in registry.ids
        ),
    ]


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DescriptorError(f"{path}: cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DescriptorError(f"{path.name}: invalid JSON ({exc})") from None
