import boto3
import pytest
from botocore.awsrequest import AWSResponse
from support import MOTO_SETTINGS

from s3_connector.connector.connection import Connection
from s3_connector.connector.documents import Document
from s3_connector.connector.harness import Harness


@pytest.fixture
def two_regions(moto):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bucket-us")
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="bucket-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return Connection(MOTO_SETTINGS)


def count_calls(client, operation):
    calls = []
    client.meta.events.register(f"before-call.s3.{operation}", lambda **_: calls.append(1))
    return calls


def test_bucket_region_is_detected_once_and_cached(two_regions):
    heads = count_calls(two_regions.client(), "HeadBucket")
    harness = Harness(two_regions)
    for n in range(3):
        for bucket, region in (("bucket-us", "us-east-1"), ("bucket-eu", "eu-west-1")):
            [out] = harness.run(
                "put_object", {"bucket": bucket, "key": f"k{n}"}, [Document({}, b"x")]
            )
            assert out.properties["region"] == region
    assert len(heads) == 2
    assert two_regions.client("eu-west-1").meta.region_name == "eu-west-1"


def test_region_override_from_configuration_or_document_skips_detection(two_regions):
    heads = count_calls(two_regions.client(), "HeadBucket")
    harness = Harness(two_regions)
    [out] = harness.run(
        "put_object",
        {"bucket": "bucket-eu", "key": "a", "region": "eu-west-1"},
        [Document({}, b"x")],
    )
    assert out.properties["region"] == "eu-west-1"
    [out] = harness.run(
        "put_object",
        {"bucket": "bucket-eu", "key": "b", "region": "us-west-2"},
        [Document({"region": "eu-west-1"}, b"x")],
    )
    assert out.properties["region"] == "eu-west-1"
    assert heads == []


def test_get_bucket_location_is_the_fallback_without_the_header(two_regions):
    client = two_regions.client()
    client.meta.events.register(
        "after-call.s3.HeadBucket",
        lambda http_response, parsed, **_: parsed["ResponseMetadata"]["HTTPHeaders"].pop(
            "x-amz-bucket-region", None
        ),
    )
    locations = count_calls(client, "GetBucketLocation")
    assert two_regions.regions.region_for("bucket-eu") == "eu-west-1"
    assert two_regions.regions.region_for("bucket-us") == "us-east-1"
    assert len(locations) == 2


def test_wrong_region_error_is_retried_once_in_the_region_it_names(two_regions):
    redirects = []

    def redirect_from_us_east_1(request, **_):
        if "eu-west-1" in request.url:
            return None
        redirects.append(request.url)
        headers = {"x-amz-bucket-region": "eu-west-1"}
        body = (
            b"<Error><Code>PermanentRedirect</Code><Message>use the right endpoint"
            b"</Message><Bucket>bucket-eu</Bucket></Error>"
        )
        return AWSResponse(request.url, 301, headers, _Raw(body))

    two_regions.client("us-east-1").meta.events.register(
        "before-send.s3.PutObject", redirect_from_us_east_1
    )
    two_regions.regions.remember("bucket-eu", "us-east-1")
    [out] = Harness(two_regions).run(
        "put_object", {"bucket": "bucket-eu", "key": "moved"}, [Document({}, b"x")]
    )
    assert out.properties["region"] == "eu-west-1"
    assert two_regions.regions.region_for("bucket-eu") == "eu-west-1"
    assert len(redirects) >= 1
    body = boto3.client("s3", region_name="eu-west-1").get_object(Bucket="bucket-eu", Key="moved")
    assert body["Body"].read() == b"x"


class _Raw:
    def __init__(self, body):
        self.body = body

    def stream(self, **_):
        yield self.body
