"""The README documents every activity and field that ships, and its example is current."""

import json
import re
from pathlib import Path

from s3_connector.connector.registry import Registry
from s3_connector.sdk.export import DESCRIPTORS_DIR
from s3_connector.sdk.field_table import render_readme

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block


def test_every_activity_and_field_is_documented():
    for descriptor in Registry.shipped().descriptors().values():
        if descriptor["kind"] == "activity":
            assert f"### {descriptor['name']} (`{descriptor['id']}`)" in README
        assert f"<!-- fields: {descriptor['id']} -->" in README, descriptor["id"]


def test_the_complete_descriptor_example_is_the_shipped_one():
    example = re.search(r"```json\n(\{\n  \"format\".*?)\n```", README, re.S).group(1)
    shipped = json.loads((DESCRIPTORS_DIR / "get_object.json").read_text())
    assert json.loads(example) == shipped


def test_field_tables_are_generated_from_the_descriptors():
    assert render_readme(README, Registry.shipped().descriptors()) == README, (
        "run `make descriptors`"
    )
