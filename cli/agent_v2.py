"""Agent protocol version 2 (`s3c serve --protocol 2`, docs/agent-protocol.md): a ready line,
ping, cancellation by id, per-request deadlines, duplicate ids refused, every validation error,
and a drain on SIGTERM/SIGINT that leaves no request without a status line."""

from __future__ import annotations

import json
import os
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from typing import Any, BinaryIO

from s3_connector.connector import cancellation
from s3_connector.connector.documents import Document
from s3_connector.connector.errors import (
    ERROR_KINDS,
    Cancelled,
    ConnectorError,
    InvalidInput,
    classify,
)
from s3_connector.connector.redaction import redact

from .agent import SERVE_FIELDS, Agent, _compact, _redacted, decode_line, parse_request
from .agent_chunks import ChunkStream, chunk_lines, take_chunk_line
from .agent_errors import all_errors
from .agent_flights import Flight, Flights
from .agent_pipes import is_fifo, write_to_fifo

PROTOCOL = 2
CHUNK_FIELDS = frozenset({"chunk", "seq", "data", "end", "size", "sha256"})
QUEUED = 256
"""Requests read ahead of the workers (cancel and ping lines are read past them)."""


class Stopping(Exception):
    """Raised in the reading thread by the SIGTERM/SIGINT handler: stop reading, drain."""


class _Abandoned(Exception):
    """The request was answered (cancelled, deadline) while it ran: stop producing lines."""


def _version() -> str:
    try:
        return metadata.version("s3-connector")
    except metadata.PackageNotFoundError:
        return "unknown"


