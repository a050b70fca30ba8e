"""The live choices of a field: the values its `choices_from` activity lists (a bucket
picker filled from List Buckets), as a designer offers them."""

from __future__ import annotations

from typing import Any

from s3_connector.connector.connection import Connection
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.harness import Harness
from s3_connector.connector.registry import Registry


def field_choices(
    descriptor_id: str, field_name: str, connection: Connection, registry: Registry | None = None
) -> list[tuple[Any, str]]:
    """(value, label) pairs for `field_name` of `descriptor_id`, from the activity its
    descriptor names in `choices_from`, run once on `connection` with no settings."""
    registry = registry or Registry.installed()
    descriptor = registry.connection if descriptor_id == "connection" else None
    descriptor = descriptor or registry.descriptor(descriptor_id)
    fields = {field["name"]: field for field in descriptor["fields"]}
    if field_name not in fields:
        known = ", ".join(fields)
        raise InvalidInput(f"unknown field '{field_name}' (known: {known})", field="FIELD")
    source = fields[field_name].get("choices_from")
    if source is None:
        offered = [name for name, field in fields.items() if "choices_from" in field]
        hint = f"fields with choices: {', '.join(offered)}" if offered else "no field has any"
        raise InvalidInput(f"{field_name} has no choices_from ({hint})", field="FIELD")
    responses = Harness(connection, registry=registry).run(source["activity"], {}, [Document({})])
    pairs = []
    for response in responses:
        items = (
            response.properties.get(source["items"]) if "items" in source else [response.properties]
        )
        for item in items or []:
            value = item[source["value"]]
            pairs.append((value, str(item.get(source.get("label", source["value"]), value))))
    return pairs
