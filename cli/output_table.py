"""`s3c run --format table`: the response documents as a table for a person to read.

The rows are gathered and the table is printed when the run ends (column widths need every
row). A property holding a list of objects (a listing's `objects`, a purge's `failed`) gives
one row per item; a column whose value is the same in every row (the bucket, the region) is
printed once above the table; a column empty in every row is left out. One row is printed as
`name  value` lines. Each cell is one line: control characters are escaped and a cell longer
than `CELL_WIDTH` characters is cut with `…`. Nested objects are shown as compact JSON, lists
of names as a comma-separated list."""

from __future__ import annotations

import json
from typing import Any, TextIO

from s3_connector.connector.streaming_json import materialize

CELL_WIDTH = 60
GAP = "  "


def cell(value: Any, width: int = CELL_WIDTH) -> str:
    """One value as the text of one cell."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        text = ", ".join(str(item) for item in value)
    elif isinstance(value, dict | list):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    else:
        text = str(value)
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return text if len(text) <= width else text[: width - 1] + "…"


def rows_of(properties: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of one response: the response itself, or one per item of its first property
    that holds a list of objects (each with the response's other plain properties)."""
    properties = materialize(properties)
    for name, value in properties.items():
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            common = {
                key: item
                for key, item in properties.items()
                if key != name and not isinstance(item, list | dict)
            }
            return [{**common, **item} for item in value]
    return [properties]


class Table:
    """Rows gathered as the run goes, printed by `render`."""

    def __init__(self, out: TextIO):
        self.out = out
        self.rows: list[dict[str, Any]] = []

    def add(self, properties: dict[str, Any]) -> None:
        self.rows.extend(rows_of(properties))

    def add_error(self, line: dict[str, Any]) -> None:
        error = line["error"]
        where = {k: v for k, v in line.get("document", {}).items() if k != "number"}
        self.rows.append({**where, "error": f"{error['kind']}: {error['message']}"})

    def render(self) -> None:
        if not self.rows:
            return
        columns: list[str] = []
        for row in self.rows:
            columns.extend(name for name in row if name not in columns)
        texts = [{name: cell(row.get(name)) for name in columns} for row in self.rows]
        columns = [name for name in columns if any(text[name] for text in texts)]
        lines: list[str] = []
        if len(texts) == 1:
            width = max(len(name) for name in columns)
            lines = [f"{name.ljust(width)}{GAP}{texts[0][name]}".rstrip() for name in columns]
        else:
            constant = [
                name
                for name in columns
                if name != "error"
                and all(name in row for row in self.rows)
                and len({text[name] for text in texts}) == 1
            ]
            if constant:
                lines.append(GAP.join(f"{name}: {texts[0][name]}" for name in constant))
                lines.append("")
            shown = [name for name in columns if name not in constant]
            widths = {name: max(len(name), *(len(t[name]) for t in texts)) for name in shown}
            lines.append(GAP.join(name.ljust(widths[name]) for name in shown).rstrip())
            lines.append(GAP.join("-" * widths[name] for name in shown))
            lines.extend(
                GAP.join(text[name].ljust(widths[name]) for name in shown).rstrip()
                for text in texts
            )
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
