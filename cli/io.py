"""Reading input documents and writing response documents and content for `s3c run`."""

from __future__ import annotations

import glob
import json
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from s3_connector.connector.documents import Document, inline_content
from s3_connector.connector.errors import InvalidInput, LocalWriteError, translate
from s3_connector.connector.local_paths import write_file, write_under
from s3_connector.connector.streaming_json import compact_json, write_json


def read_json_file(path: str, field: str) -> dict[str, Any]:
    """The JSON object in the file at `path`, or on standard input (`-`). A file that cannot
    be read, is not UTF-8, is not JSON or holds no JSON object is InvalidInput naming `field`
    (the option: `--config`, `connection`), in a one-line message."""
    shown = path if path.isprintable() else ascii(path)
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            raw: bytes | str = stream.read() if stream is not None else sys.stdin.read()
        else:
            raw = Path(path).read_bytes()
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{shown} is not UTF-8 text (byte {exc.start + 1} is not valid UTF-8)", field=field
        ) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidInput(f"cannot read {shown} ({reason})", field=field) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{shown} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            field=field,
        ) from None
    except ValueError:
        raise InvalidInput(
            f"{shown} is not valid JSON (a number has too many digits)", field=field
        ) from None
    except RecursionError:
        raise InvalidInput(f"{shown} is not valid JSON (nested too deeply)", field=field) from None
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        found = kind.get(type(data), "a number")
        raise InvalidInput(f"{shown} must hold a JSON object, not {found}", field=field)
    return data


def parse_parameter(text: str) -> tuple[str, Any]:
    """`NAME=VALUE`; the value is parsed as JSON when it is valid JSON, else kept a string."""
    name, sep, value = text.partition("=")
    if not sep or not name or not name.isidentifier():
        raise InvalidInput(f"{text!r} must be NAME=VALUE with a field name", field="-p")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value
    except RecursionError:
        raise InvalidInput("JSON nested too deep", field=name) from None


def input_documents(path: str | None) -> list[Document] | None:
    """No input, one document per file under a directory, one file, or stdin (`-`)."""
    return gather_inputs((path,) if path is not None else ()).documents


@dataclass
class Inputs:
    """The input documents of `s3c run` and where each came from."""

    documents: list[Document] | None = None
    origins: list[str] = field(default_factory=list)
    """For each document: `--input PATH`, `--input -` or `--documents line N`."""
    bulk: bool = False
    """A set of documents (a directory, a glob, several --input, --documents): a failure of
    one does not stop the others, each gets its line, and the run ends with a summary."""
    skipped: int = 0
    """Error lines of an earlier run that --documents skipped."""


GLOB_CHARACTERS = frozenset("*?[")


def gather_inputs(paths: Sequence[str]) -> Inputs:
    """The documents of every `--input`: a file, a directory (one document per file under it,
    named by its path relative to the directory), a glob expanded here (`data/*.csv`, `**`
    for any depth; a file matched by a glob is named by its base name, a directory as above)
    or `-` (stdin, once). A file given or matched twice is read once; two files that would
    be named alike are refused, as they would be stored under one key."""
    inputs = Inputs()
    if not paths:
        return inputs
    documents: list[Document] = []
    seen: dict[str, str] = {}
    names: dict[str, str] = {}
    inputs.bulk = len(paths) > 1

    def add(document: Document, origin: str, real: str | None) -> None:
        if real is not None:
            if real in seen:
                return
            seen[real] = origin
        name = document.properties.get("file_name")
        if name is not None and len(paths) > 1:
            if name in names:
                raise InvalidInput(
                    f"{_shown(names[name])} and {_shown(origin)} would both be named "
                    f"{_shown(name)}; give one of them",
                    field="input",
                )
            names[name] = origin
        documents.append(document)
        inputs.origins.append(f"--input {_shown(origin)}")

    def add_directory(source: Path) -> None:
        files = sorted(_files_under(str(source), os.path.realpath(source), ()))
        for relative, path, real in files:
            add(Document.from_path(path, "/".join(relative)), path, real)

    for path in paths:
        if path == "-":
            if "-" in seen:
                raise InvalidInput("- (standard input) is given twice", field="input")
            seen["-"] = "-"
            documents.append(Document({}, sys.stdin.buffer))
            inputs.origins.append("--input -")
            continue
        source = Path(path)
        if source.is_dir():
            inputs.bulk = True
            add_directory(source)
        elif source.is_file():
            add(Document.from_path(source), path, _real(source))
        elif GLOB_CHARACTERS & set(path):
            inputs.bulk = True
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                raise InvalidInput(f"{_shown(path)} matches no file", field="input")
            for match in matches:
                found = Path(match)
                if found.is_dir():
                    add_directory(found)
                elif found.is_file():
                    add(Document.from_path(found), match, _real(found))
        else:
            raise InvalidInput(f"{_shown(path)} does not exist", field="input")
    inputs.documents = documents
    return inputs


