"""Marshmallow fields and field metadata shared by the connection and the activities.

Field metadata (see `describe`) is what the descriptors are generated from, so a
schema declared with these helpers is the single source of truth for its descriptor.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from marshmallow import ValidationError, fields, validate

from .conditions import Condition
from .redaction import register_sse_c_key
from .secrets import Secret


def describe(
    label: str,
    description: str,
    *,
    group: str,
    dynamic: bool = False,
    condition: Condition | None = None,
    required_when: Condition | None = None,
    labels: dict[str, str] | None = None,
    placeholder: str | None = None,
    examples: list[Any] | None = None,
    choices_from: dict[str, str] | None = None,
    deprecated: bool = False,
) -> dict[str, Any]:
    """Metadata for a field: how a designer shows it and whether a document may set it.
    `description` is CommonMark. `condition`: the field is shown, and accepted, only when it
    holds; `required_when`: the field must be set when it holds (see `conditions`).
    `labels`: a readable label for each allowed value; `placeholder` and `examples`: what a
    form shows in an empty input; `choices_from`: an activity whose responses list the values
    a designer may offer (`{"activity": "list_buckets", "value": "name"}`). Whether a field is
    secret is said by its type (`SecretField`), nowhere else."""
    meta: dict[str, Any] = {
        "label": label,
        "description": description,
        "group": group,
        "dynamic": dynamic,
    }
    optional = {
        "condition": condition,
        "required_when": required_when,
        "enum_labels": labels,
        "placeholder": placeholder,
        "examples": examples,
        "choices_from": choices_from,
    }
    meta.update({key: value for key, value in optional.items() if value is not None})
    if deprecated:
        meta["deprecated"] = True
    return meta


@dataclass(frozen=True)
class ValueRules:
    """What a validator checks, for a designer: JSON Schema keywords (`schema`), a readable
    message per keyword (`messages`), and the rules only the connector can check (`runtime`,
    readable; a form cannot, e.g. a file's content or a length in bytes of UTF-8)."""

    schema: dict[str, Any] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    runtime: tuple[str, ...] = ()


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


class FullMatch(validate.Regexp):
    """A pattern the whole string must match (`re.fullmatch`). marshmallow's `Regexp` only
    anchors the start, and `$` also matches before a trailing newline, so `^a$` would let
    "a\n" through. The pattern text stays ECMA-262 compatible (`^...$`, no `\\Z`, no named
    groups, no inline flags, ASCII classes rather than `\\w` and `\\d`), because designers check
    the same pattern, from the descriptor, in a browser."""

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value

    def value_rules(self, rules: InputRules) -> ValueRules:
        return ValueRules({"pattern": self.regex.pattern}, {"pattern": self.error})


HTTP_URL_RULE = "must be an http or https URL such as http://127.0.0.1:8333"


class HttpUrl(validate.Validator):
    """An http(s) URL with a host, no credentials and no whitespace. (marshmallow's URL
    validator compiles a Unicode-wide pattern on first use, a quarter of a second.)"""

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or any(char.isspace() for char in value):
            raise ValidationError(HTTP_URL_RULE)
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            raise ValidationError(HTTP_URL_RULE) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(HTTP_URL_RULE)
        if "@" in parts.netloc:
            raise ValidationError(f"{HTTP_URL_RULE}, without credentials in it")
        return value

    def value_rules(self, rules: InputRules) -> ValueRules:
        return ValueRules({"pattern": HTTP_URL_SHAPE}, {"pattern": HTTP_URL_RULE}, (HTTP_URL_RULE,))


_SPACE = r"\t-\r\u001c- \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""What `str.isspace` calls whitespace, as an ECMA-262 class body."""
HTTP_URL_SHAPE = f"^[Hh][Tt][Tt][Pp][Ss]?://[^{_SPACE}/?#@]+(?:[/?#][^{_SPACE}]*)?$"
"""What a form can check of an http(s) URL (a host's port and brackets: `HttpUrl` only)."""


PEM_FILE_RULE = "must be the path of a readable PEM file of CA certificates"
_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


class PemFile(validate.Validator):
    """The path of an existing, readable regular file holding at least one PEM certificate
    (a CA bundle, as botocore's `verify` and awscrt's trust store take it)."""

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip() or "\x00" in value:
            raise ValidationError(PEM_FILE_RULE)
        if os.path.exists(value) and not os.path.isfile(value):
            raise ValidationError(f"{PEM_FILE_RULE} ({value} is not a regular file)")
        try:
            with open(value, "rb") as file:
                head = file.read(PEM_SCAN_BYTES)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ValidationError(f"{PEM_FILE_RULE} ({value}: {reason.lower()})") from None
        if _PEM_CERTIFICATE not in head:
            raise ValidationError(f"{PEM_FILE_RULE} ({value} holds no BEGIN CERTIFICATE block)")
        return value

    def value_rules(self, rules: InputRules) -> ValueRules:
        return ValueRules(runtime=(PEM_FILE_RULE,))


PEM_SCAN_BYTES = 4 * 1024 * 1024
"""How much of a CA bundle is searched for its first certificate (system bundles are
about 200 KB)."""


# --- rules that depend on the connection ---------------------------------------------------


@dataclass(frozen=True)
class InputRules:
    """What the connection allows in settings: control characters in keys and prefixes
    (`allow_control_characters`), and any region name (a custom `endpoint_url`; on Amazon S3 a
    region must be one of AWS's)."""

    allow_control_characters: bool = False
    custom_endpoint: bool = False


STRICT_INPUT_RULES = InputRules()
_INPUT_RULES: ContextVar[InputRules | None] = ContextVar("s3_connector_input_rules", default=None)
"""The rules of the connection whose activity's settings are being loaded; the harness sets
them around each load (`input_rules`). Outside it, the strict defaults apply."""


@contextmanager
def input_rules(rules: InputRules) -> Iterator[None]:
    """Load settings under `rules` (the harness does, with its connection's)."""
    token = _INPUT_RULES.set(rules)
    try:
        yield
    finally:
        _INPUT_RULES.reset(token)


def current_input_rules() -> InputRules:
    return _INPUT_RULES.get() or STRICT_INPUT_RULES


# --- bucket names ---------------------------------------------------------------------------


BUCKET_NAME_PATTERN = (
    r"^(?![0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$)(?!xn--)(?!sthree-)(?!amzn-s3-demo-)(?!.*\.\.)"
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
                FullMatch(BUCKET_NAME_PATTERN, error=BUCKET_NAME_RULE),
            ],
            **kwargs,
        )


