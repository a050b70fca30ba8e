"""The exported catalogue: the descriptors in `descriptors/` (`connection.json` and one
`ID.json` per activity), read as they are.

They are an export of the classes (`make descriptors`); the tests and `s3c descriptors
validate` check that they match the classes and the meta-schema, so a start reads them instead
of building and checking every descriptor again. Reading them imports nothing but `json`: no
activity module, no boto3, apispec or jsonschema.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import import_module
from typing import Any

PACKAGE = "s3_connector.descriptors"
META_SCHEMA_FILE = "descriptor.schema.json"
CHANGELOG_FILE = "changelog.json"
"""The descriptors' versions and why each came (see `s3_connector.sdk.changelog`)."""
NOT_DESCRIPTORS = (META_SCHEMA_FILE, CHANGELOG_FILE)
CONNECTION = "connection"


class Catalogue:
    """The descriptors exported to a folder, each read when first asked for."""

    def __init__(self, folder: str | None = None):
        """`folder` defaults to the shipped one (the `s3_connector.descriptors` package)."""
        self.folder = folder
        self._read: dict[str, dict[str, Any]] = {}

    @classmethod
    @cache
    def shipped(cls) -> Catalogue:
        return cls()

    def file_names(self) -> list[str]:
        """The exported descriptor files, sorted (the meta-schema is not one)."""
        found = _list(self.folder)
        return sorted(
            name for name in found if name.endswith(".json") and name not in NOT_DESCRIPTORS
        )

    @property
    def ids(self) -> list[str]:
        """The activities' ids (their files' names), sorted."""
        stems = (name.removesuffix(".json") for name in self.file_names())
        return [stem for stem in stems if stem != CONNECTION]

    @property
    def connection(self) -> dict[str, Any]:
        return self.descriptor(CONNECTION)

    def descriptor(self, descriptor_id: str) -> dict[str, Any]:
        """The descriptor exported as `ID.json`, read once. OSError when it cannot be read,
        ValueError when it is not JSON or not the descriptor of `descriptor_id`."""
        descriptor = self._read.get(descriptor_id)
        if descriptor is None:
            name = f"{descriptor_id}.json"
            descriptor = json.loads(read_text(name, self.folder))
            if not isinstance(descriptor, dict) or descriptor.get("id") != descriptor_id:
                raise ValueError(f"{name} is not the descriptor of {descriptor_id}")
            self._read[descriptor_id] = descriptor
        return descriptor


def read_text(name: str, folder: str | None = None) -> str:
    """One file of `folder` (default: the shipped descriptors)."""
    if folder is None:
        folder = _shipped_folder()
    if folder is None:
        from importlib import resources

        return resources.files(PACKAGE).joinpath(name).read_text(encoding="utf-8")
    with open(os.path.join(folder, name), encoding="utf-8") as file:
        return file.read()


def _list(folder: str | None) -> list[str]:
    if folder is None:
        folder = _shipped_folder()
    if folder is None:
        from importlib import resources

        return [entry.name for entry in resources.files(PACKAGE).iterdir()]
    return os.listdir(folder)


@cache
def _shipped_folder() -> str | None:
    """The folder of the descriptors package when it is one on disk (an installed wheel, a
    checkout); None otherwise (a zip), which is then read through importlib.resources, whose
    import alone costs more than reading every descriptor."""
    for location in getattr(import_module(PACKAGE), "__path__", []):
        if os.path.isdir(location):
            return location
    return None
