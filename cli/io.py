"""Reading input documents and writing response documents and content for `s3c run`."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from s3_connector.connector.documents import Document, inline_content
from s3_connector.connector.errors import InvalidInput, translate
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
    if path is None:
        return None
    if path == "-":
        return [Document({}, sys.stdin.buffer)]
    source = Path(path)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file())
        return [Document.from_path(p, p.relative_to(source).as_posix()) for p in files]
    if source.is_file():
        return [Document.from_path(source)]
    raise InvalidInput(f"{path} does not exist", field="input")


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

    def emit(self, document: Document) -> None:
        properties = document.properties
        if document.has_content:
            if self.target is None:
                properties = {**properties, **inline_content(document)}
            else:
                properties = {**properties, "output": self.write_content(document)}
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

        if self.directory:
            key = str(document.properties.get("key") or document.properties.get("file_name") or "")
            written = write_under(Path(self.target), key, copy)
        elif self._written_file:
            raise InvalidInput(
                "names one file but the run produced several documents; give a directory",
                field="output",
            )
        else:
            written = write_file(Path(self.target), copy)
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


def _is_regular_file(stream: TextIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
