"""Every shipped activity passes the activity test kit (connector/testing.py)."""

from support import JsonObjectContract, put_json

from s3_connector.activities.get_object import GetObject
from s3_connector.activities.list_objects import ListObjects
from s3_connector.activities.put_object import PutObject
from s3_connector.connector.documents import Document
from s3_connector.connector.testing import ActivityContract


class TestPutObject(ActivityContract):
    activity = PutObject
    config = {"folder": "contract", "metadata": {"origin": "kit"}}

    def prepare(self, client, bucket):
        return [Document({"file_name": "a.txt"}, b"alpha"), Document({"file_name": "b"}, b"")]


class TestGetObject(JsonObjectContract):
    activity = GetObject


class TestListObjects(ActivityContract):
    activity = ListObjects
    config = {"prefix": "contract/", "include_metadata": True}

    def prepare(self, client, bucket):
        put_json(client, bucket)
        put_json(client, bucket, "contract/deeper/two.bin", b"\x00\x01")


class TestListObjectsEmittingObjects(TestListObjects):
    config = {"prefix": "contract/", "emit": "objects", "max_results": 1}
