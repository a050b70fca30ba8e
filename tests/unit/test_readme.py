"""The README is a short front door that lists every activity; docs/ documents every activity
and field that ships, and its generated tables and descriptor example are current."""

import json
import re
from pathlib import Path

import pytest

from s3_connector.connector.registry import Registry
from s3_connector.sdk.export import DESCRIPTORS_DIR
from s3_connector.sdk.field_table import GENERATED_DOCS, heading_anchor, render_readme

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"
ACTIVITIES = (DOCS / "activities.md").read_text(encoding="utf-8")


def shipped() -> dict[str, dict]:
    return Registry.shipped().descriptors()


def test_readme_opens_with_the_two_commands():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block


def test_the_readme_is_a_front_door():
    assert len(README.splitlines()) <= 300, "move details to docs/, keep the README short"
    assert "## A five-minute tour" in README


def test_the_readme_lists_every_activity_with_a_link_to_its_section():
    for descriptor in shipped().values():
        if descriptor["kind"] != "activity":
            continue
        name, ident = descriptor["name"], descriptor["id"]
        link = f"[{name}](docs/activities.md#{heading_anchor(f'{name} (`{ident}`)')}) (`{ident}`)"
        assert link in README, ident


def test_the_tour_puts_s3c_on_path_and_gets_conn_json_from_s3c_local():
    tour = README.split("## A five-minute tour", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert tour.lstrip().startswith('export PATH="$PWD/.venv/bin:$PATH"')
    assert "s3c local --bucket demo --write-conn conn.json" in tour


def test_every_activity_and_field_is_documented():
    connection = (DOCS / "connection.md").read_text(encoding="utf-8")
    for descriptor in shipped().values():
        if descriptor["kind"] == "activity":
            assert f"\n## {descriptor['name']} (`{descriptor['id']}`)\n" in ACTIVITIES
            assert f"<!-- fields: {descriptor['id']} -->" in ACTIVITIES, descriptor["id"]
        else:
            assert f"<!-- fields: {descriptor['id']} -->" in connection


def test_the_complete_descriptor_example_is_the_shipped_one():
    text = (DOCS / "descriptor-format.md").read_text(encoding="utf-8")
    example = re.search(r"```json\n(\{\n  \"format\".*?)\n```", text, re.S).group(1)
    shipped_file = json.loads((DESCRIPTORS_DIR / "get_object.json").read_text())
    assert json.loads(example) == shipped_file


def test_the_makefile_regenerates_every_generated_doc():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    command = re.search(r"-m s3_connector\.sdk\.field_table ([^\n]+)", makefile).group(1)
    assert command.split() == list(GENERATED_DOCS)


@pytest.mark.parametrize("name", GENERATED_DOCS)
def test_field_tables_are_generated_from_the_descriptors(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    assert "<!-- fields: " in text or "<!-- descriptor: " in text
    assert render_readme(text, shipped()) == text, "run `make descriptors`"
