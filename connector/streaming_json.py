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


def _is_lazy(value: Any) -> bool:
    return isinstance(value, Deferred | Iterator)


def write_json(value: Any, out: TextIO) -> None:
    """Write `value` as compact JSON, streaming iterators item by item."""
    if isinstance(value, Mapping) and not any(_is_lazy(item) for item in value.values()):
        out.write(json.dumps(value, separators=(",", ":"), default=str))
    elif isinstance(value, Deferred):
        write_json(value(), out)
    elif isinstance(value, Mapping):
        out.write("{")
        for index, (key, item) in enumerate(value.items()):
            out.write(("," if index else "") + json.dumps(str(key)) + ":")
            write_json(item, out)
        out.write("}")
    elif isinstance(value, list | tuple | Iterator):
        out.write("[")
        for index, item in enumerate(value):
            if index:
                out.write(",")
            write_json(item, out)
        out.write("]")
    else:
        out.write(json.dumps(value, separators=(",", ":"), default=str))


def materialize(value: Any) -> Any:
    """The same value with iterators turned into lists and deferred values computed."""
    if isinstance(value, Deferred):
        return materialize(value())
    if isinstance(value, Mapping):
        return {key: materialize(item) for key, item in value.items()}
    if isinstance(value, list | tuple | Iterator):
        return [materialize(item) for item in value]
    return value
