import boto3
from chain import copy_through_chain, fill, stored
from support import unique_bucket


def test_list_get_put_copies_objects_between_buckets(moto_connection, moto_bucket):
    client = boto3.client("s3", region_name="us-east-1")
    destination = unique_bucket("moto-dest")
    client.create_bucket(Bucket=destination)
    digests = fill(client, moto_bucket, 30)
    responses = copy_through_chain(moto_connection, moto_bucket, destination, "chain/")
    assert sorted(r.properties["key"] for r in responses) == sorted(digests)
    assert {r.properties["bucket"] for r in responses} == {destination}
    copied = stored(client, destination)
    assert {key: digest for key, (digest, _) in copied.items()} == digests
    assert copied == stored(client, moto_bucket), "content types travel with the documents"
