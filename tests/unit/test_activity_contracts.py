"""Every shipped activity passes the activity test kit (connector/testing.py)."""

from s3_connector.activities.get_object import GetObject
from s3_connector.activities.list_objects import ListObjects
from s3_connector.activities.put_object import PutObject
from s3_connector.connector.documents import Document
from s3_connector.connector.testing import ActivityContract


def put(client, bucket, key="contract/hello.json", body=b'{"hello": "world"}'):
    client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


class TestPutObject(ActivityContract):
    activity = PutObject
    config = {"folder": "contract", "metadata": {"origin": "kit"}}

    def prepare(self, client, bucket):
        return [Document({"file_name": "a.txt"}, b"alpha"), Document({"file_name": "b"}, b"")]


class TestGetObject(ActivityContract):
    activity = GetObject
    config = {"key": "contract/hello.json"}

    def prepare(self, client, bucket):
        put(client, bucket)


class TestListObjects(ActivityContract):
    activity = ListObjects
    config = {"prefix": "contract/", "include_metadata": True}

    def prepare(self, client, bucket):
        put(client, bucket)
        put(client, bucket, "contract/deeper/two.bin", b"\x00\x01")


class TestListObjectsEmittingObjects(TestListObjects):
    config = {"prefix": "contract/", "emit": "objects", "max_results": 1}