class AgentV2(Agent):
    """The version 2 request loop; `stop()` (from a signal handler) starts the drain."""

    def __init__(self, *args: Any, grace_seconds: float = 5.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.grace_seconds = grace_seconds
        self.flights = Flights()
        self.stop_reason: str | None = None
        self._uploads: dict[str, ChunkStream] = {}
        self._reading = False
        """Chunked uploads by request id, from their request line to their end frame."""

    # lines out

    def ready_line(self) -> dict[str, Any]:
        version = _version()
        return {
            "ready": True,
            "protocol": PROTOCOL,
            "connector_version": version,
            "catalogue_version": version,
            "activities": sorted(self.registry.ids),
            "workers": self.workers,
            "pid": os.getpid(),
        }

    def _refuse(self, line: int, error: ConnectorError, request_id: Any = None) -> None:
        """The answer to a line that never became a request: `request_id` null (or the id of
        a request refused before it was accepted) and the line number."""
        self._count_error(error)
        answer = {"request_id": request_id, "line": line, "status": "error"}
        answer.update(error=self._error_dict(error), exit_code=error.exit_code, documents=0)
        self._write(_compact(answer) + "\n")

    def _error_dict(self, error: ConnectorError, errors: list | None = None) -> dict[str, Any]:
        clean = _redacted(error)
        body = clean.to_dict()
        items = errors if errors is not None else [{"field": error.field, "message": error.message}]
        body["errors"] = [
            {"field": item["field"], "message": " ".join(redact(item["message"]).split())}
            for item in items
        ]
        body["errors"][0] = {"field": clean.field, "message": clean.message}
        return body

    def _count_error(self, error: ConnectorError) -> None:
        with self._write_lock:
            self.errors += 1
        self.log.write(f"s3c serve: {error.kind}: {_redacted(error)}\n")
        self.log.flush()

    def _conclude(
        self,
        flight: Flight,
        status: str,
        error: ConnectorError | None = None,
        errors=None,
        test: dict[str, Any] | None = None,
    ) -> None:
        """Write `flight`'s status line, unless it was answered already."""
        with self.flights.lock:
            if not self.flights.close(flight):
                return
            answer: dict[str, Any] = {"request_id": flight.id, "status": status}
            if test is not None:
                answer["test"] = test
            if error is not None:
                answer.update(error=self._error_dict(error, errors), exit_code=error.exit_code)
            answer["documents"] = flight.documents
            answer["elapsed_ms"] = round((time.monotonic() - flight.started) * 1000, 1)
            self._write(_compact(answer) + "\n")
        with self._write_lock:
            self.requests += 1
        if error is not None and status == "error":
            self._count_error(error)

    def cancel(self, flight: Flight, status: str, message: str) -> None:
        flight.stop.set()
        error = Cancelled(message) if status == "cancelled" else ConnectorError(message)
        error.kind = "cancelled" if status == "cancelled" else "deadline_exceeded"
        error.exit_code = 130 if status == "cancelled" else 124
        self._conclude(flight, status, error)

    # the loop

    def stop(self, reason: str) -> None:
        """Called from a signal handler in the reading thread: stops reading (raising
        `Stopping` out of a read in progress, never out of a line being handled)."""
        if self.stop_reason is None:
            self.stop_reason = reason
            if self._reading:
                raise Stopping(reason)

    def serve(self, stream: BinaryIO) -> None:
        self._write(_compact(self.ready_line()) + "\n")
        slots = threading.BoundedSemaphore(max(QUEUED, self.workers * 4))
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="s3c-serve")
        number = 0
        try:
            while self.stop_reason is None and self._broken is None:
                self._reading = True
                try:
                    raw = stream.readline()
                finally:
                    self._reading = False
                if not raw:
                    break
                number += 1
                self._accept(number, raw, pool, slots)
        except Stopping:
            pass
        for upload in list(self._uploads.values()):
            upload.end_of_input()
        self._drain(pool)
        if self._broken is not None:
            raise self._broken

    def _drain(self, pool: ThreadPoolExecutor) -> None:
        """At EOF wait for every request; when stopping, wait `grace_seconds`, then answer
        the rest as cancelled and stop their transfers (which abort what they started)."""
        if self.stop_reason is None:
            pool.shutdown(wait=True)
            return
        self.flights.wait_idle(self.grace_seconds)
        message = f"the agent stopped ({self.stop_reason}) before the request finished"
        for flight in self.flights.pending():
            self.cancel(flight, "cancelled", message)
        cancellation.cancel()
        pool.shutdown(wait=True, cancel_futures=True)

    def _accept(self, number: int, raw: bytes, pool, slots) -> None:
        if not raw.strip():
            return
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict) and "chunk" in data and set(data) <= CHUNK_FIELDS:
            self._chunk(number, data)
            return
        if isinstance(data, dict) and set(data) == {"cancel"}:
            flight = self.flights.find(data["cancel"])
            if flight is not None:
                self.cancel(flight, "cancelled", "cancelled by a cancel line")
            return
        try:
            request_id, data = decode_line(raw, number)
            if request_id == number and data.get("id") is None:
                raise InvalidInput("required: a JSON string or number", field="id")
        except ConnectorError as exc:
            self._refuse(number, exc)
            return
        if data.get("ping") is True and set(data) <= {"id", "ping"}:
            answer = {"request_id": request_id, "status": "ok", "pong": True, "documents": 0}
            self._write(_compact(answer) + "\n")
            return
        deadline = data.pop("deadline_ms", None)
        if deadline is not None and (
            isinstance(deadline, bool) or not isinstance(deadline, int) or deadline <= 0
        ):
            self._refuse(number, InvalidInput("must be a positive integer", field="deadline_ms"))
            return
        chunked = data.pop("content_chunks", None)
        fifo = data.pop("output_fifo", None)
        if fifo is not None and not (isinstance(fifo, str) and is_fifo(fifo)):
            self._refuse(
                number, InvalidInput("must be the path of a named pipe", field="output_fifo")
            )
            return
        try:
            upload = self._chunked_upload(data)
        except InvalidInput as exc:
            self._refuse(number, exc)
            return
        flight = self.flights.open(request_id, number)
        if flight is None:
            error = InvalidInput(
                f"request {_compact(request_id)} is already in flight; this line was ignored",
                field="id",
            )
            self._refuse(number, error)
            return
        flight.chunked_output = chunked is True
        flight.output_fifo = fifo
        if upload is not None:
            flight.upload_index, flight.upload = upload
            self._uploads[Flights._key(request_id)] = flight.upload
        if deadline is not None:
            message = f"the request did not finish within deadline_ms {deadline}"
            flight.timer = threading.Timer(
                deadline / 1000, self.cancel, (flight, "deadline_exceeded", message)
            )
            flight.timer.daemon = True
            flight.timer.start()
        slots.acquire()
        future = pool.submit(self._perform, flight, data)
        future.add_done_callback(lambda done: self._finished(done, slots))

    def _perform(self, flight: Flight, data: dict[str, Any]) -> None:
        if flight.answered:
            return
        with cancellation.scope(flight.stop):
            self._perform_in_scope(flight, data)

    def _perform_in_scope(self, flight: Flight, data: dict[str, Any]) -> None:
        try:
            try:
                if "test_connection" in data:
                    self._test_connection(flight, data)
                    return
                request = parse_request(flight.id, data, self.secret_names)
                if flight.upload is not None and request.documents:
                    index = flight.upload_index
                    properties = request.documents[index].properties
                    request.documents[index] = Document(properties, flight.upload)
                self._run_flight(request, flight)
                self._conclude(flight, "ok")
            except _Abandoned:
                pass
            except ConnectorError as exc:
                if flight.answered:
                    return
                errors = all_errors(exc)
                error = exc.with_field(SERVE_FIELDS.get(exc.field, exc.field))
                self._conclude(flight, "error", error, errors)
            except BrokenPipeError:
                raise
            except Exception as exc:
                if os.environ.get("S3C_DEBUG"):
                    self.log.write(redact(traceback.format_exc()))
                error = classify(exc, operation="request", target=_compact(flight.id))
                self._conclude(flight, "error", error)
        except BrokenPipeError as exc:
            self._broken = exc

    def _test_connection(self, flight: Flight, data: dict[str, Any]) -> None:
        """`{"id", "test_connection": true, "connection"?, "bucket"?}`: the connection's
        `test` (what `s3c connection test` prints) as the `test` of an ok status line, or an
        error status line naming what failed."""
        unknown = sorted(set(data) - {"id", "test_connection", "connection", "bucket"})
        if unknown:
            known = "id, test_connection, connection, bucket"
            raise InvalidInput(f"unknown field (known fields: {known})", field=unknown[0])
        if data["test_connection"] is not True:
            raise InvalidInput("must be true", field="test_connection")
        settings = data.get("connection")
        if settings is not None and not isinstance(settings, dict):
            raise InvalidInput("must be a JSON object", field="connection")
        bucket = data.get("bucket")
        if bucket is not None and not isinstance(bucket, str):
            raise InvalidInput("must be a bucket name", field="bucket")
        result = self.connections.get(settings).test(bucket)
        if not result["ok"]:
            error = ERROR_KINDS.get(result["error"], ConnectorError)(result["message"])
            self._conclude(flight, "error", error, test=result)
            return
        self._conclude(flight, "ok", test=result)

    def _run_flight(self, request, flight: Flight) -> None:
        responses, output = self._responses(request)
        for document in responses:
            if flight.output_fifo and document.has_content and output is None:
                size = write_to_fifo(document, flight.output_fifo, "output_fifo")
                line = self._document_line(request.id, Document(document.properties), None)
                line = line[:-2] + ',"output_fifo_bytes":' + str(size) + "}\n"
                self._checked_write(flight, line)
                flight.documents += 1
                continue
            chunked = flight.chunked_output and output is None and document.has_content
            shown = Document(document.properties) if chunked else document
            self._checked_write(flight, self._document_line(request.id, shown, output))
            flight.documents += 1
            if chunked:
                for line in chunk_lines(request.id, document):
                    self._checked_write(flight, _compact(line) + "\n")

    def _checked_write(self, flight: Flight, line: str) -> None:
        """Write a line of `flight`, unless it was answered (then stop the request)."""
        with self.flights.lock:
            if flight.answered:
                raise _Abandoned
            self._write(line)

    def _chunked_upload(self, data: dict[str, Any]) -> tuple[int, ChunkStream] | None:
        """The document whose content comes in chunk lines (`"content_chunks": true`, at most
        one per request), replaced in `data` by the same document without that field."""
        documents = data.get("documents")
        if not isinstance(documents, list):
            return None
        found = [
            index
            for index, item in enumerate(documents)
            if isinstance(item, dict) and item.get("content_chunks") is not None
        ]
        if not found:
            return None
        where = f"documents[{found[0]}].content_chunks"
        if len(found) > 1:
            where = f"documents[{found[1]}].content_chunks"
            raise InvalidInput("at most one document of a request may have chunks", field=where)
        item = documents[found[0]]
        if item["content_chunks"] is not True:
            raise InvalidInput("must be true", field=where)
        documents[found[0]] = {
            name: value for name, value in item.items() if name != "content_chunks"
        }
        return found[0], ChunkStream(where)

    def _chunk(self, number: int, data: dict[str, Any]) -> None:
        key = Flights._key(data["chunk"])
        stream = self._uploads.get(key)
        if stream is None:
            error = InvalidInput(
                "no request with chunked content is in flight with this id", field="chunk"
            )
            self._refuse(number, error)
            return
        if take_chunk_line(stream, data) == "end":
            self._uploads.pop(key, None)
