"""The warm agent's request loop: run requests read as JSON lines, answered with JSON lines,
in one process whose connections and clients stay warm (`s3c serve`).

The protocol (one request per line, answered by zero or more document lines and exactly one
final line, every line tagged with the request's id) is documented in docs/agent-protocol.md.
Nothing here depends on click.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hashlib
import io
import json
import os
import queue
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from s3_connector.connector.cancellation import Sent
from s3_connector.connector.connection import Connection, ConnectionSchema
from s3_connector.connector.documents import Document, inline_content
from s3_connector.connector.errors import ConnectorError, InvalidInput, classify
from s3_connector.connector.fields import is_secret
from s3_connector.connector.harness import Harness, PreparedActivity
from s3_connector.connector.redaction import redact, register
from s3_connector.connector.registry import Registry
from s3_connector.connector.streaming_json import write_json

from .agent_pipes import FifoReader, is_fifo
from .io import Output
from .options import connection_from

SERVE_FIELDS = {"input": "documents", "output": "output_dir"}
"""The protocol's names for the fields that `s3c run` calls --input and --output."""
REQUEST_FIELDS = ("id", "connection", "activity", "config", "documents", "output_dir")
DOCUMENT_FIELDS = ("properties", "content_base64", "content_text", "path")
CONTENT_FIELDS = ("content_base64", "content_text", "path")
CONNECTIONS_KEPT = 8
"""Distinct connections kept warm (least recently used first out)."""


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# --- requests -------------------------------------------------------------------------------


@dataclass
class Request:
    """One parsed request line."""

    id: Any
    activity: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    connection: dict[str, Any] | None = None
    documents: list[Document] | None = None
    output_dir: str | None = None


