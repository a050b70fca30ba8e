"""The host harness: runs an activity of the registry on a stream of documents."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from . import cancellation
from . import settings as settings_loader
from .activity import Activity
from .cancellation import Ready, Sent, Then, Waiting
from .connection import Connection
from .documents import Document
from .errors import Cancelled, InvalidInput
from .fields import InputRules, input_rules
from .registry import Registry
from .streaming_json import materialize

BOUND_TO_BUCKET = ("region", "version_id")
"""Tracked properties that describe the tracked bucket's object, not any other bucket's."""


@dataclass
class Failure:
    """A document whose run failed, yielded in its place (after any response it produced
    first) by `PreparedActivity.run_requests(..., keep_going=True)`: `index` is its position
    among the input documents, `error` what it raised."""

    index: int
    document: Document
    error: Exception


def connection_rules(connection: Connection) -> InputRules:
    """What the connection allows in an activity's settings: control characters in keys
    (its allow_control_characters) and any region name (a custom endpoint_url)."""
    settings = getattr(connection, "settings", None) or {}
    return InputRules(
        allow_control_characters=bool(settings.get("allow_control_characters")),
        custom_endpoint=bool(settings.get("endpoint_url")),
    )


class PreparedActivity:
    """An activity with its validated configuration, ready to run on documents."""

    def __init__(
        self,
        activity: Activity,
        descriptor: dict[str, Any],
        config: Mapping[str, Any],
        concurrency: int,
    ):
        self.activity = activity
        self.descriptor = descriptor
        self.config = dict(config)
        self.concurrency = concurrency
        self.dynamic = [field["name"] for field in descriptor["fields"] if field["dynamic"]]
        self.rules = connection_rules(activity.connection)
        self._complete: dict[str, Any] | None = None
        """The settings of a document that supplies no dynamic property, when the
        configuration alone is complete: loaded once, not once per document."""
        try:
            self._complete = self._load(self.config)
        except InvalidInput:
            self._load(self.config, partial=self.dynamic)

    def settings_for(self, document: Document) -> dict[str, Any]:
        """Validated settings for one document. For each dynamic field: the document's
        property first, then the configuration. A tracked property (written by the activity
        that emitted the document) only fills a field that the configuration leaves unset, so
        a configured destination is never overridden by where the document came from; its
        region and version go only with its bucket. (The connection's region is the default
        of region detection, not a setting of the activity.)"""
        properties = {
            name: document.properties[name]
            for name in self.dynamic
            if document.properties.get(name) is not None
        }
        if not properties and self._complete is not None:
            return dict(self._complete)
        tracked = {name: value for name, value in properties.items() if name in document.tracked}
        merged = {**tracked, **self.config}
        merged.update({k: v for k, v in properties.items() if k not in document.tracked})
        if "bucket" in tracked and merged.get("bucket") != tracked["bucket"]:
            for name in BOUND_TO_BUCKET:
                if name in tracked and merged.get(name) == tracked[name]:
                    merged.pop(name)
        return self._load(merged)

    def _load(self, data: dict[str, Any], partial: list[str] | None = None) -> dict[str, Any]:
        """The activity's settings, validated under the connection's input rules."""
        with input_rules(self.rules):
            return settings_loader.load(type(self.activity).Settings, data, partial=partial or ())

    def requests(self, documents: Iterable[Document] | None) -> Iterable[Document]:
        if documents is not None:
            return documents
        if self.descriptor["document"]["content"] == "consumes":
            raise InvalidInput(
                f"{self.descriptor['id']} needs input documents to consume", field="input"
            )
        return [Document()]

    def _emitted(self, document: Document, settings: dict[str, Any]) -> Iterator[Document]:
        for emitted in self.activity.run(document, settings):
            yield emitted.as_emitted()

    def _process(self, document: Document, settings: dict[str, Any]) -> list[Document]:
        return list(self._emitted(document, settings))

    def start(self, document: Document) -> Sent[list[Document]] | None:
        """One document's requests sent without waiting for them (`Activity.start`), its
        settings checked first (`settings_for` raises); None when the activity cannot."""
        if not self.activity.concurrent:
            return None
        return self._start(document, self.settings_for(document))

    def _start(self, document: Document, settings: dict[str, Any]) -> Sent[list[Document]] | None:
        """The document's requests sent from this thread, when the activity can send them
        without waiting (`Activity.start`); None when a worker thread must run it."""
        try:
            started = self.activity.start(document, settings)
        except Exception as exc:
            return Ready.failed(exc)
        if started is None:
            return None
        return Then(started, lambda emitted: [each.as_emitted() for each in emitted])

    def run(
        self, documents: Iterable[Document] | None = None, *, check_first: bool = False
    ) -> Iterator[Document]:
        """Yield response documents lazily, in the order of the input documents. With
        `check_first`, the settings of every document are validated before the first one
        runs, so that an invalid document stops the run before anything is written."""
        requests: Iterable[tuple[Document, dict[str, Any]]] = (
            (document, self.settings_for(document)) for document in self.requests(documents)
        )
        if check_first:
            requests = list(requests)
        yield from self.run_requests(requests)

    def run_requests(
        self, requests: Iterable[tuple[Document, dict[str, Any]]], *, keep_going: bool = False
    ) -> Iterator[Any]:
        """Run documents whose settings are already validated (`settings_for`), in order.
        A failure ends the run, unless `keep_going`: then a document's failure is yielded as
        a `Failure` in its place and the next documents run (a cancellation still ends it)."""
        if not self.activity.concurrent or self.concurrency <= 1:
            for index, (document, settings) in enumerate(requests):
                if not keep_going:
                    yield from self._emitted(document, settings)
                    continue
                try:
                    yield from self._emitted(document, settings)
                except Cancelled:
                    raise
                except Exception as exc:
                    yield Failure(index, document, exc)
            return
        yield from self._run_concurrently(requests, keep_going)

    def _run_concurrently(
        self, requests: Iterable[tuple[Document, dict[str, Any]]], keep_going: bool = False
    ) -> Iterator[Any]:
        """A window of documents in flight: at most `concurrency` of them, and no more
        content buffered than `BUFFER_BUDGET` (each document counts for its size up to one
        part, a stream for a whole part; one document always runs). Responses come out in
        input order."""
        pending: deque[tuple[Waiting[list[Document]], int, int, Document]] = deque()
        buffered = 0

        def outcome(future: Waiting[list[Document]], index: int, document: Document) -> list:
            if not keep_going:
                return future.result()
            try:
                return future.result()
            except Cancelled:
                raise
            except Exception as exc:
                return [Failure(index, document, exc)]

        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="s3c") as pool:
            try:
                for index, (document, settings) in enumerate(requests):
                    weight = _buffer_weight(document)
                    while pending and (
                        len(pending) >= self.concurrency or buffered + weight > BUFFER_BUDGET
                    ):
                        future, done_weight, done_index, done = pending.popleft()
                        buffered -= done_weight
                        yield from outcome(future, done_index, done)
                    future = self._start(document, settings) or cancellation.submit(
                        pool, self._process, document, settings
                    )
                    pending.append((future, weight, index, document))
                    buffered += weight
                while pending:
                    future, done_weight, done_index, done = pending.popleft()
                    buffered -= done_weight
                    yield from outcome(future, done_index, done)
            finally:
                for future, *_ in pending:
                    future.cancel()


BUFFER_BUDGET = 64 * 1024 * 1024
"""Content a window of documents may hold in memory at once (see `_run_concurrently`)."""
_PART = 8 * 1024 * 1024


def _buffer_weight(document: Document) -> int:
    """What a document may hold in memory while it runs: its content up to one part (a file
    larger than a part streams from disk; a stream of unknown size is read a part ahead)."""
    if not document.has_content:
        return 0
    size = document.size
    if size is None:
        return _PART
    if document.path is not None and size > _PART:
        return 0
    return min(size, _PART)


def _completed(document: Document) -> Document:
    """The response with its lazy properties read (which runs what they stream) before the
    run goes on to the next document."""
    document.properties = materialize(document.properties)
    return document


class Harness:
    """Runs the registry's activities: validates their configuration, then runs them on
    documents."""

    def __init__(
        self,
        connection: Connection,
        registry: Registry | None = None,
        concurrency: int | None = None,
    ):
        self.connection = connection
        self.registry = registry or Registry.installed()
        self._concurrency = concurrency

    @property
    def concurrency(self) -> int:
        """Documents in flight at once: as given, else what the data plane sustains."""
        if self._concurrency is not None:
            return self._concurrency
        plane = getattr(self.connection, "data_plane", None)
        return getattr(plane, "documents_in_flight", 8)

    def prepare(
        self, activity_id: str, config: Mapping[str, Any] | None = None
    ) -> PreparedActivity:
        cls = self.registry.activity_class(activity_id)
        descriptor = self.registry.descriptor(activity_id)
        return PreparedActivity(cls(self.connection), descriptor, config or {}, self.concurrency)

    def run(
        self,
        activity_id: str,
        config: Mapping[str, Any] | None = None,
        documents: Iterable[Document] | None = None,
        *,
        lazy: bool = False,
    ) -> list[Document] | Iterator[Document]:
        """Run an activity on `documents` (once, without them, if it needs no content).

        An activity that writes or looks anything up runs now: `run` returns the list of
        response documents, in input order, once every document has run and the lazy parts
        of each response (a listing's objects, a purge's keys) have been read into lists, so a
        run whose result is ignored has still written, or purged. `lazy=True` yields the
        responses as they come instead, in bounded memory, for long streams of documents (the
        CLI and `s3c serve` do). An activity that produces content (Get Object) always
        yields lazily: each response's content is a stream, read before the next object is
        fetched, and a read that is never iterated changes nothing."""
        prepared = self.prepare(activity_id, config)
        responses = prepared.run(documents)
        if lazy or prepared.descriptor["document"]["content"] == "produces":
            return responses
        return [_completed(document) for document in responses]