# --- keys, prefixes and other text sent to S3 -------------------------------------------------


_CONTROL_CHARACTER = re.compile(r"[\x01-\x1f\x7f]")
MAX_KEY_BYTES = 1024
"""S3's limit on an object key, in bytes of UTF-8."""


def utf8_size(value: str) -> int:
    """Bytes of `value` in UTF-8, or raise ValidationError when it cannot be encoded (a lone
    surrogate: JSON's `\\udc80`, or a command-line argument that was not UTF-8)."""
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"must be valid Unicode text: character {exc.start + 1} is a lone surrogate "
            f"(U+{ord(value[exc.start]):04X}), which UTF-8 cannot encode"
        ) from None


def check_text(value: str, *, max_bytes: int | None = None) -> None:
    """The rules of text that S3 receives as a key, a prefix or a delimiter: UTF-8 encodable,
    no NUL, no control character (U+0001 to U+001F, U+007F) unless the connection allows them
    (`allow_control_characters`), and at most `max_bytes` bytes of UTF-8."""
    size = utf8_size(value)
    if "\x00" in value:
        raise ValidationError(
            f"must not contain the NUL character (U+0000, character {value.index(chr(0)) + 1})"
        )
    if not current_input_rules().allow_control_characters:
        control = _CONTROL_CHARACTER.search(value)
        if control is not None:
            raise ValidationError(
                f"must not contain control characters (U+{ord(control.group()):04X} at "
                f"character {control.start() + 1}); the connection's allow_control_characters "
                "allows them"
            )
    if max_bytes is not None and size > max_bytes:
        raise ValidationError(f"must be at most {max_bytes} bytes of UTF-8 (it is {size})")


