"""`s3c new activity`: scaffold an activity (class, descriptor, tests) from the template."""

from __future__ import annotations

import importlib.util
import json
import keyword
import re
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

import click

from s3_connector.connector.descriptor_builder import activity_descriptor, render
from s3_connector.connector.descriptor_checks import META_SCHEMA_FILE
from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.registry import Registry
from s3_connector.sdk.field_table import heading_anchor, render_readme

TEMPLATE = "templates/activity"
ACTIVITIES_DOC = Path("docs") / "activities.md"
README_MARK = "<!-- s3c new activity adds sections above this line -->"
ACTIVITY_TABLE = "| id | name | role |"
README_LIST = "| activity | role | what it does |"
SCAFFOLD_HINT = (
    "s3c new needs cookiecutter, which is not installed; "
    "install it with: pip install 's3-connector[scaffold]'"
)
NAME_RULE = (
    "must be 2 to 40 characters of letters, digits, spaces, hyphens or underscores, "
    "starting with a letter"
)
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 _-]{1,39}$")


def activity_names(name: str) -> dict[str, str]:
    """The activity's display name, id (snake_case) and class name (CamelCase)."""
    name = " ".join(name.split())
    if not _NAME.match(name):
        raise InvalidInput(NAME_RULE, field="NAME")
    words = re.split(r"[ _-]+", name)
    activity_id = "_".join(word.lower() for word in words if word)
    if keyword.iskeyword(activity_id) or activity_id in ("common", "continuation"):
        raise InvalidInput(f"'{activity_id}' is a reserved name", field="NAME")
    class_name = "".join(word[:1].upper() + word[1:] for word in words if word)
    return {"activity_name": name, "activity_id": activity_id, "class_name": class_name}


def _targets(root: Path, activity_id: str) -> dict[str, Path]:
    return {
        "activity": root / "activities" / f"{activity_id}.py",
        "unit test": root / "tests" / "unit" / f"test_{activity_id}.py",
        "integration test": root / "tests" / "integration" / f"test_{activity_id}_seaweedfs.py",
        "descriptor": root / "descriptors" / f"{activity_id}.json",
    }


def scaffold(name: str, role: str, root: Path) -> list[Path]:
    """Render the template into `root` (a checkout: activities/, descriptors/, tests/);
    refuse, writing nothing, when the activity or any of its files exists. The activity is
    documented in docs/activities.md (a row, its section and its field table) and listed in
    README.md, when the checkout has them."""
    cookiecutter = _cookiecutter()
    names = activity_names(name)
    activity_id = names["activity_id"]
    for folder in ("activities", "descriptors", "tests"):
        if not (root / folder).is_dir():
            raise InvalidInput(
                f"{root} has no {folder}/ folder; run this in a checkout of the connector",
                field="--output-dir",
            )
    if activity_id in Registry.installed():
        raise InvalidInput(
            f"activity {activity_id} exists already; nothing was written", field="NAME"
        )
    targets = _targets(root, activity_id)
    for path in targets.values():
        if path.exists():
            raise InvalidInput(f"{path} exists already; nothing was written", field="NAME")
    template = Path(str(resources.files("s3_connector.cli") / TEMPLATE))
    with tempfile.TemporaryDirectory(prefix="s3c-new-") as scratch:
        rendered = Path(
            cookiecutter(
                str(template),
                no_input=True,
                extra_context={**names, "role": role},
                output_dir=scratch,
            )
        )
        cls = _load_class(rendered, names)
        descriptor = activity_descriptor(cls)
        for kind, path in targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "descriptor":
                path.write_text(render(descriptor), encoding="utf-8")
            else:
                shutil.copyfile(rendered / path.relative_to(root), path)
        updated = [_record_version(root / "descriptors", descriptor)]
        doc = root / ACTIVITIES_DOC
        if doc.is_file() and README_MARK in doc.read_text(encoding="utf-8"):
            section = (rendered / "README-section.md").read_text(encoding="utf-8")
            _document(doc, root, section, descriptor, cls)
            updated.append(doc)
            readme = root / "README.md"
            if readme.is_file() and README_LIST in readme.read_text(encoding="utf-8"):
                _list_in_readme(readme, cls)
                updated.append(readme)
    return [*targets.values(), *updated]


def _record_version(folder: Path, descriptor: dict) -> Path:
    """Add the new descriptor, at its first version, to the checkout's changelog."""
    from s3_connector.sdk import changelog

    entries = changelog.read(folder)
    entries.update(changelog.recorded({descriptor["id"]: descriptor}, {}))
    path = folder / changelog.CHANGELOG_FILE
    path.write_text(changelog.render(entries), encoding="utf-8")
    return path


def _cookiecutter():
    """cookiecutter's entry point, from the `scaffold` extra; one line saying how to install
    it when it is missing."""
    try:
        from cookiecutter.main import cookiecutter
    except ImportError:
        raise InvalidInput(SCAFFOLD_HINT) from None
    return cookiecutter


def _insert_row(lines: list[str], header: str, row: str) -> None:
    """Add `row` at the end of the markdown table whose header line starts with `header`."""
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    lines.insert(end, row)


def _document(doc: Path, root: Path, section: str, descriptor: dict, cls: type) -> None:
    """Add the activity to docs/activities.md: a row in the activities table and its section
    (with its field table) above README_MARK."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    actions = ", ".join(f"`{p['action']}`" for p in cls.permissions)
    row = f"| `{cls.id}` | {cls.name} | {cls.role} | {cls.description} | {actions} |"
    _insert_row(lines, ACTIVITY_TABLE, row)
    text = "\n".join(lines).replace(README_MARK, f"{section}\n{README_MARK}", 1)
    checkout = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in (root / "descriptors").glob("*.json")
        if path.name != META_SCHEMA_FILE
    }
    checkout[descriptor["id"]] = descriptor
    doc.write_text(render_readme(text, checkout), encoding="utf-8")


def _list_in_readme(readme: Path, cls: type) -> None:
    """Add the activity to the README's list, linking to its section of docs/activities.md."""
    lines = readme.read_text(encoding="utf-8").split("\n")
    anchor = heading_anchor(f"{cls.name} (`{cls.id}`)")
    link = f"[{cls.name}]({ACTIVITIES_DOC.as_posix()}#{anchor})"
    _insert_row(lines, README_LIST, f"| {link} (`{cls.id}`) | {cls.role} | {cls.description} |")
    readme.write_text("\n".join(lines), encoding="utf-8")


def _load_class(rendered: Path, names: dict[str, str]) -> type:
    """The rendered activity class, imported from the scratch folder as part of the
    activities package (its relative imports need that)."""
    module_name = f"s3_connector.activities.{names['activity_id']}"
    path = rendered / "activities" / f"{names['activity_id']}.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules.setdefault(module_name, module)
    return getattr(module, names["class_name"])


@click.group()
def new() -> None:
    """Scaffold new parts of the connector."""


@new.command("activity")
@click.argument("name")
@click.option("--role", type=click.Choice(["source", "target"]), required=True)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The checkout to write into (it has activities/, descriptors/ and tests/).",
)
def new_activity(name: str, role: str, output_dir: Path) -> None:
    """Create activity NAME: its class, its descriptor and its tests, ready to run."""
    for path in scaffold(name, role, output_dir):
        click.echo(f"{'updated' if path.suffix == '.md' else 'created'} {path}")
    click.echo("next: s3c descriptors validate, then pytest on the two test files")
