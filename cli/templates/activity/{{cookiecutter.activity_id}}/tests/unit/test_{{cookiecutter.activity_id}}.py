"""{{ cookiecutter.activity_name }} on moto: the activity test kit, and what it answers."""

import boto3

from s3_connector.activities.{{ cookiecutter.activity_id }} import {{ cookiecutter.class_name }}
from s3_connector.connector.harness import Harness
from s3_connector.sdk.testing import ActivityContract

KEY = "scaffold/hello.txt"


class Test{{ cookiecutter.class_name }}Contract(ActivityContract):
    activity = {{ cookiecutter.class_name }}
    config = {"key": KEY}

    def prepare(self, client, bucket):
        client.put_object(Bucket=bucket, Key=KEY, Body=b"hello")


def test_it_answers_for_the_object(moto_connection, moto_bucket):
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=moto_bucket, Key=KEY, Body=b"hello"
    )
    config = {"bucket": moto_bucket, "key": KEY}
    [response] = Harness(moto_connection).run("{{ cookiecutter.activity_id }}", config)
    assert response.properties["size"] == 5
    assert response.properties["file_name"] == "hello.txt"
{%- if cookiecutter.role == "source" %}
    assert response.read() == b"hello"
{%- endif %}
