"""Helpers shared by the tests."""

from __future__ import annotations

import itertools
import uuid

MOTO_SETTINGS = {
    "auth": "access_keys",
    "access_key_id": "AKIAMOTO",
    "secret_access_key": "moto-secret",
    "region": "us-east-1",
}

_numbers = itertools.count()


def unique_bucket(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}-{next(_numbers)}"