class TextRules(validate.Validator):
    """`check_text` as a validator."""

    def __init__(self, *, max_bytes: int | None = None):
        self.max_bytes = max_bytes

    def __call__(self, value: Any) -> Any:
        check_text(value, max_bytes=self.max_bytes)
        return value

    def value_rules(self, rules: InputRules) -> ValueRules:
        if rules.allow_control_characters:
            pattern, message = r"^[^\u0000]*$", "must not contain the NUL character (U+0000)"
        else:
            pattern = r"^[^\u0000-\u001f\u007f]*$"
            message = (
                "must not contain NUL or control characters (U+0001 to U+001F, U+007F); the "
                "connection's allow_control_characters allows the latter"
            )
        schema: dict[str, Any] = {"pattern": pattern}
        runtime = ["must be valid Unicode (no lone surrogate)"]
        if self.max_bytes is not None:
            schema["x-maxUtf8Bytes"] = self.max_bytes
            runtime.append(f"must be at most {self.max_bytes} bytes of UTF-8")
        return ValueRules(schema, {"pattern": message}, tuple(runtime))


class KeyText(fields.String):
    """Text S3 receives as (part of) a key: a prefix, a start-after key, a folder, a file name,
    a delimiter. `check_text`'s rules, then `min_length` to `max_length` characters (the
    descriptor's limits) and at most `max_bytes` bytes of UTF-8."""

    def __init__(
        self,
        *,
        max_bytes: int | None = MAX_KEY_BYTES,
        min_length: int | None = None,
        max_length: int | None = None,
        **kwargs,
    ):
        rules: list[Any] = [TextRules(max_bytes=max_bytes)]
        if min_length is not None or max_length is not None:
            if max_length is None:
                error = f"must be at least {min_length} character{'s' * (min_length > 1)}"
            elif not min_length:
                error = f"must be at most {max_length} characters"
            else:
                error = f"must be {min_length} to {max_length} characters"
            rules.append(validate.Length(min=min_length, max=max_length, error=error))
        super().__init__(validate=rules, **kwargs)


class ObjectKey(KeyText):
    """An S3 object key: 1 to 1,024 bytes of UTF-8, no NUL, and no control characters unless
    the connection allows them (see `check_text`)."""

    def __init__(self, **kwargs):
        super().__init__(max_bytes=MAX_KEY_BYTES, min_length=1, max_length=MAX_KEY_BYTES, **kwargs)


# --- regions --------------------------------------------------------------------------------


REGION_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
"""A host label: what any S3-compatible server may call a region."""
REGION_RULE = "must be a region name such as eu-west-1"
AWS_REGION_RULE = (
    "must be an AWS region name such as eu-west-1 (other names need the connection's endpoint_url)"
)


_ECMA_CLASSES = {r"\-": "-", r"\w": "[A-Za-z0-9_]", r"\d": "[0-9]"}


@functools.cache
def aws_region_pattern() -> str:
    """An ECMA-262 pattern of AWS's region names: each partition's region regex and the named
    regions it does not match (aws-global...), from botocore's own data, within `REGION_PATTERN`.
    botocore's `\\w` and `\\d` become ASCII classes: the host label allows nothing else."""
    alternatives = []
    for partition in _partitions():
        regex = partition["regionRegex"].removeprefix("^").removesuffix("$")
        for escape, replacement in _ECMA_CLASSES.items():
            regex = regex.replace(escape, replacement)
        alternatives.append(regex)
        own = re.compile(regex)
        alternatives += sorted(n for n in partition.get("regions", {}) if not own.fullmatch(n))
    body = "|".join(f"(?:{alternative})" for alternative in alternatives)
    return f"^(?={REGION_PATTERN[1:-1]}$)(?:{body})$"


def _partitions() -> list[dict[str, Any]]:
    """botocore's partitions data, read from its package (importing botocore's loader would
    import most of botocore, 0.15 s): the file its loader finds when no ~/.aws/models
    overrides it."""
    import botocore

    path = os.path.join(os.path.dirname(botocore.__file__), "data", "partitions.json")
    if os.path.exists(path) and not os.path.isdir(os.path.expanduser("~/.aws/models")):
        with open(path, "rb") as data:
            return json.load(data)["partitions"]
    from botocore.loaders import create_loader

    return create_loader().load_data("partitions")["partitions"]