def decode_line(raw: bytes, line_number: int) -> tuple[Any, dict[str, Any]]:
    """The request id and the JSON object of one line. The id is the line number when the
    line has none, or when the line is not a JSON object with a valid `id`."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        where = (
            f" ({exc.msg} at column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        )
        raise InvalidInput(
            f"line {line_number} is not valid JSON{where}", field="request"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(
            f"line {line_number} must be a JSON object, not {type(data).__name__}",
            field="request",
        )
    request_id = data.get("id")
    if request_id is None:
        return line_number, data
    if isinstance(request_id, bool) or not isinstance(request_id, str | int | float):
        raise InvalidInput("must be a JSON string or number", field="id")
    return request_id, data


def parse_request(
    request_id: Any, data: Mapping[str, Any], secret_names: frozenset[str] = frozenset()
) -> Request:
    """Validate the request's envelope; the activity validates its own configuration. The
    values of fields named `secret_names` are registered for redaction first, so that a
    request refused before its settings load (into `Secret`s) never echoes them."""
    _register_secrets(data, secret_names)
    request = Request(request_id)
    for name in data:
        if name not in REQUEST_FIELDS:
            known = ", ".join(REQUEST_FIELDS)
            raise InvalidInput(f"unknown field (known fields: {known})", field=name)
    activity = data.get("activity")
    if not isinstance(activity, str) or not activity:
        raise InvalidInput("required: the id of an activity, e.g. put_object", field="activity")
    request.activity = activity
    request.config = _object(data.get("config"), "config")
    if data.get("connection") is not None:
        request.connection = _object(data["connection"], "connection")
    if data.get("documents") is not None:
        documents = data["documents"]
        if not isinstance(documents, list):
            raise InvalidInput("must be a JSON array of documents", field="documents")
        request.documents = [
            _document(item, f"documents[{index}]") for index, item in enumerate(documents)
        ]
    output_dir = data.get("output_dir")
    if output_dir is not None:
        if not isinstance(output_dir, str) or not output_dir:
            raise InvalidInput("must be a directory path", field="output_dir")
        if os.path.exists(output_dir) and not os.path.isdir(output_dir):
            raise InvalidInput(f"{output_dir} is not a directory", field="output_dir")
        request.output_dir = output_dir
    return request


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"must be a JSON object, not {type(value).__name__}", field=name)
    return value


def _document(item: Any, where: str) -> Document:
    if not isinstance(item, dict):
        raise InvalidInput("must be a JSON object", field=where)
    for name in item:
        if name not in DOCUMENT_FIELDS:
            known = ", ".join(DOCUMENT_FIELDS)
            raise InvalidInput(f"unknown field (known fields: {known})", field=f"{where}.{name}")
    properties = _object(item.get("properties"), f"{where}.properties")
    given = [name for name in CONTENT_FIELDS if item.get(name) is not None]
    if len(given) > 1:
        raise InvalidInput(
            f"give at most one of {', '.join(CONTENT_FIELDS)} (got {', '.join(given)})",
            field=f"{where}.{given[1]}",
        )
    if not given:
        return Document(properties)
    name = given[0]
    value = item[name]
    if not isinstance(value, str):
        raise InvalidInput("must be a string", field=f"{where}.{name}")
    if name == "content_base64":
        try:
            return Document(properties, base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInput("must be base64 (RFC 4648)", field=f"{where}.{name}") from None
    if name == "content_text":
        try:
            return Document(properties, value.encode("utf-8"))
        except UnicodeEncodeError:
            raise InvalidInput(
                "must be text UTF-8 can encode (it holds a lone surrogate)",
                field=f"{where}.{name}",
            ) from None
    path = Path(value)
    if is_fifo(value):
        return Document({"file_name": path.name, **properties}, FifoReader(value))
    if not path.is_file():
        raise InvalidInput(f"{value} is not a readable file", field=f"{where}.path")
    return Document({"file_name": path.name, **properties}, path)


def _register_secrets(data: Mapping[str, Any], secret_names: frozenset[str]) -> None:
    """Register the values of secret fields anywhere in the request (connection, config,
    documents' properties) with `redaction`."""
    places = [data.get("connection"), data.get("config")]
    documents = data.get("documents")
    if isinstance(documents, list):
        places += [item.get("properties") for item in documents if isinstance(item, dict)]
    for place in places:
        if isinstance(place, dict):
            for name, value in place.items():
                if name in secret_names and isinstance(value, str):
                    register(value)


# --- warm connections -----------------------------------------------------------------------


class ConnectionCache:
    """Connections by their canonical settings (an LRU), so their boto3 clients and bucket
    regions are reused across requests. A request without a connection gets the default."""

    def __init__(self, default: Callable[[], Connection], size: int = CONNECTIONS_KEPT):
        self._default_factory = default
        self._default: Connection | None = None
        self._size = size
        self._kept: OrderedDict[str, Connection] = OrderedDict()
        self._lock = threading.Lock()
        self.created = 0

    def get(self, settings: Mapping[str, Any] | None) -> Connection:
        with self._lock:
            if settings is None:
                if self._default is None:
                    self._default = self._default_factory()
                    self.created += 1
                return self._default
            canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
            key = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
            connection = self._kept.get(key)
            if connection is not None:
                self._kept.move_to_end(key)
                return connection
            connection = connection_from(settings)
            self.created += 1
            self._kept[key] = connection
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)
            return connection


# --- the request loop -----------------------------------------------------------------------


