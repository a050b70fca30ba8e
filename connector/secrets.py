"""A wrapper that keeps secret values out of repr, str, logs and errors."""

from __future__ import annotations

from .redaction import register


class Secret:
    """A secret string: `reveal()` gives the value; every other view shows a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value
        register(value)  # masked wherever it might show: errors, logs (see `redaction`)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):
        raise TypeError("a Secret cannot be pickled")


def reveal(value: Secret | str | None) -> str | None:
    """The plain value of a Secret (or of a plain string), None for None."""
    return value.reveal() if isinstance(value, Secret) else value
