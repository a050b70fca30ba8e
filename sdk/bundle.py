"""The bundle a designer loads: every descriptor of the installed registry, the meta-schema
they follow, and the plain JSON Schema of the connection's and each activity's settings."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from s3_connector.connector.descriptor_checks import meta_schema
from s3_connector.connector.fields import STRICT_INPUT_RULES, InputRules
from s3_connector.connector.json_schema import settings_schema
from s3_connector.connector.registry import Registry

BUNDLE_FORMAT = "s3-connector/bundle/v2"


def bundle(registry: Registry | None = None) -> dict[str, Any]:
    """The bundle of `registry` (the installed one by default); its JSON Schemas follow the
    strict input rules (Amazon S3, no control characters in keys)."""
    registry = registry or Registry.installed()
    return {
        "format": BUNDLE_FORMAT,
        "connector": "s3-connector",
        "version": version("s3-connector"),
        "meta_schema": meta_schema(),
        "connection": registry.connection,
        "activities": list(registry.activities.values()),
        "json_schemas": json_schemas(registry),
    }


def json_schemas(
    registry: Registry | None = None, rules: InputRules = STRICT_INPUT_RULES
) -> dict[str, dict[str, Any]]:
    """The JSON Schema of the connection's settings and of each activity's, by id."""
    registry = registry or Registry.installed()
    return {key: json_schema(key, registry, rules) for key in ["connection", *registry.ids]}


def json_schema(
    descriptor_id: str, registry: Registry | None = None, rules: InputRules = STRICT_INPUT_RULES
) -> dict[str, Any]:
    """The JSON Schema of one descriptor's settings (`connection` or an activity id), built
    from the same marshmallow schema that loads them."""
    registry = registry or Registry.installed()
    if descriptor_id == "connection":
        from s3_connector.connector.connection import ConnectionSchema

        descriptor, schema_class = registry.connection, ConnectionSchema
    else:
        descriptor = registry.descriptor(descriptor_id)
        schema_class = registry.activity_class(descriptor_id).Settings
    return settings_schema(
        schema_class,
        title=descriptor["name"],
        description=descriptor["description"],
        schema_id=f"urn:s3-connector:settings:{descriptor_id}",
        rules=rules,
    )
