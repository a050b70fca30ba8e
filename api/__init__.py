"""s3-connector: an Amazon S3 connector for integration platforms.

The public API, for hosts that embed the connector::

    from s3_connector import Connection, Document, Harness

    harness = Harness(Connection({"auth": "default_chain"}))
    [stored] = harness.run("put_object", {"bucket": "data-in"}, [Document.from_path("a.csv")])
    [fetched] = harness.run("get_object", {"bucket": "data-in", "key": "a.csv"})
    with fetched.open() as stream:
        print(stream.read())

`run()` returns once every document has run (`lazy=True` yields responses as they come);
see docs/harness.md.

Names are imported when first used, so `import s3_connector` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Connection": "s3_connector.connector.connection",
    "Harness": "s3_connector.connector.harness",
    "Document": "s3_connector.connector.documents",
    "Activity": "s3_connector.connector.activity",
    "SourceActivity": "s3_connector.connector.activity",
    "TargetActivity": "s3_connector.connector.activity",
    "ConnectorError": "s3_connector.connector.errors",
    "InvalidInput": "s3_connector.connector.errors",
    "NotFound": "s3_connector.connector.errors",
    "AccessDenied": "s3_connector.connector.errors",
    "NoCredentials": "s3_connector.connector.errors",
    "PreconditionFailed": "s3_connector.connector.errors",
    "Conflict": "s3_connector.connector.errors",
    "TransientFailure": "s3_connector.connector.errors",
    "Throttled": "s3_connector.connector.errors",
    "IntegrityError": "s3_connector.connector.errors",
    "LocalWriteError": "s3_connector.connector.errors",
    "Cancelled": "s3_connector.connector.errors",
}

__all__ = [
    "AccessDenied",
    "Activity",
    "Cancelled",
    "Conflict",
    "Connection",
    "ConnectorError",
    "Document",
    "Harness",
    "IntegrityError",
    "InvalidInput",
    "LocalWriteError",
    "NoCredentials",
    "NotFound",
    "PreconditionFailed",
    "SourceActivity",
    "TargetActivity",
    "Throttled",
    "TransientFailure",
]

if TYPE_CHECKING:
    from s3_connector.connector.activity import Activity, SourceActivity, TargetActivity
    from s3_connector.connector.connection import Connection
    from s3_connector.connector.documents import Document
    from s3_connector.connector.errors import (
        AccessDenied,
        Cancelled,
        Conflict,
        ConnectorError,
        IntegrityError,
        InvalidInput,
        LocalWriteError,
        NoCredentials,
        NotFound,
        PreconditionFailed,
        Throttled,
        TransientFailure,
    )
    from s3_connector.connector.harness import Harness


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 's3_connector' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
