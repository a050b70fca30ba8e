"""{{ cookiecutter.activity_name }} against the real S3 server of the test session (SeaweedFS)."""

import pytest

from s3_connector.connector.errors import NotFound
from s3_connector.connector.harness import Harness


def test_it_answers_for_a_real_object(seaweed_connection, seaweed_client, seaweed_bucket):
    seaweed_client.put_object(Bucket=seaweed_bucket, Key="scaffold/data.bin", Body=b"\x00" * 1000)
    config = {"bucket": seaweed_bucket, "key": "scaffold/data.bin"}
    [response] = Harness(seaweed_connection).run("{{ cookiecutter.activity_id }}", config)
    assert response.properties["size"] == 1000
{%- if cookiecutter.role == "source" %}
    assert response.read() == b"\x00" * 1000
{%- endif %}


def test_a_missing_object_is_not_found(seaweed_connection, seaweed_bucket):
    config = {"bucket": seaweed_bucket, "key": "scaffold/missing.bin"}
    with pytest.raises(NotFound):
        list(Harness(seaweed_connection).run("{{ cookiecutter.activity_id }}", config))
