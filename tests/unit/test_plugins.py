"""Plugin activities come in through the `s3_connector.activities` entry points."""

import json
import shutil
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from s3_connector.connector import registry as registry_module
from s3_connector.connector.descriptor_checks import DescriptorError
from s3_connector.connector.registry import Registry

PLUGIN_SOURCE = Path(__file__).parents[1] / "plugin_example"


@pytest.fixture
def plugins(monkeypatch):
    """Installs the given entry points for the duration of a test."""
    monkeypatch.syspath_prepend(str(PLUGIN_SOURCE))
    installed: list[EntryPoint] = []
    monkeypatch.setattr(registry_module, "entry_points", lambda group: list(installed))
    Registry.installed.cache_clear()
    yield installed
    Registry.installed.cache_clear()
    sys.modules.pop("s3c_plugin_example.object_checksum", None)


def entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name, value, registry_module.PLUGIN_GROUP)


def test_a_plugin_activity_joins_the_catalogue(plugins):
    plugins.append(entry_point("checksum", "s3c_plugin_example.object_checksum:ObjectChecksum"))
    registry = Registry.installed()
    assert registry.descriptor("object_checksum")["role"] == "target"
    assert set(Registry.shipped().ids) < set(registry.ids)


def test_descriptors_list_and_show_a_plugin_with_the_shipped_activities(plugins):
    from click.testing import CliRunner

    from s3_connector.cli.main import cli

    plugins.append(entry_point("checksum", "s3c_plugin_example.object_checksum:ObjectChecksum"))
    listed = CliRunner().invoke(cli, ["descriptors", "list"])
    rows = [line.split()[0] for line in listed.output.splitlines()[1:]]
    assert rows == sorted(rows) and {"object_checksum", "get_object"} <= set(rows)
    shown = CliRunner().invoke(cli, ["descriptors", "show", "object_checksum"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["class"].endswith(":ObjectChecksum")


def test_a_duplicate_id_is_refused_naming_both_sides(plugins):
    plugins.append(entry_point("again", "s3_connector.activities.put_object:PutObject"))
    with pytest.raises(DescriptorError, match=r"put_object of plugin again .* already declared"):
        Registry.installed()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("s3c_plugin_example.missing:Nothing", "cannot be loaded"),
        ("s3c_plugin_example:__doc__", "not an Activity class"),
    ],
)
def test_a_broken_plugin_is_named(plugins, value, problem):
    plugins.append(entry_point("broken", value))
    with pytest.raises(DescriptorError, match=f"plugin broken .*{problem}"):
        Registry.installed()


def test_serve_knows_plugin_activities(plugins):
    from click.testing import CliRunner

    from s3_connector.cli.main import cli

    plugins.append(entry_point("checksum", "s3c_plugin_example.object_checksum:ObjectChecksum"))
    request = {"id": 1, "activity": "object_checksum", "config": {"bucket": "ab", "key": "k"}}
    result = CliRunner().invoke(cli, ["serve"], input=json.dumps(request) + "\n")
    [status] = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert status["status"] == "error" and status["error"]["field"] == "bucket"


def test_validate_refuses_a_duplicate_plugin_id(plugins):
    from click.testing import CliRunner

    from s3_connector.cli.main import cli

    plugins.append(entry_point("again", "s3_connector.activities.put_object:PutObject"))
    result = CliRunner().invoke(cli, ["descriptors", "validate"])
    assert result.exit_code == 2
    assert (
        "activity id put_object of plugin again (unknown distribution) is already declared by "
        "s3-connector" in result.output
    )


def _forget_the_plugin_package():
    for name in ("s3c_plugin_example.object_checksum", "s3c_plugin_example"):
        sys.modules.pop(name, None)


@pytest.fixture
def distribution(tmp_path, monkeypatch):
    """An installed distribution on sys.path, as pip installs one: plugin_example's code and
    its metadata, with the entry points the test writes."""
    shutil.copytree(PLUGIN_SOURCE / "s3c_plugin_example", tmp_path / "s3c_plugin_example")
    info = tmp_path / "s3c_demo_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: s3c-demo-plugin\nVersion: 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _forget_the_plugin_package()
    Registry.installed.cache_clear()
    yield info / "entry_points.txt"
    Registry.installed.cache_clear()
    _forget_the_plugin_package()


def test_an_installed_distribution_adds_its_plugin(distribution):
    """Found as installed, without the entry points being faked: a distribution whose
    entry_points.txt declares the group."""
    distribution.write_text(
        "[console_scripts]\ndemo = demo:main\n\n"
        "[s3_connector.activities]\n"
        "checksum = s3c_plugin_example.object_checksum:ObjectChecksum\n"
    )
    registry = Registry.installed()
    assert registry.origins["object_checksum"] == "plugin checksum (s3c-demo-plugin)"
    assert registry.descriptor("object_checksum")["role"] == "target"


def test_a_distribution_without_the_group_adds_nothing(distribution):
    distribution.write_text("[console_scripts]\ndemo = demo:main\n")
    assert not registry_module._may_declare(registry_module.PLUGIN_GROUP)
    assert registry_module.entry_points(group=registry_module.PLUGIN_GROUP) == []
    assert set(Registry.installed().origins.values()) == {registry_module.SHIPPED_ORIGIN}


@pytest.mark.parametrize("group", ["console_scripts", "pytest11", registry_module.PLUGIN_GROUP])
def test_entry_points_are_those_importlib_metadata_finds(group):
    from importlib.metadata import entry_points

    assert sorted(registry_module.entry_points(group=group)) == sorted(entry_points(group=group))