class Agent:
    """Reads request lines, runs each through the harness, writes response lines."""

    def __init__(
        self,
        out: TextIO,
        default_connection: Callable[[], Connection] = Connection.from_environment,
        *,
        workers: int = 1,
        registry: Registry | None = None,
        log: TextIO | None = None,
    ):
        self.out = out
        self.log = log if log is not None else sys.stderr
        self.workers = max(1, workers)
        self.registry = registry or Registry.installed()
        self.connections = ConnectionCache(default_connection)
        self.secret_names = _secret_field_names(self.registry)
        self._write_lock = threading.Lock()
        self._broken: BaseException | None = None
        """Set when stdout fails: serving stops and this is raised."""
        self._answers: _Answers | None = None
        """While serving with several workers: where sent requests are answered."""
        self.requests = 0
        self.errors = 0

    # lines out

    def _write(self, text: str, *, flush: bool = True) -> None:
        with self._write_lock:
            self.out.write(text)
            if flush:
                self.out.flush()

    def _final(self, request_id: Any, documents: int, started: float, error=None) -> str:
        line: dict[str, Any] = {"request_id": request_id}
        if error is None:
            line["status"] = "ok"
        else:
            line.update(status="error", error=error.to_dict(), exit_code=error.exit_code)
        line["documents"] = documents
        line["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
        return _compact(line) + "\n"

    @staticmethod
    def _document_line(request_id: Any, document: Document, output: Output | None) -> str:
        """One whole line, built in memory so that a failure half-way (a listing that breaks
        off) never leaves a half-written line on stdout."""
        buffer = io.StringIO()
        buffer.write('{"request_id":' + _compact(request_id) + ',"properties":')
        write_json(document.properties, buffer)
        if document.has_content:
            if output is None:
                extra = inline_content(document)
            else:
                extra = {"output": output.write_content(document)}
            for name, value in extra.items():
                buffer.write(f',"{name}":' + _compact(value))
        buffer.write("}\n")
        return buffer.getvalue()

    # the loop

    def serve(self, stream: BinaryIO) -> None:
        """Answer every request line of `stream` until EOF."""
        lines = enumerate(iter(stream.readline, b""), 1)
        if self.workers == 1:
            for number, raw in lines:
                self.handle(number, raw)
                if self._broken is not None:
                    raise self._broken
            return
        in_flight = self.workers * 2
        slots = threading.BoundedSemaphore(in_flight)
        self._answers = _Answers(self, slots)
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="s3c-serve") as pool:
                for number, raw in lines:
                    slots.acquire()
                    if self._broken is not None:
                        slots.release()
                        break
                    future = pool.submit(self.handle, number, raw)
                    future.add_done_callback(lambda done: self._finished(done, slots))
            for _ in range(in_flight):  # every sent request answered
                slots.acquire()
        finally:
            self._answers.close()
            self._answers = None
        if self._broken is not None:
            raise self._broken

    def _finished(self, future: Future[bool], slots: threading.BoundedSemaphore) -> None:
        error = future.exception()
        if error is not None and self._broken is None:
            self._broken = error  # stdout itself failed: stop reading, raise it from serve
        if error is not None or not future.result():
            slots.release()  # else the request was sent: `_Answers` releases it once answered

    def handle(self, line_number: int, raw: bytes) -> bool:
        """Answer one line; every failure becomes an error line (a broken stdout stops).
        True when the request was sent and is answered once S3 has (see `_send`)."""
        if not raw.strip():
            return False
        started = time.monotonic()
        request_id: Any = line_number
        try:
            request_id, data = decode_line(raw, line_number)
            request = parse_request(request_id, data, self.secret_names)
            prepared = self._prepare(request)
            sent = self._send(request, prepared) if self._answers is not None else None
        except Exception as exc:
            self.answer(request_id, started, functools.partial(_raise, exc))
            return False
        if sent is None:
            self.answer(request_id, started, functools.partial(self._run, request, prepared))
            return False
        self._answers.expect(sent, request_id, started)
        return True

    def answer(
        self,
        request_id: Any,
        started: float,
        work: Callable[[list[int]], None],
        *,
        flush: bool = True,
    ) -> None:
        """Run `work(produced)`, which writes the request's document lines, then write its
        status line; every failure becomes an error line (a broken stdout stops)."""
        produced = [0]
        try:
            try:
                work(produced)
                self._write(self._final(request_id, produced[0], started), flush=flush)
            except ConnectorError as exc:
                error = exc.with_field(SERVE_FIELDS.get(exc.field, exc.field))
                self._fail(request_id, produced[0], started, error)
            except (BrokenPipeError, KeyboardInterrupt):
                raise
            except Exception as exc:
                if os.environ.get("S3C_DEBUG"):
                    self.log.write(redact(traceback.format_exc()))
                error = classify(exc, operation="request", target=_compact(request_id))
                self._fail(request_id, produced[0], started, error)
        except BrokenPipeError as exc:
            self._broken = exc
        finally:
            with self._write_lock:
                self.requests += 1

    def _fail(self, request_id: Any, produced: int, started: float, error: ConnectorError) -> None:
        error = _redacted(error)
        with self._write_lock:
            self.errors += 1
        self.log.write(f"s3c serve: request {_compact(request_id)}: {error.kind}: {error}\n")
        self.log.flush()
        self._write(self._final(request_id, produced, started, error))

    def _run(self, request: Request, prepared: PreparedActivity, produced: list[int]) -> None:
        responses, output = self._responses(request, prepared)
        for document in responses:
            self._write(self._document_line(request.id, document, output))
            produced[0] += 1

    def _send(self, request: Request, prepared: PreparedActivity) -> Sent[list[Document]] | None:
        """The request's one document sent without a worker waiting for it, when its
        activity can (a small put on the CRT plane: `Activity.start`); else None."""
        documents = request.documents
        if request.output_dir or documents is None or len(documents) != 1:
            return None
        return prepared.start(documents[0])

    def _prepare(self, request: Request) -> PreparedActivity:
        """The request's activity with its configuration checked, on its connection: one
        document at a time when it has at most one."""
        connection = self.connections.get(request.connection)
        documents = request.documents
        single = documents is None or len(documents) <= 1
        harness = Harness(connection, self.registry, 1 if single else None)
        return harness.prepare(request.activity, request.config)

    def _responses(
        self, request: Request, prepared: PreparedActivity | None = None
    ) -> tuple[Iterator[Document], Output | None]:
        """The request's response documents (every document's settings checked before the
        first runs), and where content goes when it names an output directory; `prepared`
        when `_prepare` already made it."""
        prepared = prepared or self._prepare(request)
        output = Output(os.path.join(request.output_dir, "")) if request.output_dir else None
        return prepared.run(request.documents, check_first=True), output


