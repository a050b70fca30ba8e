"""Every shipped activity passes the activity test kit (connector/testing.py): the activities
below here, the others in the test module of their family."""

import re
from pathlib import Path

from support import JsonObjectContract, put_json

from s3_connector.activities.copy_object import CopyObject
from s3_connector.activities.get_object import GetObject
from s3_connector.activities.list_buckets import ListBuckets
from s3_connector.activities.list_objects import ListObjects
from s3_connector.activities.list_prefixes import ListPrefixes
from s3_connector.activities.move_object import MoveObject
from s3_connector.activities.purge import Purge
from s3_connector.activities.put_object import PutObject
from s3_connector.connector.documents import Document
from s3_connector.connector.registry import Registry
from s3_connector.sdk.testing import ActivityContract


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


class TestCopyObject(JsonObjectContract):
    activity = CopyObject
    config = {"key": "contract/hello.json", "destination_key": "contract/copy.json"}


class TestMoveObject(JsonObjectContract):
    activity = MoveObject
    config = {"key": "contract/hello.json", "destination_key": "contract/moved.json"}


class TestListPrefixes(TestListObjects):
    activity = ListPrefixes
    config = {"prefix": "contract/", "max_results": 1}


class TestListBuckets(ActivityContract):
    activity = ListBuckets
    needs_bucket = False
    config = {"prefix": "contract-"}


class TestPurgeDryRun(TestListObjects):
    activity = Purge
    config = {"prefix": "contract/", "max_objects": 5}


def test_every_shipped_activity_is_held_to_the_contract():
    """Each shipped activity class is the `activity` of some ActivityContract subclass in
    the tests (a scaffolded activity brings its own)."""
    sources = "\n".join(path.read_text() for path in Path(__file__).parents[1].rglob("test_*.py"))
    covered = set(re.findall(r"^    activity = (\w+)$", sources, re.M))
    classes = {Registry.shipped().activity_class(i).__name__ for i in Registry.shipped().ids}
    assert classes - covered == set()
