"""`pip install .` builds a real wheel, without a setuptools warning, that ships the code and
the descriptors and works; it does not pull cookiecutter, and without it `s3c new` says in one
line how to install it."""

import email
import os
import subprocess
import sys
import zipfile
from pathlib import Path


def test_the_wheel_ships_descriptors_and_runs(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, root],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    # setuptools' warnings (SetuptoolsDeprecationWarning, BuildBackendWarning...) are named
    # "...Warning"; pip's own notices about the machine's index settings say "WARNING:"
    assert "Warning" not in built.stdout + built.stderr, built.stdout + built.stderr
    [wheel] = wheels.glob("s3_connector-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        "s3_connector/descriptors/descriptor.schema.json",
        "s3_connector/descriptors/connection.json",
        "s3_connector/descriptors/put_object.json",
        "s3_connector/activities/put_object.py",
        "s3_connector/cli/main.py",
        "s3_connector/connector/harness.py",
        "s3_connector/cli/templates/activity/cookiecutter.json",
        "s3_connector/cli/templates/activity/{{cookiecutter.activity_id}}/activities/"
        "{{cookiecutter.activity_id}}.py",
        "s3_connector/cli/templates/activity/{{cookiecutter.activity_id}}/README-section.md",
    ):
        assert expected in names
    assert not any(name.startswith("tests/") for name in names)

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", target, wheel],
        check=True,
        timeout=300,
    )
    script = (
        "import sys, s3_connector.connector.registry as c;"
        f"assert c.__file__.startswith({str(target)!r}), c.__file__;"
        "from s3_connector.sdk.export import DESCRIPTORS_DIR as d;"
        f"assert str(d).startswith({str(target)!r}), d;"
        "from s3_connector.cli.main import cli;"
        "cli.main(['descriptors', 'validate'], prog_name='s3c')"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    shipped = len(list((Path(root) / "descriptors").glob("*.json"))) - 2  # meta-schema, changelog
    assert f"{shipped} descriptors valid" in result.stdout
    preview = (
        "from s3_connector.cli.main import cli;"
        "cli.main(['descriptors', 'preview', '-o', 'site'], prog_name='s3c')"
    )
    shown = subprocess.run(
        [sys.executable, "-c", preview], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert shown.returncode == 0, shown.stderr
    assert (tmp_path / "site" / "jsoneditor.js").stat().st_size > 100_000
    assert (tmp_path / "site" / "LICENSE").read_text().startswith("The MIT License")

    # cookiecutter is the scaffold extra's, never a dependency of a plain install
    [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
    requires = email.message_from_bytes(zipfile.ZipFile(wheel).read(metadata))
    requires = requires.get_all("Requires-Dist")
    assert [r for r in requires if r.startswith("cookiecutter")] == [
        'cookiecutter>=2.5; extra == "scaffold"'
    ]
    # and the installed s3c new, with no cookiecutter importable, says how to get it
    hidden = (
        "import sys; sys.modules['cookiecutter'] = None;"
        "from s3_connector.cli.main import cli;"
        "cli.main(['new', 'activity', 'Tag Object', '--role', 'target'], prog_name='s3c')"
    )
    result = subprocess.run(
        [sys.executable, "-c", hidden],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: s3c new needs cookiecutter, which is not installed; "
        "install it with: pip install 's3-connector[scaffold]'\n"
    )
    assert result.stdout == ""
