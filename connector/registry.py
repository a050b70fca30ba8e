"""The registry of activities: the shipped ones (the modules of the activities package) and
plugins (entry points of the `s3_connector.activities` group).

The shipped activities are seen two ways:

- `Registry.shipped()` builds them from their classes, the single source of truth: it imports
  every activity module and builds each descriptor (apispec, marshmallow) when first asked
  for. `make descriptors` exports these descriptors to `descriptors/*.json`, and the tests and
  `s3c descriptors validate` fail when the files differ from them or break the meta-schema.
- `Registry.installed()`, what the CLI, agents and hosts use, serves them from that export
  (`catalogue.Catalogue`): their ids and descriptors are read from the files, nothing is built
  or checked again at start, and an activity's class is imported, from the module its
  descriptor names, only when it is asked for, so running one activity imports only its
  module. Plugins are loaded, and their descriptors built and checked, when it is made.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .catalogue import Catalogue

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from .activity import Activity

ACTIVITIES_PACKAGE = "s3_connector.activities"
PLUGIN_GROUP = "s3_connector.activities"
"""Entry-point group through which other packages add activities: `name = "module:Class"`."""
SHIPPED_ORIGIN = "s3-connector"


def shipped_activity_classes() -> list[type[Activity]]:
    """Every concrete Activity subclass defined in the activities package, by id."""
    import pkgutil

    package = import_module(ACTIVITIES_PACKAGE)
    found: dict[str, type[Activity]] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        module = import_module(f"{ACTIVITIES_PACKAGE}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if _is_activity(cls) and cls.__module__ == module.__name__:
                found[cls.id] = cls
    return [found[key] for key in sorted(found)]


def entry_points(group: str) -> list[EntryPoint]:
    """The installed entry points of `group`, as `importlib.metadata.entry_points` finds them.

    importlib.metadata is imported only when some distribution's entry_points.txt names the
    group: its import alone takes longer than the rest of `s3c descriptors list`, and the
    common case is no plugin at all."""
    if not _may_declare(group):
        return []
    from importlib.metadata import entry_points as installed_entry_points

    return list(installed_entry_points(group=group))


def _may_declare(group: str) -> bool:
    """False when no distribution importlib.metadata would find declares entry points of
    `group`; True when one may, or when it finds distributions in ways not looked at here
    (zip archives, eggs, other finders), so that importlib.metadata answers."""
    from importlib.machinery import PathFinder

    if any(
        hasattr(finder, "find_distributions") and finder is not PathFinder
        for finder in sys.meta_path
    ):
        return True
    needle = group.encode()
    for entry in sys.path:
        root = entry or "."
        if not os.path.isdir(root):
            if os.path.exists(root):
                return True
            continue
        if os.path.basename(root).lower().endswith(".egg"):
            return True
        try:
            names = os.listdir(root)
        except OSError:
            continue
        for name in names:
            if name.lower().endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(root, name, "entry_points.txt"), "rb") as file:
                        if needle in file.read():
                            return True
                except OSError:
                    continue
    return False


def plugin_entry_points() -> list[EntryPoint]:
    """The installed plugin activities' entry points, by name."""
    return sorted(entry_points(group=PLUGIN_GROUP), key=lambda ep: ep.name)


def plugin_origin(entry_point: EntryPoint) -> str:
    dist = entry_point.dist.name if entry_point.dist else "unknown distribution"
    return f"plugin {entry_point.name} ({dist})"


def load_plugin(entry_point: EntryPoint) -> type[Activity]:
    """The Activity class an entry point names, its descriptor checked against the
    meta-schema (a plugin is checked when it is loaded; shipped ones by the tests)."""
    return _load_plugin(entry_point)[0]


def _load_plugin(entry_point: EntryPoint) -> tuple[type[Activity], dict[str, Any]]:
    from .descriptor_builder import activity_descriptor
    from .descriptor_checks import DescriptorError, check_descriptor

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
    return cls, descriptor


def _is_activity(cls: Any) -> bool:
    from .activity import Activity

    return inspect.isclass(cls) and issubclass(cls, Activity) and "id" in vars(cls)


