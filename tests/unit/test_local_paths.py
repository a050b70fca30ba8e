"""Keys written under an output directory never leave it; files appear whole or not at all."""

from __future__ import annotations

import os

import pytest

from s3_connector.connector.errors import Conflict, IntegrityError, InvalidInput
from s3_connector.connector.local_paths import relative_path, write_file, write_under

HOSTILE_KEYS = [
    "//tmp/x.txt",
    "/etc/passwd",
    "../escape.txt",
    "a/../../escape.txt",
    "a/./b",
    "a//b",
    "a\\..\\b",
    "C:/Windows/x",
    "c:x",
    "a\x00b",
    "a\nb",
    "",
    "..",
    "./",
]


def copier(data: bytes):
    def copy(sink):
        sink.write(data)

    return copy


def files_in(root):
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
    )


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_keys_are_refused_naming_the_key_and_nothing_is_written(tmp_path, key):
    root = tmp_path / "out"
    with pytest.raises(InvalidInput) as refused:
        write_under(root, key, copier(b"x"))
    assert refused.value.field == "key"
    assert repr(key) in refused.value.message
    assert files_in(tmp_path) == []


def test_plain_keys_map_under_the_directory():
    assert str(relative_path("a/b/c.txt")[0]) == "a/b/c.txt"
    assert relative_path("a/b/") == (relative_path("a/b")[0], True)
    assert str(relative_path("with:colon and space.txt")[0]) == "with:colon and space.txt"


def test_a_symlink_inside_the_directory_is_not_followed_out(tmp_path):
    root, outside = tmp_path / "out", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(Conflict, match="symbolic link"):
        write_under(root, "link/x.txt", copier(b"x"))
    assert list(outside.iterdir()) == []


def test_a_symlink_at_the_file_name_is_replaced_not_written_through(tmp_path):
    root, victim = tmp_path / "out", tmp_path / "victim.txt"
    root.mkdir()
    victim.write_bytes(b"keep")
    (root / "x.txt").symlink_to(victim)
    write_under(root, "x.txt", copier(b"new"))
    assert victim.read_bytes() == b"keep"
    assert not (root / "x.txt").is_symlink() and (root / "x.txt").read_bytes() == b"new"


def test_a_folder_marker_and_its_children_coexist_in_either_order(tmp_path):
    root = tmp_path / "out"
    write_under(root, "dirm/", copier(b""))
    write_under(root, "dirm/inner.txt", copier(b"inner"))
    write_under(root, "other/inner.txt", copier(b"inner"))
    assert write_under(root, "other/", copier(b"")) == root / "other"
    assert files_in(root) == ["dirm/inner.txt", "other/inner.txt"]


def test_a_folder_marker_with_content_or_a_file_in_the_way_is_a_conflict(tmp_path):
    root = tmp_path / "out"
    with pytest.raises(Conflict, match="folder marker"):
        write_under(root, "marker/", copier(b"data"))
    write_under(root, "name", copier(b"file"))
    with pytest.raises(Conflict, match="not a directory"):
        write_under(root, "name/child", copier(b"x"))
    write_under(root, "dir/child", copier(b"x"))
    with pytest.raises(Conflict, match="directory of the same name"):
        write_under(root, "dir", copier(b"x"))
    assert files_in(root) == ["dir/child", "name"]


def test_a_failed_copy_leaves_no_file_and_no_temporary(tmp_path):
    def failing(sink):
        sink.write(b"half")
        raise IntegrityError("checksum mismatch")

    root = tmp_path / "out"
    (root / "a").mkdir(parents=True)
    (root / "a" / "x.txt").write_bytes(b"previous")
    with pytest.raises(IntegrityError):
        write_under(root, "a/x.txt", failing)
    assert files_in(root) == ["a/x.txt"]
    assert (root / "a" / "x.txt").read_bytes() == b"previous"
    with pytest.raises(IntegrityError):
        write_file(tmp_path / "single.bin", failing)
    assert not (tmp_path / "single.bin").exists()
    assert files_in(tmp_path) == ["out/a/x.txt"]


def test_write_file_makes_its_folder_and_replaces_the_file_whole(tmp_path):
    target = tmp_path / "sub" / "f.bin"
    write_file(target, copier(b"first version"))
    write_file(target, copier(b"abc"))
    assert target.read_bytes() == b"abc"
    assert files_in(tmp_path) == ["sub/f.bin"]