def read_documents(path: str) -> Inputs:
    """Documents from JSON lines (`--documents`): each line's properties become a document's
    properties, as the activity that wrote the line emitted them (tracked: a configured field
    is not overridden by them). Blank lines are ignored; the error lines of an earlier run
    (a JSON object whose `error` is an object with a `kind`) are skipped and counted. A line
    that is not a JSON object is refused naming --documents and the line number."""
    option = "--documents"
    shown = _shown(path)
    inputs = Inputs(documents=[], bulk=True)
    try:
        stream: BinaryIO = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InvalidInput(f"cannot read {shown} ({exc.strerror or exc})", field=option) from None
    try:
        for number, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            data = _json_line(raw, number, option)
            if is_error_line(data):
                inputs.skipped += 1
                continue
            inputs.documents.append(Document(data).as_emitted())
            inputs.origins.append(f"{option} line {number}")
    except OSError as exc:
        raise InvalidInput(f"cannot read {shown} ({exc.strerror or exc})", field=option) from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return inputs


def _json_line(raw: bytes, number: int, option: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"line {number} is not UTF-8 text (byte {exc.start + 1} is not valid UTF-8)",
            field=option,
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"line {number} is not valid JSON ({exc.msg} at column {exc.colno})", field=option
        ) from None
    except (ValueError, RecursionError):
        raise InvalidInput(f"line {number} is not valid JSON", field=option) from None
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        found = kind.get(type(data), "a number")
        raise InvalidInput(f"line {number} must be a JSON object, not {found}", field=option)
    return data


def is_error_line(data: dict[str, Any]) -> bool:
    """Whether a JSON line is the error line of a document (see `error_line`)."""
    error = data.get("error")
    return isinstance(error, dict) and "kind" in error and "message" in error


def error_line(error: Any, exit_code: int, document: dict[str, Any]) -> dict[str, Any]:
    """The JSON line of a document that failed: the error (kind, field, message, request
    id), its exit code, and which document it was."""
    return {"error": error.to_dict(), "exit_code": exit_code, "document": document}


def _real(path: Path) -> str:
    return os.path.realpath(path)