class Registry:
    """Activities by id, with their descriptors: built from the classes given, and served from
    `catalogue` (an export, see the module's docstring) for the activities it holds."""

    def __init__(
        self,
        classes: Iterable[type[Activity]] = (),
        origins: Iterable[str] | None = None,
        *,
        catalogue: Catalogue | None = None,
    ):
        """`classes` with their `origins` (default: shipped); `catalogue`'s activities, shipped,
        come first. An id declared twice is refused, naming both origins."""
        self._catalogue = catalogue
        self._classes: dict[str, type[Activity]] = {}
        self._descriptors: dict[str, dict[str, Any]] = {}
        self._exported: frozenset[str] = frozenset(catalogue.ids if catalogue else ())
        self.origins: dict[str, str] = dict.fromkeys(sorted(self._exported), SHIPPED_ORIGIN)
        classes = list(classes)
        for cls, origin in zip(classes, origins or [SHIPPED_ORIGIN] * len(classes), strict=True):
            known = self.origins.get(cls.id)
            if known is not None:
                from .descriptor_checks import DescriptorError

                raise DescriptorError(
                    f"activity id {cls.id} of {origin} is already declared by {known}",
                    field="activity",
                )
            self._classes[cls.id] = cls
            self.origins[cls.id] = origin

    @classmethod
    @cache
    def shipped(cls) -> Registry:
        """The activities of the activities package, built from their classes."""
        return cls(shipped_activity_classes())

    @classmethod
    @cache
    def installed(cls) -> Registry:
        """The shipped activities, served from their exported descriptors, and every installed
        plugin activity, loaded and checked."""
        plugins = [
            (entry_point, *_load_plugin(entry_point)) for entry_point in plugin_entry_points()
        ]
        registry = cls(
            [plugin for _, plugin, _ in plugins],
            [plugin_origin(entry_point) for entry_point, _, _ in plugins],
            catalogue=Catalogue.shipped(),
        )
        registry._descriptors.update((plugin.id, built) for _, plugin, built in plugins)
        return registry

    @property
    def ids(self) -> list[str]:
        return sorted(self.origins)

    def __contains__(self, activity_id: object) -> bool:
        return activity_id in self.origins

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def activity_class(self, activity_id: str) -> type[Activity]:
        """The activity's class. One the catalogue holds is imported, from the module its
        descriptor names, when first asked for; so is one of the activities package that it
        does not hold yet (scaffolded, not exported), found by its module's name, `ID.py`."""
        cls = self._classes.get(activity_id)
        if cls is None:
            if activity_id in self._exported:
                cls = self._exported_class(activity_id)
            else:
                cls = self._unexported_class(activity_id)
                self.origins[activity_id] = SHIPPED_ORIGIN
            self._classes[activity_id] = cls
        return cls

    def descriptor(self, activity_id: str) -> dict[str, Any]:
        """The activity's descriptor: read from the catalogue for an exported activity, else
        built from its class, the first time it is asked for."""
        descriptor = self._descriptors.get(activity_id)
        if descriptor is None:
            if activity_id in self._exported:
                descriptor = self._read(activity_id)
            else:
                from .descriptor_builder import activity_descriptor

                descriptor = activity_descriptor(self.activity_class(activity_id))
            self._descriptors[activity_id] = descriptor
        return descriptor

    @property
    def connection(self) -> dict[str, Any]:
        if self._catalogue is not None:
            return self._read("connection")
        return _connection()

    @property
    def activities(self) -> Mapping[str, dict[str, Any]]:
        """Every activity's descriptor, by id."""
        return {activity_id: self.descriptor(activity_id) for activity_id in self.ids}

    def descriptors(self) -> dict[str, dict[str, Any]]:
        """The connection's and every activity's descriptor, by id (`connection` first)."""
        return {"connection": self.connection, **self.activities}

    def _unexported_class(self, activity_id: str) -> type[Activity]:
        found = None
        if self._catalogue is not None and _is_module_name(activity_id):
            module_name = f"{ACTIVITIES_PACKAGE}.{activity_id}"
            try:
                module = import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
            else:
                found = next(
                    (
                        cls
                        for _, cls in inspect.getmembers(module, _is_activity)
                        if cls.id == activity_id and cls.__module__ == module_name
                    ),
                    None,
                )
        if found is None:
            from .errors import InvalidInput

            known = ", ".join(self.ids)
            raise InvalidInput(
                f"unknown activity '{activity_id}' (known: {known})", field="activity"
            )
        return found

    def _read(self, descriptor_id: str) -> dict[str, Any]:
        try:
            return (self._catalogue or Catalogue.shipped()).descriptor(descriptor_id)
        except (OSError, ValueError) as exc:
            from .descriptor_checks import DescriptorError

            raise DescriptorError(
                f"the exported descriptor {descriptor_id}.json cannot be used ({exc}); "
                "regenerate descriptors/ with `make descriptors`"
            ) from None

    def _exported_class(self, activity_id: str) -> type[Activity]:
        """The class an exported descriptor names (`module:Class`), with the module imported
        now; refused when it is not that activity's class (a stale export)."""
        path = self.descriptor(activity_id).get("class", "")
        module_name, _, qualname = path.partition(":")
        found: Any = None
        try:
            if not module_name.startswith(f"{ACTIVITIES_PACKAGE}."):
                raise ValueError(f"{module_name} is not a module of {ACTIVITIES_PACKAGE}")
            found = import_module(module_name)
            for part in qualname.split("."):
                found = getattr(found, part)
        except ModuleNotFoundError as exc:
            if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
                raise  # a module the activity's module imports is missing
            found = None
        except (AttributeError, ValueError):
            found = None
        if not (_is_activity(found) and found.id == activity_id):
            from .descriptor_checks import DescriptorError

            raise DescriptorError(
                f"descriptors/{activity_id}.json names the class {path!r}, which is not the "
                f"class of {activity_id}; regenerate descriptors/ with `make descriptors`",
                field="activity",
            )
        return found


def _is_module_name(name: str) -> bool:
    return name.isidentifier() and not name.startswith("_")


@cache
def _connection() -> dict[str, Any]:
    from .descriptor_builder import connection_descriptor

    return connection_descriptor()
