"""`--format table`: rows, constant columns above the table, one line per cell."""

import io

from s3_connector.cli.output_table import Table, cell
from s3_connector.connector.streaming_json import Deferred


def rendered(*responses, errors=()):
    out = io.StringIO()
    table = Table(out)
    for properties in responses:
        table.add(properties)
    for line in errors:
        table.add_error(line)
    table.render()
    return out.getvalue().splitlines()


def test_constant_columns_go_above_and_empty_ones_go():
    lines = rendered(
        {"bucket": "b", "key": "a.txt", "size": 1, "version_id": None},
        {"bucket": "b", "key": "long/name.txt", "size": 22, "version_id": None},
    )
    assert lines[0] == "bucket: b" and lines[1] == ""
    assert lines[2].split() == ["key", "size"]
    assert lines[3] == "-" * len("long/name.txt") + "  " + "-" * 4
    assert lines[4].split() == ["a.txt", "1"] and lines[5].split() == ["long/name.txt", "22"]
    assert lines[4].index("1") == lines[5].index("22"), "columns are aligned"


def test_a_listing_gives_a_row_per_object_and_lazy_parts_are_read():
    listing = {
        "bucket": "b",
        "objects": iter([{"key": "x", "size": 1}, {"key": "y", "size": 2}]),
        "common_prefixes": Deferred(lambda: ["p/"]),
        "truncated": False,
    }
    lines = rendered(listing)
    assert lines[0] == "bucket: b  truncated: false"
    assert [line.split()[0] for line in lines[4:]] == ["x", "y"]


def test_one_row_is_name_value_lines_and_cells_stay_one_line():
    lines = rendered({"key": "bad\nname", "metadata": {"a": "1"}, "body": "z" * 100})
    assert lines[0] == "key       bad\\nname"
    assert lines[1] == 'metadata  {"a":"1"}'
    assert lines[2].endswith("…") and len(lines[2].split()[1]) == 60
    assert cell(True) == "true" and cell(None) == "" and cell(["a", "b"]) == "a, b"


def test_errors_are_rows():
    error = {"kind": "not_found", "field": None, "message": "gone", "request_id": None}
    lines = rendered(
        {"bucket": "b", "key": "a"},
        errors=[{"error": error, "exit_code": 3, "document": {"number": 2, "key": "z"}}],
    )
    assert lines[0].split() == ["bucket", "key", "error"]
    assert lines[3].split() == ["z", "not_found:", "gone"]
    assert rendered() == []
