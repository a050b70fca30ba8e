"""Marshmallow fields and field metadata shared by the connection and the activities.

Field metadata (see `describe`) is what the descriptors are generated from, so a
schema declared with these helpers is the single source of truth for its descriptor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from marshmallow import ValidationError, fields, validate

from .conditions import Condition
from .secrets import Secret


def describe(
    label: str,
    description: str,
    *,
    group: str,
    dynamic: bool = False,
    condition: Condition | None = None,
    required_when: Condition | None = None,
) -> dict[str, Any]:
    """Metadata for a field: how a designer shows it and whether a document may set it.
    `condition`: the field is shown, and accepted, only when it holds; `required_when`: the
    field must be set when it holds (see `conditions`). Whether a field is secret is said by
    its type (`SecretField`), nowhere else."""
    meta: dict[str, Any] = {
        "label": label,
        "description": description,
        "group": group,
        "dynamic": dynamic,
    }
    if condition is not None:
        meta["condition"] = condition
    if required_when is not None:
        meta["required_when"] = required_when
    return meta


class SecretField:
    """Marks a field whose value is a secret: the descriptor says `secret`, designers mask it,
    and the value loads into a `Secret` that never shows in repr, logs or errors."""


def is_secret(field: fields.Field) -> bool:
    return isinstance(field, SecretField)


class SecretString(SecretField, fields.String):
    """A string that loads into a `Secret`, so it never shows in repr or logs."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, Secret):
            value = value.reveal()
        return Secret(super()._deserialize(value, attr, data, **kwargs))

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, Secret):
            value = value.reveal()
        return super()._serialize(value, attr, obj, **kwargs)


BUCKET_NAME_PATTERN = (
    r"^(?!\d+\.\d+\.\d+\.\d+$)(?!xn--)(?!sthree-)(?!amzn-s3-demo-)(?!.*\.\.)"
    r"(?!.*-s3alias$)(?!.*--ol-s3$)(?!.*\.mrap$)(?!.*--x-s3$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
)
BUCKET_NAME_RULE = (
    "must be a valid S3 bucket name: 3 to 63 characters of lowercase letters, digits, "
    "dots and hyphens, starting and ending with a letter or digit, no '..', not an IP "
    "address, no reserved prefix or suffix"
)


class BucketName(fields.String):
    """An S3 bucket name, checked against S3's naming rules."""

    def __init__(self, **kwargs):
        super().__init__(
            validate=[
                validate.Length(min=3, max=63, error=BUCKET_NAME_RULE),
                validate.Regexp(BUCKET_NAME_PATTERN, error=BUCKET_NAME_RULE),
            ],
            **kwargs,
        )


class ObjectKey(fields.String):
    """An S3 object key: 1 to 1,024 characters."""

    def __init__(self, **kwargs):
        super().__init__(
            validate=validate.Length(min=1, max=1024, error="must be 1 to 1024 characters"),
            **kwargs,
        )


REGION_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$"


class RegionName(fields.String):
    """A region name such as `eu-west-1` (S3-compatible servers may use their own)."""

    def __init__(self, **kwargs):
        super().__init__(
            validate=validate.Regexp(
                REGION_PATTERN, error="must be a region name such as eu-west-1"
            ),
            **kwargs,
        )


class SseCustomerKey(Secret):
    """A validated SSE-C key; `request_params` gives the AES256 headers with their MD5."""

    __slots__ = ()

    def request_params(self, prefix: str = "SSECustomer") -> dict[str, str]:
        raw = base64.b64decode(self.reveal())
        return {
            f"{prefix}Algorithm": "AES256",
            f"{prefix}Key": base64.b64encode(raw).decode("ascii"),
            f"{prefix}KeyMD5": base64.b64encode(hashlib.md5(raw).digest()).decode("ascii"),
        }


SSE_C_RULE = "must be the base64 encoding of a 32-byte (256-bit) key"


class _SecretRegexp(validate.Regexp):
    """A pattern checked on a secret's plain value (and stated in the descriptor)."""

    def __call__(self, value: Any) -> Any:
        super().__call__(value.reveal() if isinstance(value, Secret) else value)
        return value


class SseCustomerKeyField(SecretField, fields.String):
    """A customer-provided encryption key: base64 of exactly 32 bytes."""

    def __init__(self, **kwargs):
        super().__init__(
            validate=_SecretRegexp(r"^[A-Za-z0-9+/]{43}=$", error=SSE_C_RULE), **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, Secret):
            value = value.reveal()
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(f"{SSE_C_RULE} (it is not valid base64)") from None
        if len(raw) != 32:
            raise ValidationError(f"{SSE_C_RULE} (it decodes to {len(raw)} bytes)")
        return SseCustomerKey(text)

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, Secret):
            value = value.reveal()
        return super()._serialize(value, attr, obj, **kwargs)


class StringMap(fields.Dict):
    """An object whose values are strings, e.g. S3 user metadata."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)
