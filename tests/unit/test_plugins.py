"""Plugin activities come in through the `s3_connector.activities` entry points."""

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
    import json

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
