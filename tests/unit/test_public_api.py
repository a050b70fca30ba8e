"""`import s3_connector` is the front door: the public names, imported when first used."""

from __future__ import annotations

import subprocess
import sys

import s3_connector
from s3_connector.connector import activity, connection, documents, errors, harness


def test_the_public_names_are_the_runtime_classes():
    assert s3_connector.Connection is connection.Connection
    assert s3_connector.Harness is harness.Harness
    assert s3_connector.Document is documents.Document
    assert s3_connector.SourceActivity is activity.SourceActivity
    assert s3_connector.TargetActivity is activity.TargetActivity
    for kind, cls in errors.ERROR_KINDS.items():
        assert getattr(s3_connector, cls.__name__) is cls, kind
    assert set(s3_connector.__all__) == set(s3_connector._EXPORTS)
    assert set(s3_connector.__all__) <= set(dir(s3_connector))


def test_importing_the_package_imports_no_sdk():
    code = (
        "import sys, s3_connector;"
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error():
    try:
        s3_connector.Nothing  # noqa: B018
    except AttributeError as exc:
        assert "Nothing" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")
