"""The bundle a designer loads: every descriptor of the installed registry, the meta-schema
they follow, and the plain JSON Schema of the connection's and each activity's settings."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from s3_connector.connector.descriptor_checks import meta_schema
from s3_connector.connector.registry import Registry

BUNDLE_FORMAT = "s3-connector/bundle/v1"


def bundle(registry: Registry | None = None) -> dict[str, Any]:
    """The bundle of `registry` (the installed one by default)."""
    registry = registry or Registry.installed()
    return {
        "format": BUNDLE_FORMAT,
        "connector": "s3-connector",
        "version": version("s3-connector"),
        "meta_schema": meta_schema(),
        "connection": registry.connection,
        "activities": list(registry.activities.values()),
    }