@functools.cache
def _aws_region() -> re.Pattern[str]:
    return re.compile(aws_region_pattern())


def is_aws_region(name: str) -> bool:
    """Whether `name` is a region of one of AWS's partitions (aws, aws-cn, aws-us-gov...)."""
    return _aws_region().fullmatch(name) is not None


class _AwsRegionUnlessCustomEndpoint(validate.Validator):
    """On Amazon S3 (no custom endpoint_url on the connection, see `InputRules`), a region
    must be one of AWS's."""

    def __call__(self, value: Any) -> Any:
        if not current_input_rules().custom_endpoint and not is_aws_region(value):
            raise ValidationError(AWS_REGION_RULE)
        return value

    def value_rules(self, rules: InputRules) -> ValueRules:
        if rules.custom_endpoint:
            return ValueRules()
        return ValueRules({"pattern": aws_region_pattern()}, {"pattern": AWS_REGION_RULE})


class RegionName(fields.String):
    """A region name such as `eu-west-1`: a host label of at most 63 characters, and one of
    AWS's regions unless the connection has a custom endpoint (S3-compatible servers may
    name their own). The connection's own region field passes `by_endpoint=False`: its
    schema checks it knowing its endpoint_url."""

    def __init__(self, *, by_endpoint: bool = True, **kwargs):
        rules: list[Any] = [FullMatch(REGION_PATTERN, error=REGION_RULE)]
        if by_endpoint:
            rules.append(_AwsRegionUnlessCustomEndpoint())
        super().__init__(validate=rules, **kwargs)


# --- numbers --------------------------------------------------------------------------------


WHOLE_NUMBER_RULE = "must be a whole number"
_INTEGRAL_TEXT = re.compile(r"[+-]?[0-9]+")


class WholeNumber(fields.Integer):
    """An integer: a JSON integer, an integral number (5.0) or the text of one ("5"); never
    1.5, "1.5", "5.0", a boolean, NaN or infinity."""

    default_error_messages = {"invalid": WHOLE_NUMBER_RULE, "too_large": WHOLE_NUMBER_RULE}

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if not value.is_integer():
                raise self.make_error("invalid", input=value)
            return int(value)
        if isinstance(value, str) and _INTEGRAL_TEXT.fullmatch(value):
            try:
                return int(value)
            except ValueError:  # more digits than int() converts
                raise self.make_error("invalid", input=value) from None
        raise self.make_error("invalid", input=value)


class SseCustomerKey(Secret):
    """A validated SSE-C key; `request_params` gives the AES256 headers with their MD5."""

    __slots__ = ()

    def __init__(self, value: str):
        super().__init__(value)
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return  # not a key: the field refuses it
        register_sse_c_key(raw)  # its raw bytes, hex and MD5 are masked too

    def request_params(self, prefix: str = "SSECustomer") -> dict[str, str]:
        raw = base64.b64decode(self.reveal())
        return {
            f"{prefix}Algorithm": "AES256",
            f"{prefix}Key": base64.b64encode(raw).decode("ascii"),
            f"{prefix}KeyMD5": base64.b64encode(hashlib.md5(raw).digest()).decode("ascii"),
        }


SSE_C_RULE = "must be the base64 encoding of a 32-byte (256-bit) key"


class SecretFullMatch(FullMatch):
    """A pattern checked on a secret's plain value (and stated in the descriptor)."""

    def __call__(self, value: Any) -> Any:
        super().__call__(value.reveal() if isinstance(value, Secret) else value)
        return value


class SseCustomerKeyField(SecretField, fields.String):
    """A customer-provided encryption key: base64 of exactly 32 bytes."""

    def __init__(self, **kwargs):
        super().__init__(
            validate=SecretFullMatch(r"^[A-Za-z0-9+/]{43}=$", error=SSE_C_RULE), **kwargs
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
