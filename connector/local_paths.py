"""Writing object content to local files safely: keys mapped under a directory without ever
leaving it, and files that appear whole or not at all.

`relative_path` is the one mapping from an object key to a path under an output directory;
every front end uses it through `write_under`. It refuses keys that would leave the
directory or mean something else on another system. `write_under` then walks the path one
directory at a time with `O_NOFOLLOW`, so a symbolic link already inside the directory is
never followed out of it. Content goes to a temporary file beside the destination and is
renamed into place only after the copy (and so the verification of a verified stream)
succeeded.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .errors import Conflict, InvalidInput

TEMPORARY_PREFIX = ".s3c-"
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)

Copy = Callable[[BinaryIO], None]
"""Writes the content into the open file it is given."""


def relative_path(key: str, *, field: str = "key") -> tuple[PurePosixPath, bool]:
    """The path under an output directory that `key` maps to, and whether the key is a folder
    marker (ends with `/`: a directory, no file). Refused, naming the key: an empty key, `.`
    or `..` segments, a leading `/`, empty segments (`a//b`), backslashes, a drive letter,
    NUL and control characters."""

    def refuse(rule: str) -> InvalidInput:
        return InvalidInput(
            f"{key!r} cannot be written under the output directory: {rule}", field=field
        )

    if not key:
        raise refuse("it is empty")
    if key.startswith("/"):
        raise refuse("it starts with '/'")
    if "\\" in key:
        raise refuse("it contains a backslash")
    if _CONTROL.search(key):
        raise refuse("it contains a control character")
    if _DRIVE.match(key):
        raise refuse("it starts with a drive letter")
    marker = key.endswith("/")
    segments = (key[:-1] if marker else key).split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise refuse("it has an empty, '.' or '..' segment")
    return PurePosixPath(*segments), marker


def write_under(root: Path, key: str, copy: Copy, *, field: str = "key") -> Path:
    """Write the content of `key` under `root` (created if missing): directories are made
    one at a time without following symbolic links, the file appears whole or not at all.
    A folder marker makes its directory and must have no content. Return the path written."""
    relative, marker = relative_path(key, field=field)
    root.mkdir(parents=True, exist_ok=True)
    parent_fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        *directories, name = relative.parts
        if marker:
            directories.append(name)
        for part in directories:
            parent_fd = _enter(parent_fd, part, key)
        if marker:
            _copy_empty(copy, key)
        else:
            _write_in(parent_fd, name, copy, key)
    finally:
        os.close(parent_fd)
    return root.joinpath(*relative.parts)


def write_file(destination: Path, copy: Copy) -> Path:
    """Write `destination` (a path the user chose) whole or not at all."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    parent_fd = os.open(destination.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        _write_in(parent_fd, destination.name, copy, str(destination))
    finally:
        os.close(parent_fd)
    return destination


def _enter(parent_fd: int, name: str, key: str) -> int:
    """The directory `name` in `parent_fd` (made if missing); the parent is closed once the
    child is open."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, dir_fd=parent_fd)
    try:
        child = os.open(name, _DIRECTORY_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        raise Conflict(
            f"key {key!r}: '{name}' is not a directory here (a file or a symbolic link is in "
            f"the way: {exc.strerror})",
            field="key",
        ) from None
    os.close(parent_fd)
    return child


def _write_in(parent_fd: int, name: str, copy: Copy, key: str) -> None:
    temporary = f"{TEMPORARY_PREFIX}{secrets.token_hex(8)}.part"
    fd = os.open(temporary, _FILE_FLAGS, 0o666, dir_fd=parent_fd)
    try:
        with os.fdopen(fd, "wb") as sink:
            copy(sink)
        os.replace(temporary, name, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=parent_fd)
        if isinstance(exc, IsADirectoryError | NotADirectoryError):
            raise Conflict(
                f"key {key!r}: a directory of the same name is in the way", field="key"
            ) from None
        raise


class _Counting:
    """A sink that only counts what is written to it."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        return len(data)


def _copy_empty(copy: Copy, key: str) -> None:
    """A folder marker's content is read (and so verified) but must be empty."""
    sink = _Counting()
    copy(sink)  # type: ignore[arg-type]
    if sink.count:
        raise Conflict(
            f"key {key!r} ends with '/' (a folder marker) but has {sink.count} bytes: it "
            "cannot be written as a directory",
            field="key",
        )