def _raise(error: Exception, _produced: list[int]) -> None:
    raise error


class _Answers:
    """Answers sent requests once S3 has answered them, on one thread: CRT's threads only
    queue them. Lines are flushed when no other answer waits, and each answered request
    frees its slot of the agent's window."""

    def __init__(self, agent: Agent, slots: threading.BoundedSemaphore):
        self._agent = agent
        self._slots = slots
        self._ready: queue.SimpleQueue[tuple[Any, Any, float] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="s3c-answers", daemon=True)
        self._thread.start()

    def expect(self, sent: Sent[list[Document]], request_id: Any, started: float) -> None:
        sent.when_done(lambda: self._ready.put((sent, request_id, started)))

    def close(self) -> None:
        self._ready.put(None)
        self._thread.join()

    def _loop(self) -> None:
        agent = self._agent
        while (item := self._ready.get()) is not None:
            sent, request_id, started = item
            try:
                agent.answer(
                    request_id,
                    started,
                    functools.partial(self._lines, sent, request_id),
                    flush=self._ready.empty(),
                )
            finally:
                self._slots.release()

    def _lines(self, sent: Sent[list[Document]], request_id: Any, produced: list[int]) -> None:
        for document in sent.result():
            self._agent._write(self._agent._document_line(request_id, document, None), flush=False)
            produced[0] += 1


def _secret_field_names(registry: Registry) -> frozenset[str]:
    """The names of secret fields, by their type (no descriptor needs building for it)."""
    schemas = [ConnectionSchema, *(registry.activity_class(i).Settings for i in registry.ids)]
    return frozenset(
        name for schema in schemas for name, field in schema().fields.items() if is_secret(field)
    )


def _redacted(error: ConnectorError) -> ConnectorError:
    """The error on one line, with every secret masked (see `redaction`; masked before the
    line breaks go, so that a secret with one is still found)."""
    message = _one_line(redact(error.message))
    name = redact(error.field) if error.field else error.field
    if message == error.message and name == error.field:
        return error
    clone = copy.copy(error)
    clone.args = (message,)
    clone.field = name
    return clone


# --- the command ----------------------------------------------------------------------------
