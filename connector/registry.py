"""The registry of activities, built from their classes: the shipped ones (the modules of the
activities package) and plugins (entry points of the `s3_connector.activities` group).

Descriptors are built in memory from the classes, once each, when first asked for; the files
in `descriptors/` are an export of them (`make descriptors`), which the runtime never reads.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .activity import Activity
from .descriptor_builder import activity_descriptor, connection_descriptor
from .descriptor_checks import DescriptorError, check_descriptor
from .errors import InvalidInput

ACTIVITIES_PACKAGE = "s3_connector.activities"
PLUGIN_GROUP = "s3_connector.activities"
"""Entry-point group through which other packages add activities: `name = "module:Class"`."""
SHIPPED_ORIGIN = "s3-connector"


def shipped_activity_classes() -> list[type[Activity]]:
    """Every concrete Activity subclass defined in the activities package, by id."""
    package = importlib.import_module(ACTIVITIES_PACKAGE)
    found: dict[str, type[Activity]] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{ACTIVITIES_PACKAGE}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if _is_activity(cls) and cls.__module__ == module.__name__:
                found[cls.id] = cls
    return [found[key] for key in sorted(found)]


def plugin_entry_points() -> list[EntryPoint]:
    """The installed plugin activities' entry points, by name."""
    return sorted(entry_points(group=PLUGIN_GROUP), key=lambda ep: ep.name)


def plugin_origin(entry_point: EntryPoint) -> str:
    dist = entry_point.dist.name if entry_point.dist else "unknown distribution"
    return f"plugin {entry_point.name} ({dist})"


def load_plugin(entry_point: EntryPoint) -> type[Activity]:
    """The Activity class an entry point names, its descriptor checked against the
    meta-schema (a plugin is checked when it is loaded; shipped ones by the tests)."""
    origin = plugin_origin(entry_point)
    try:
        cls = entry_point.load()
    except Exception as exc:
        raise DescriptorError(
            f"{origin}: {entry_point.value} cannot be loaded ({type(exc).__name__}: {exc})"
        ) from None
    if not _is_activity(cls):
        raise DescriptorError(f"{origin}: {entry_point.value} is not an Activity class with an id")
    try:
        descriptor = activity_descriptor(cls)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise DescriptorError(f"{origin}: its descriptor cannot be built ({exc})") from None
    check_descriptor(descriptor, origin)
    return cls


def _is_activity(cls: Any) -> bool:
    return inspect.isclass(cls) and issubclass(cls, Activity) and "id" in vars(cls)


class Registry:
    """Activity classes by id, with the descriptors built from them."""

    def __init__(self, classes: Iterable[type[Activity]], origins: Iterable[str] | None = None):
        self._classes: dict[str, type[Activity]] = {}
        self.origins: dict[str, str] = {}
        classes = list(classes)
        for cls, origin in zip(classes, origins or [SHIPPED_ORIGIN] * len(classes), strict=True):
            known = self.origins.get(cls.id)
            if known is not None:
                raise DescriptorError(
                    f"activity id {cls.id} of {origin} is already declared by {known}",
                    field="activity",
                )
            self._classes[cls.id] = cls
            self.origins[cls.id] = origin
        self._descriptors: dict[str, dict[str, Any]] = {}

    @classmethod
    @cache
    def shipped(cls) -> Registry:
        """The activities of the activities package."""
        return cls(shipped_activity_classes())

    @classmethod
    @cache
    def installed(cls) -> Registry:
        """The shipped activities and every installed plugin activity."""
        shipped = cls.shipped()
        plugins = plugin_entry_points()
        return cls(
            [*shipped._classes.values(), *(load_plugin(ep) for ep in plugins)],
            [*shipped.origins.values(), *(plugin_origin(ep) for ep in plugins)],
        )

    @property
    def ids(self) -> list[str]:
        return sorted(self._classes)

    def __contains__(self, activity_id: object) -> bool:
        return activity_id in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def activity_class(self, activity_id: str) -> type[Activity]:
        try:
            return self._classes[activity_id]
        except KeyError:
            known = ", ".join(self.ids)
            raise InvalidInput(
                f"unknown activity '{activity_id}' (known: {known})", field="activity"
            ) from None

    def descriptor(self, activity_id: str) -> dict[str, Any]:
        """The activity's descriptor, built from its class the first time it is asked for."""
        descriptor = self._descriptors.get(activity_id)
        if descriptor is None:
            descriptor = activity_descriptor(self.activity_class(activity_id))
            self._descriptors[activity_id] = descriptor
        return descriptor

    @property
    def connection(self) -> dict[str, Any]:
        return _connection()

    @property
    def activities(self) -> Mapping[str, dict[str, Any]]:
        """Every activity's descriptor, by id."""
        return {activity_id: self.descriptor(activity_id) for activity_id in self.ids}

    def descriptors(self) -> dict[str, dict[str, Any]]:
        """The connection's and every activity's descriptor, by id (`connection` first)."""
        return {"connection": self.connection, **self.activities}


@cache
def _connection() -> dict[str, Any]:
    return connection_descriptor()
