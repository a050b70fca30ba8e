"""`--input DIR` lists its files as `Path.rglob("*")` filtered by `is_file()` did (same files,
same order, same real paths), with one scandir per directory."""

from __future__ import annotations

import os
from pathlib import Path

from s3_connector.cli.io import _files_under, gather_inputs


def tricky_tree(root: Path) -> None:
    for relative in ("a/b", "a-b", "a/c/d.txt", "z", "a b/x", "a.b/y", "A/q", "é/ü"):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(relative)
    (root / "link-to-file").symlink_to(root / "z")
    (root / "link-to-dir").symlink_to(root / "a")
    (root / "broken-link").symlink_to(root / "nowhere")
    os.mkfifo(root / "fifo")


def test_the_listing_is_rglob_s(tmp_path):
    tricky_tree(tmp_path)
    by_rglob = [
        (path.relative_to(tmp_path).as_posix(), str(path), os.path.realpath(path))
        for path in sorted(p for p in tmp_path.rglob("*") if p.is_file())
    ]
    listed = [
        ("/".join(parts), path, real)
        for parts, path, real in sorted(_files_under(str(tmp_path), str(tmp_path.resolve()), ()))
    ]
    assert listed == by_rglob
    assert ("a-b", str(tmp_path / "a-b"), str(tmp_path / "a-b")) in listed
    assert len(listed) == 9  # 8 files and the link to one; not the fifo, nor the links' others


def test_a_file_reached_twice_is_one_document(tmp_path):
    tricky_tree(tmp_path)
    names = [d.properties["file_name"] for d in gather_inputs([str(tmp_path)]).documents]
    assert "link-to-file" in names and "z" not in names  # the same file, read once
    assert names == sorted(names, key=lambda name: name.split("/"))
