"""A real plugin package, installed with pip, shows in `s3c descriptors` and runs with `s3c run`."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN_SOURCE = Path(__file__).parents[1] / "plugin_example"
S3C = Path(sys.executable).parent / "s3c"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            site,
            PLUGIN_SOURCE,
        ],
        check=True,
        timeout=300,
    )
    return site


def s3c(site, *args, cwd):
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [S3C, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_installed_plugin_is_listed_validated_and_run(
    plugin_site, seaweed_settings, seaweed_client, seaweed_bucket, tmp_path
):
    listed = s3c(plugin_site, "descriptors", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert any(
        line.split()[:2] == ["object_checksum", "Object"] for line in listed.stdout.splitlines()
    )
    validated = s3c(plugin_site, "descriptors", "validate", cwd=tmp_path)
    assert validated.returncode == 0, validated.stderr
    assert "ok: object_checksum (plugin object_checksum (s3c-plugin-example))" in validated.stdout
    exported = s3c(plugin_site, "descriptors", "export", cwd=tmp_path)
    ids = [activity["id"] for activity in json.loads(exported.stdout)["activities"]]
    assert "object_checksum" in ids and ids == sorted(ids)

    body = os.urandom(3 * 1024 * 1024 + 17)
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="plugin/blob.bin", Body=body)
    (tmp_path / "conn.json").write_text(json.dumps(seaweed_settings))
    ran = s3c(
        plugin_site,
        "run",
        "object_checksum",
        "-c",
        "conn.json",
        "-p",
        f"bucket={seaweed_bucket}",
        "-p",
        "key=plugin/blob.bin",
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    response = json.loads(ran.stdout)
    assert response["digest"] == hashlib.sha256(body).hexdigest()
    assert response["size"] == len(body)


def test_without_the_plugin_the_activity_is_unknown(tmp_path):
    result = subprocess.run(
        [S3C, "run", "object_checksum", "-p", "bucket=abc"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "unknown activity 'object_checksum'" in result.stderr
