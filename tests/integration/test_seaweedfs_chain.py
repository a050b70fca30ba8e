from chain import copy_through_chain, fill, stored
from support import unique_bucket


def test_list_get_put_copies_100_objects_byte_for_byte(
    seaweed_connection, seaweed_client, seaweed_bucket
):
    destination = unique_bucket("sw-dest")
    seaweed_client.create_bucket(Bucket=destination)
    digests = fill(seaweed_client, seaweed_bucket, 100)
    responses = copy_through_chain(seaweed_connection, seaweed_bucket, destination, "chain/")
    assert len(responses) == 100
    assert {r.properties["bucket"] for r in responses} == {destination}
    copied = stored(seaweed_client, destination)
    assert {key: digest for key, (digest, _) in copied.items()} == digests
    assert copied == stored(seaweed_client, seaweed_bucket)
    assert set(stored(seaweed_client, seaweed_bucket)) == set(digests), "the source is untouched"
