"""Write: store a JSON value or a string, given inline, as an object."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from marshmallow import ValidationError, fields, validate

from s3_connector.connector.documents import INLINE_LIMIT, Document
from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.fields import InputRules, ValueRules, describe

from .common import sse_c_key_field
from .storing import (
    WRITE_SSE_C_KEY,
    LocatedSettings,
    StoringActivity,
    content_type_field,
    metadata_field,
    object_key,
    overwrite_field,
    storage_class_field,
    store_object,
)

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
DATA_LIMIT = INLINE_LIMIT


class DataRules(validate.Validator):
    """`data` is checked as the settings load, before anything runs."""

    def __call__(self, value: Any) -> Any:
        try:
            encode(value)
        except InvalidInput as exc:
            raise ValidationError(exc.message) from None
        return value

    def value_rules(self, rules: InputRules) -> ValueRules:
        return ValueRules(runtime=("text must be valid Unicode (no lone surrogate)",))


class WriteSettings(LocatedSettings):
    data = fields.Raw(
        required=True,
        allow_none=True,
        validate=DataRules(),
        metadata=describe(
            "Data",
            "What to store: a string is stored as UTF-8 text; any other JSON value (object, "
            "array, number, boolean, null) as compact JSON. At most 16 MiB once encoded.",
            group="object",
            dynamic=True,
        ),
    )
    content_type = content_type_field(
        "Media type of the object. When empty: application/json for JSON data, "
        "text/plain; charset=utf-8 for a string."
    )
    metadata = metadata_field()
    storage_class = storage_class_field()
    overwrite = overwrite_field(default=False)
    sse_c_key = sse_c_key_field(WRITE_SSE_C_KEY)


def encode(data: Any) -> tuple[bytes, str]:
    """The bytes to store for `data` and their default content type."""
    if isinstance(data, str):
        return _utf8(data), TEXT_TYPE
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        raise InvalidInput(
            "must be JSON: NaN and Infinity have no JSON form", field="data"
        ) from None
    except (TypeError, RecursionError) as exc:
        raise InvalidInput(f"must be a JSON value or a string ({exc})", field="data") from None
    return _utf8(text), JSON_TYPE


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            "must be text UTF-8 can encode (it holds a lone surrogate)", field="data"
        ) from None


class Write(StoringActivity):
    id = "write"
    name = "Write"
    description = (
        "Stores inline data as an object (target): a JSON value as JSON, a string as text. "
        "By default the write is atomic and conditional and fails if the key exists."
    )
    Settings = WriteSettings
    reads = ("file_name",)

    def run(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        key = object_key(settings)
        body, default_type = encode(settings["data"])
        if len(body) > DATA_LIMIT:
            raise InvalidInput(
                f"must be at most {DATA_LIMIT // (1024 * 1024)} MiB encoded "
                f"(it is {len(body)} bytes); use put_object for larger content",
                field="data",
            )
        content_type = settings.get("content_type") or default_type
        yield Document(store_object(self.connection, settings, key, body, content_type))
