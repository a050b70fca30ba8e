"""Base classes for activities: one S3 operation a designer configures and a harness runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from marshmallow import Schema

if TYPE_CHECKING:
    from .connection import Connection
    from .documents import Document


class Activity:
    """An activity class is also its descriptor's source: the class attributes below and the
    field metadata of `Settings` are what `descriptor_builder` writes to `descriptors/`."""

    id: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    role: ClassVar[str]
    Settings: ClassVar[type[Schema]]
    reads: ClassVar[tuple[str, ...]] = ()
    """Document properties the activity reads (besides its dynamic fields)."""
    writes: ClassVar[tuple[str, ...]] = ()
    """Document properties the activity sets on the documents it emits."""
    content: ClassVar[str] = "none"
    """What happens to document content: `consumes`, `produces` or `none`."""
    response: ClassVar[dict[str, Any]]
    """JSON Schema of the properties of each response document."""
    permissions: ClassVar[tuple[dict[str, str], ...]]
    """IAM actions: {"action": ..., "resource": "bucket" | "object" | "*", "when": field}."""
    concurrent: ClassVar[bool] = False
    """Documents may be processed concurrently (responses still come out in order)."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def run(self, document: Document, settings: dict[str, Any]) -> Iterable[Document]:
        """Process one document with its resolved settings; yield response documents."""
        raise NotImplementedError


class SourceActivity(Activity):
    """Produces documents (with content) from S3; run once per request document."""

    role = "source"
    content = "produces"


class TargetActivity(Activity):
    """Consumes documents and returns one response document for each."""

    role = "target"
