"""`s3c new activity` generates an activity whose descriptor validates and whose generated
tests pass (on moto and on SeaweedFS), with no edits; it never overwrites."""

import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from s3_connector.cli.main import cli
from s3_connector.cli.new_command import README_MARK
from s3_connector.sdk.export import DESCRIPTORS_DIR

TESTS = Path(__file__).parents[1]

SHIM = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    root = Path(sys.argv[1])
    import s3_connector.activities as activities
    from s3_connector.sdk import export

    activities.__path__.append(str(root / "activities"))
    export.DESCRIPTORS_DIR = root / "descriptors"

    import pytest
    from s3_connector.cli.main import cli

    code = cli.main(["descriptors", "validate"], prog_name="s3c", standalone_mode=False)
    if code:
        sys.exit(code)
    sys.exit(pytest.main([*sys.argv[2:], "-q", "-p", "no:cacheprovider", "--rootdir", str(root)]))
    """
)


@pytest.fixture
def checkout(tmp_path):
    """A checkout's folders: the shipped descriptors, and the tests' shared fixtures."""
    root = tmp_path / "checkout"
    (root / "activities").mkdir(parents=True)
    shutil.copytree(DESCRIPTORS_DIR, root / "descriptors", ignore=shutil.ignore_patterns("__*"))
    for name in ("conftest.py", "support.py"):
        (root / "tests").mkdir(exist_ok=True)
        shutil.copy(TESTS / name, root / "tests" / name)
    shutil.copy(TESTS.parent / "README.md", root / "README.md")
    (root / "docs").mkdir()
    shutil.copy(TESTS.parent / "docs" / "activities.md", root / "docs" / "activities.md")
    return root


def new(root, *args):
    return CliRunner().invoke(cli, ["new", "activity", *args, "--output-dir", str(root)])


@pytest.fixture
def word():
    """A word for names no other activity of this checkout has (the developer may already
    have scaffolded "Tag Object")."""
    return "Kit" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])


def test_generated_activities_validate_and_pass_their_own_tests(checkout, word):
    target, source = f"{word.lower()}_tag_object", f"{word.lower()}_fetch_report"
    for name, role in ((f"{word} Tag Object", "target"), (f"{word} Fetch Report", "source")):
        result = new(checkout, name, "--role", role)
        assert result.exit_code == 0, result.output
    generated = sorted(checkout.glob("tests/*/test_*.py"))
    assert [path.name for path in generated] == [
        f"test_{source}_seaweedfs.py",
        f"test_{target}_seaweedfs.py",
        f"test_{source}.py",
        f"test_{target}.py",
    ]
    ran = subprocess.run(
        [sys.executable, "-c", SHIM, str(checkout), *map(str, generated)],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    descriptors = len(list((checkout / "descriptors").glob("*.json"))) - 2  # meta-schema, changelog
    assert f"{descriptors} descriptors valid" in ran.stdout
    assert f"ok: {target} (s3-connector)" in ran.stdout and "stale" not in ran.stderr
    assert " passed" in ran.stdout and "failed" not in ran.stdout


def test_the_docs_get_a_row_a_section_and_a_field_table(checkout, word):
    ident = f"{word.lower()}_tag_object"
    result = new(checkout, f"{word} Tag Object", "--role", "target")
    assert result.exit_code == 0, result.output
    assert f"updated {checkout / 'docs' / 'activities.md'}" in result.output
    assert f"updated {checkout / 'README.md'}" in result.output
    doc = (checkout / "docs" / "activities.md").read_text()
    assert f"| `{ident}` | {word} Tag Object | target |" in doc
    section = doc.split(f"\n## {word} Tag Object (`{ident}`)\n", 1)[1].split("\n## ", 1)[0]
    assert f"s3c run {ident} -c conn.json -p bucket=demo" in section
    table = section.split(f"<!-- fields: {ident} -->", 1)[1].split("<!-- /fields -->")[0]
    assert (
        "| `key` | string |  | required, or from the document; length 1 to 1024 | dynamic |"
        in table
    )
    assert doc.index(f"## {word} Tag Object") < doc.index(README_MARK)
    readme = (checkout / "README.md").read_text()
    link = f"[{word} Tag Object](docs/activities.md#{word.lower()}-tag-object-{ident}) (`{ident}`)"
    assert f"| {link} | target |" in readme
    listed = readme.split("| activity | role | what it does |", 1)[1].split("\n\n", 1)[0]
    assert link in listed, "the row is inside the README's activity table"


def test_without_cookiecutter_s3c_new_says_how_to_install_it(checkout, monkeypatch):
    monkeypatch.setitem(sys.modules, "cookiecutter", None)
    monkeypatch.setitem(sys.modules, "cookiecutter.main", None)
    result = new(checkout, "Tag Object", "--role", "target")
    assert result.exit_code == 2
    assert result.output == (
        "error: s3c new needs cookiecutter, which is not installed; "
        "install it with: pip install 's3-connector[scaffold]'\n"
    )
    assert not list((checkout / "activities").iterdir())


def test_an_existing_activity_is_never_overwritten(checkout, word):
    assert new(checkout, f"{word} Tag Object", "--role", "target").exit_code == 0
    activity = checkout / "activities" / f"{word.lower()}_tag_object.py"
    activity.write_text("# edited by hand\n")
    again = new(checkout, f"{word.lower()}-tag-object", "--role", "source")
    assert again.exit_code == 2
    assert "exists already; nothing was written" in again.output
    assert activity.read_text() == "# edited by hand\n"
    shipped = new(checkout, "Put Object", "--role", "target")
    assert shipped.exit_code == 2 and "activity put_object exists already" in shipped.output
    assert not (checkout / "tests" / "unit" / "test_put_object.py").exists()


@pytest.mark.parametrize("name", ["1st activity", "a", "Tag/Object", "x" * 41, "class"])
def test_a_bad_name_is_refused_in_one_line(checkout, name):
    result = new(checkout, name, "--role", "target")
    assert result.exit_code == 2
    assert result.output.startswith("error: NAME: ") and result.output.count("\n") == 1
    assert not list((checkout / "activities").iterdir())
