"""JSON output for responses whose large parts (listings) are produced lazily."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TextIO


class Deferred:
    """A value known only after the lazy parts before it have been consumed."""

    __slots__ = ("_compute",)

    def __init__(self, compute: Callable[[], Any]):
        self._compute = compute

    def __call__(self) -> Any:
        return self._compute()


class _Lazy(Exception):
    """Raised by the encoder at a value that must be streamed (see `write_json`)."""


def _default(value: Any) -> Any:
    """What the encoder cannot encode itself: a lazy value (or a mapping other than a dict,
    which may hold one) is written by `_write_parts`; anything else is its `str`."""
    if isinstance(value, Deferred | Iterator | Mapping):
        raise _Lazy
    return str(value)


def _compact_encoder() -> Callable[[Any], str]:
    """`json.dumps(value, separators=(",", ":"), default=str)` refusing lazy values: the C
    encoder, made once rather than for each call as `json.dumps` and `JSONEncoder.encode` do
    (without the check for circular references, which only turns their ValueError into a
    RecursionError); `JSONEncoder.encode` where the C accelerator is missing."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(separators=(",", ":"), default=_default).encode
    chunks = make(
        None, _default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True
    )
    join = "".join

    def encode(value: Any) -> str:
        return join(chunks(value, 0))

    return encode


_encode = _compact_encoder()
_KEY = json.JSONEncoder().encode


def compact_json(value: Any) -> str | None:
    """`value` as compact JSON in one piece (one call of the C encoder), or None when part
    of it is lazy: the encoder stops there, before computing or reading it, and `value` is
    then to be written with `write_json`."""
    try:
        return _encode(value)
    except _Lazy:
        return None


def write_json(value: Any, out: TextIO) -> None:
    """Write `value` as compact JSON, streaming iterators item by item and computing each
    deferred value when its turn comes; each part with nothing lazy in it (an entry of a
    listing) is encoded in one piece."""
    text = compact_json(value)
    if text is None:
        _write_parts(value, out)
    else:
        out.write(text)


def _write_parts(value: Any, out: TextIO) -> None:
    if isinstance(value, Deferred):
        write_json(value(), out)
    elif isinstance(value, Mapping):
        separator = "{"
        for key, item in value.items():
            out.write(separator + _KEY(str(key)) + ":")
            write_json(item, out)
            separator = ","
        out.write("{}" if separator == "{" else "}")
    else:  # a list, tuple or iterator
        _write_items(value, out)


def _write_items(items: Any, out: TextIO) -> None:
    """`[item,...]`, each item written as soon as the iterator gives it."""
    encode = _encode
    separator = "["
    for item in items:
        try:
            text = encode(item)
        except _Lazy:
            out.write(separator)
            _write_parts(item, out)
        else:
            out.write(separator + text)
        separator = ","
    out.write("[]" if separator == "[" else "]")


def materialize(value: Any) -> Any:
    """The same value with iterators turned into lists and deferred values computed."""
    if isinstance(value, Deferred):
        return materialize(value())
    if isinstance(value, Mapping):
        return {key: materialize(item) for key, item in value.items()}
    if isinstance(value, list | tuple | Iterator):
        return [materialize(item) for item in value]
    return value
