"""What pyproject.toml declares: cookiecutter only in the `scaffold` extra (which `test`
includes, so `make test` covers `s3c new`), an SPDX license, and a marshmallow range whose
newest major this suite runs on."""

import tomllib
from importlib.metadata import version
from pathlib import Path

PROJECT = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]


def names(requirements: list[str]) -> list[str]:
    return [requirement.split(">")[0].split("<")[0].split("[")[0] for requirement in requirements]


def test_cookiecutter_is_the_scaffold_extra_and_make_test_installs_it():
    assert "cookiecutter" not in names(PROJECT["dependencies"])
    assert names(PROJECT["optional-dependencies"]["scaffold"]) == ["cookiecutter"]
    assert "s3-connector[local,scaffold]" in PROJECT["optional-dependencies"]["test"]


def test_the_license_is_an_spdx_expression():
    assert PROJECT["license"] == "Apache-2.0"
    assert not [c for c in PROJECT.get("classifiers", []) if c.startswith("License ::")]


def test_marshmallow_4_is_allowed_and_this_suite_runs_on_it():
    """pyproject.toml sets no `<4` bound on marshmallow: the claim that 4.x works rests on
    `make test` running on it (a fresh .venv resolves the newest marshmallow)."""
    [marshmallow] = [r for r in PROJECT["dependencies"] if r.startswith("marshmallow")]
    assert "<" not in marshmallow
    major = int(version("marshmallow").split(".")[0])
    assert major >= 4, f"the suite runs on marshmallow {version('marshmallow')}, not 4"
    # apispec supports marshmallow 4 from 6.8.1
    assert "apispec>=6.8.1" in PROJECT["dependencies"]
