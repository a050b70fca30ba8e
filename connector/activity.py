"""Base classes for activities: one S3 operation a designer configures and a harness runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from marshmallow import EXCLUDE, Schema

if TYPE_CHECKING:
    from .cancellation import Sent
    from .connection import Connection
    from .documents import Document


@dataclass(frozen=True)
class Shape:
    """One of the shapes a response document can take, when a response schema describes more
    than one (List Objects: a listing, or one document per object): the properties that shape
    requires, and those it never has. A schema with shapes gets `oneOf` over them, and what
    they require replaces its fields' own `required`."""

    title: str
    required: tuple[str, ...]
    absent: tuple[str, ...] = ()


class ResponseSchema(Schema):
    """Base of response schemas. A field's `required` says the property is always there,
    `allow_none=True` that it may be null, `metadata={"description": ...}` describes it.
    Open by default: a document may carry properties the schema does not name; a schema with
    `class Meta: unknown = RAISE` is closed (`additionalProperties: false`)."""

    shapes: ClassVar[tuple[Shape, ...]] = ()

    class Meta:
        unknown = EXCLUDE


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
    Response: ClassVar[type[Schema]]
    """The properties of each response document, as a marshmallow schema (usually a
    `ResponseSchema`); the descriptor's `response` JSON Schema is generated from it. It
    documents the responses and the contract tests check them against it; `run` builds the
    response properties itself (nothing is dumped through it)."""
    permissions: ClassVar[tuple[dict[str, str], ...]]
    """IAM actions: {"action": ..., "resource": "bucket" | "object" | "*", "when": field}."""
    concurrent: ClassVar[bool] = False
    """Documents may be processed concurrently (responses still come out in order)."""
    version: ClassVar[int] = 1
    """The descriptor's version: raise it with any change a saved configuration or a designer
    could trip on (a field removed, renamed, newly required, narrowed); see
    `descriptors/changelog.json`."""
    deprecated: ClassVar[bool] = False
    """Designers hide a deprecated activity from new processes, and still open old ones."""
    icon: ClassVar[str | None] = None
    """A data: URI of the activity's icon; the connector's own when None."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def run(self, document: Document, settings: dict[str, Any]) -> Iterable[Document]:
        """Process one document with its resolved settings; yield response documents."""
        raise NotImplementedError

    def start(
        self, document: Document, settings: dict[str, Any]
    ) -> Sent[Iterable[Document]] | None:
        """Send one document's requests without waiting for them, when the activity can (a
        small put on the CRT data plane); its `result()` then waits and returns what `run`
        would yield. None: the harness calls `run` on one of its threads instead. Only a
        `concurrent` activity is asked, and only while it decides before reading anything it
        cannot read again."""
        return None


class SourceActivity(Activity):
    """Produces documents (with content) from S3; run once per request document."""

    role = "source"
    content = "produces"


class TargetActivity(Activity):
    """Consumes documents and returns one response document for each."""

    role = "target"
