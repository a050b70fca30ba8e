"""Exports the registry's descriptors as files (`descriptors/*.json`), and finds exported
files that no longer match the classes.

`python -m s3_connector.sdk.export [DIR]` rewrites the shipped descriptors; a test and
`s3c descriptors validate` fail when a committed file differs from what the classes declare.
The files are what `Registry.installed()` serves for the shipped activities (the CLI, agents
and hosts read them instead of building the descriptors at every start).
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any

from s3_connector.connector.catalogue import NOT_DESCRIPTORS
from s3_connector.connector.descriptor_builder import render
from s3_connector.connector.registry import Registry

from . import changelog

DESCRIPTORS_DIR = Path(str(resources.files("s3_connector.descriptors")))


def exported_files(registry: Registry) -> dict[str, dict[str, Any]]:
    """File name to descriptor: the connection and every activity of `registry`."""
    return {f"{key}.json": descriptor for key, descriptor in registry.descriptors().items()}


def exported_paths(directory: Path | None = None) -> list[Path]:
    """The exported descriptor files (the shipped ones by default)."""
    found = (directory or DESCRIPTORS_DIR).glob("*.json")
    return sorted(p for p in found if p.name not in NOT_DESCRIPTORS)


def stale_files(registry: Registry, directory: Path | None = None) -> list[str]:
    """What differs between the files in `directory` and the registry: one line each."""
    expected = exported_files(registry)
    found = {path.name: path.read_text(encoding="utf-8") for path in exported_paths(directory)}
    problems = [f"{name} is missing" for name in sorted(set(expected) - set(found))]
    problems += [f"{name} has no activity" for name in sorted(set(found) - set(expected))]
    problems += [
        f"{name} differs from what the classes declare"
        for name in sorted(set(expected) & set(found))
        if found[name] != render(expected[name])
    ]
    descriptors = registry.descriptors()
    recorded = changelog.read(directory or DESCRIPTORS_DIR)
    problems += changelog.problems(descriptors, recorded)
    if changelog.recorded(descriptors, recorded) != recorded:
        problems.append(f"{changelog.CHANGELOG_FILE} does not record the current contracts")
    return problems


def write(registry: Registry, directory: Path | None = None) -> list[Path]:
    """Write every descriptor and record their contracts in the changelog; refuse (raise
    ValueError) when a descriptor changes incompatibly without a version bump."""
    directory = directory or DESCRIPTORS_DIR
    descriptors = registry.descriptors()
    recorded = changelog.read(directory)
    refused = changelog.problems(descriptors, recorded, new_ones=True)
    if refused:
        raise ValueError("\n".join(refused))
    written = []
    for name, descriptor in exported_files(registry).items():
        path = directory / name
        path.write_text(render(descriptor), encoding="utf-8")
        written.append(path)
    path = directory / changelog.CHANGELOG_FILE
    path.write_text(changelog.render(changelog.recorded(descriptors, recorded)), encoding="utf-8")
    return [*written, path]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else DESCRIPTORS_DIR
    try:
        written = write(Registry.shipped(), directory)
    except ValueError as exc:
        print(f"not written:\n{exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
