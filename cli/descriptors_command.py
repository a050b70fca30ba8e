"""`s3c descriptors`: list, show, export and validate the descriptors.

`list` and `show` serve the shipped activities from their exported descriptors
(`Registry.installed()`): they import no activity module, and neither boto3, apispec nor
jsonschema; `export` and `validate` import what they check with when they run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from s3_connector.connector.registry import SHIPPED_ORIGIN, Registry

from .completion import descriptor_ids

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


@descriptors.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the bundle to this file instead of stdout.",
)
def export(output: str | None) -> None:
    """One versioned bundle of all descriptors, for a designer."""
    from s3_connector.sdk.bundle import bundle

    text = json.dumps(bundle(), indent=2, ensure_ascii=False) + "\n"
    if output:
        from pathlib import Path

        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


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