def _files_under(
    directory: str, real_directory: str, relative: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """(parts of the path relative to the top, path, real path) of each file under
    `directory`, as `Path.rglob("*")` filtered by `is_file()` finds them: symbolic links to
    files included, links to directories not followed; but a directory that cannot be listed
    is refused, where rglob skips it. Sorted by the parts, they come in the order of sorted
    Paths. One scandir per directory: no stat for a plain file, `realpath` only for a
    link."""
    try:
        with os.scandir(directory) as entries:
            found = list(entries)
    except OSError as exc:  # a file under it would be missed: refused, not skipped
        raise InvalidInput(
            f"cannot list {_shown(directory)}: {exc.strerror or exc}", field="input"
        ) from None
    for entry in found:
        parts = (*relative, entry.name)
        if entry.is_dir():
            if not entry.is_symlink():
                yield from _files_under(entry.path, os.path.join(real_directory, entry.name), parts)
        elif entry.is_file():
            real = (
                os.path.realpath(entry.path)
                if entry.is_symlink()
                else os.path.join(real_directory, entry.name)
            )
            yield parts, entry.path, real


def _shown(text: str) -> str:
    return text if text.isprintable() else ascii(text)


class Output:
    """Where response documents go (stdout, JSON lines) and where content goes."""

    def __init__(self, target: str | None):
        self.target = target
        self.lines: TextIO = sys.stderr if target == "-" else sys.stdout
        self.directory = target not in (None, "-") and (
            Path(target).is_dir() or target.endswith(("/", os.sep))
        )
        self._written_file = False
        self.flush_each_line = not _is_regular_file(self.lines)
        """A terminal or a pipe gets each line as soon as it is complete; a file (`> out`)
        gets blocks, and the rest when the run ends (`documents_out`): a flush per line
        of a 100,000-object listing costs more CPU than encoding the lines."""

    def resolve(self, document: Document) -> dict[str, Any]:
        """The document's properties with its content inline, or written where the output
        says (`output`: where it went)."""
        properties = document.properties
        if document.has_content:
            if self.target is None:
                properties = {**properties, **inline_content(document)}
            else:
                properties = {**properties, "output": self.write_content(document)}
        return properties

    def emit(self, document: Document, *, quiet: bool = False) -> None:
        """One JSON line for the document; with `quiet`, none, but its content is still
        written (or read and verified) and its lazy parts consumed (a purge deletes as its
        keys are read)."""
        properties = self.resolve(document)
        if quiet:
            write_json(properties, _DISCARD)
            return
        self.write_line(properties)

    def write_line(self, properties: dict[str, Any]) -> None:
        line = compact_json(properties)
        if line is not None:
            self.lines.write(line + "\n")
        else:
            try:
                write_json(properties, self.lines)
            finally:
                self.lines.write("\n")
                self.lines.flush()
            return
        if self.flush_each_line:
            self.lines.flush()

    def write_content(self, document: Document) -> str:
        """Write the document's content where the output says; return where it went."""
        if self.target == "-":
            self._copy(document, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return "-"

        def copy(sink: BinaryIO) -> None:
            self._copy(document, sink)

        if self._written_file and not self.directory:
            raise InvalidInput(
                "names one file but the run produced several documents; give a directory",
                field="output",
            )
        key = str(document.properties.get("key") or document.properties.get("file_name") or "")
        try:
            if self.directory:
                written = write_under(Path(self.target), key, copy)
            else:
                written = write_file(Path(self.target), copy)
        except OSError as exc:
            if isinstance(exc, ConnectionError | TimeoutError):
                raise
            where = f"{key} under {self.target}" if self.directory else self.target
            reason = exc.strerror or str(exc)
            raise LocalWriteError(f"cannot write {where}: {reason}", field="output") from None
        self._written_file = True
        return str(written)

    @staticmethod
    def _copy(document: Document, sink: BinaryIO) -> None:
        try:
            document.copy_to(sink)
        except OSError:
            raise
        except Exception as exc:
            raise translate(
                exc, operation="reading", target=str(document.properties.get("key", ""))
            ) from None


def documents_out(documents: Iterator[Document], output: Output) -> int:
    count = 0
    try:
        for document in documents:
            output.emit(document)
            count += 1
    finally:
        output.lines.flush()  # before an error is reported on stderr
    return count


class _Discard:
    """A text sink that keeps nothing."""

    def write(self, text: str) -> int:
        return len(text)


_DISCARD: Any = _Discard()


def discard(document: Document) -> None:
    """Let go of a document that was not handed out: its content stream is closed."""
    if document.has_content and document.path is None:
        try:
            with document.open() as stream:
                stream.close()
        except Exception:
            pass


def _is_regular_file(stream: TextIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
