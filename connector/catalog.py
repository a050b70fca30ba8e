"""The catalogue of descriptors: loading, validating against the meta-schema, resolving classes."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from functools import cache
from importlib import resources
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .activity import Activity
from .errors import InvalidInput

DESCRIPTORS_DIR = Path(str(resources.files("s3_connector.descriptors")))
META_SCHEMA_FILE = "descriptor.schema.json"
ACTIVITIES_PACKAGE = "s3_connector.activities"
PLUGIN_GROUP = "s3_connector.activities"
"""Entry-point group through which other packages add activities: `name = "module:Class"`."""


class DescriptorError(InvalidInput):
    """A descriptor breaks the meta-schema or does not match its class."""


@cache
def meta_schema() -> dict[str, Any]:
    return json.loads((DESCRIPTORS_DIR / META_SCHEMA_FILE).read_text(encoding="utf-8"))


def _validator() -> Draft202012Validator:
    return Draft202012Validator(meta_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def resolve_class(path: str) -> type:
    module_name, _, qualname = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise DescriptorError(f"class {path} cannot be imported ({exc})", field="class") from None
    return target


def check_descriptor(descriptor: Any, source: str) -> dict[str, Any]:
    """Validate one descriptor (meta-schema, then consistency with its class); return it."""
    error = best_match(_validator().iter_errors(descriptor))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        raise DescriptorError(f"{source}: {where + ': ' if where else ''}{error.message}")
    names = [field["name"] for field in descriptor["fields"]]
    groups = {group["id"] for group in descriptor["groups"]}
    for field in descriptor["fields"]:
        if field["group"] not in groups:
            raise DescriptorError(
                f"{source}: field {field['name']}: unknown group {field['group']}"
            )
        condition = field.get("condition", {})
        for part in [condition, *condition.get("allMatch", [])]:
            if "field" in part and part["field"] not in names:
                raise DescriptorError(
                    f"{source}: field {field['name']}: condition names unknown field "
                    f"{part['field']}"
                )
    for permission in descriptor.get("permissions", []):
        condition = permission.get("when", {})
        named = condition if isinstance(condition, str) else condition.get("field")
        if named and named not in names:
            raise DescriptorError(
                f"{source}: permission {permission['action']}: 'when' names unknown field {named}"
            )
    if len(set(names)) != len(names):
        raise DescriptorError(f"{source}: field names repeat")
    _check_against_class(descriptor, source)
    return descriptor


def _check_against_class(descriptor: dict[str, Any], source: str) -> None:
    from .descriptor_builder import activity_descriptor, connection_descriptor

    cls = resolve_class(descriptor["class"])
    if descriptor["kind"] == "connection":
        expected = connection_descriptor()
    else:
        if not (inspect.isclass(cls) and issubclass(cls, Activity)):
            raise DescriptorError(f"{source}: class {descriptor['class']} is not an Activity")
        expected = activity_descriptor(cls)
    for key in expected:
        if descriptor.get(key) != expected[key]:
            raise DescriptorError(
                f"{source}: '{key}' differs from what {descriptor['class']} declares; "
                "regenerate it with `make descriptors`"
            )


def read_descriptor(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DescriptorError(f"{path}: cannot be read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise DescriptorError(f"{path.name}: invalid JSON ({exc})") from None
    return check_descriptor(data, path.name)


def shipped_paths() -> list[Path]:
    return sorted(p for p in DESCRIPTORS_DIR.glob("*.json") if p.name != META_SCHEMA_FILE)


def shipped_activity_classes() -> list[type[Activity]]:
    """Every concrete Activity subclass defined in the activities package."""
    package = importlib.import_module(ACTIVITIES_PACKAGE)
    found: dict[str, type[Activity]] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{ACTIVITIES_PACKAGE}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Activity)
                and cls.__module__ == module.__name__
                and "id" in vars(cls)
            ):
                found[cls.id] = cls
    return [found[key] for key in sorted(found)]


def plugin_entry_points() -> list[EntryPoint]:
    """The installed plugin activities' entry points, by name."""
    return sorted(entry_points(group=PLUGIN_GROUP), key=lambda ep: ep.name)


def _plugin_origin(entry_point: EntryPoint) -> str:
    dist = entry_point.dist.name if entry_point.dist else "unknown distribution"
    return f"plugin {entry_point.name} ({dist})"


def plugin_descriptor(entry_point: EntryPoint) -> dict[str, Any]:
    """The validated descriptor of the Activity class an entry point names."""
    origin = _plugin_origin(entry_point)
    try:
        cls = entry_point.load()
    except Exception as exc:
        raise DescriptorError(
            f"{origin}: {entry_point.value} cannot be loaded ({type(exc).__name__}: {exc})"
        ) from None
    if not (inspect.isclass(cls) and issubclass(cls, Activity) and "id" in vars(cls)):
        raise DescriptorError(f"{origin}: {entry_point.value} is not an Activity class with an id")
    from .descriptor_builder import activity_descriptor

    try:
        descriptor = activity_descriptor(cls)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise DescriptorError(f"{origin}: its descriptor cannot be built ({exc})") from None
    return check_descriptor(descriptor, origin)


class Catalog:
    """The validated connection descriptor and activity descriptors, by id."""

    def __init__(self, descriptors: list[dict[str, Any]], origins: list[str] | None = None):
        self.connection: dict[str, Any] | None = None
        self.activities: dict[str, dict[str, Any]] = {}
        self.origins: dict[str, str] = {}
        for descriptor, origin in zip(
            descriptors, origins or ["the catalogue"] * len(descriptors), strict=True
        ):
            if descriptor["kind"] == "connection":
                self.connection = descriptor
                continue
            known = self.origins.get(descriptor["id"])
            if known is not None:
                raise DescriptorError(
                    f"activity id {descriptor['id']} of {origin} is already declared by {known}",
                    field="activity",
                )
            self.activities[descriptor["id"]] = descriptor
            self.origins[descriptor["id"]] = origin

    @classmethod
    @cache
    def shipped(cls) -> Catalog:
        """The descriptors that ship in `descriptors/`."""
        return cls([read_descriptor(path) for path in shipped_paths()])

    @classmethod
    @cache
    def installed(cls) -> Catalog:
        """The shipped descriptors and those of every installed plugin activity."""
        shipped = cls.shipped()
        plugins = plugin_entry_points()
        return cls(
            [shipped.connection, *shipped.activities.values()]
            + [plugin_descriptor(ep) for ep in plugins],
            ["s3-connector (connection.json)"]
            + [f"s3-connector ({activity_id}.json)" for activity_id in shipped.activities]
            + [_plugin_origin(ep) for ep in plugins],
        )

    def descriptor(self, activity_id: str) -> dict[str, Any]:
        try:
            return self.activities[activity_id]
        except KeyError:
            known = ", ".join(sorted(self.activities))
            raise InvalidInput(
                f"unknown activity '{activity_id}' (known: {known})", field="activity"
            ) from None

    def activity_class(self, activity_id: str) -> type[Activity]:
        return resolve_class(self.descriptor(activity_id)["class"])
