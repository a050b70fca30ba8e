"""`listing_pages.parse_list_objects_v2` against botocore's own parse of the same bodies, and
`ListingPage` (the same page, parsed when read) against it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape

import botocore.session
import pytest
from botocore.handlers import decode_list_object_v2
from botocore.parsers import RestXMLParser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3_connector.connector.botocore_chain import parse_timestamp_fast
from s3_connector.connector.errors import IntegrityError
from s3_connector.connector.listing_pages import (
    ListingPage,
    MalformedListing,
    parse_list_objects_v2,
)

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_OUTPUT = (
    botocore.session.get_session()
    .get_service_model("s3")
    .operation_model("ListObjectsV2")
    .output_shape
)
# the connection's botocore parses timestamps with `parse_timestamp_fast`
_PARSER = RestXMLParser(timestamp_parser=parse_timestamp_fast)

GENERATED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def botocore_page(body: bytes) -> dict[str, Any]:
    """What `client.list_objects_v2` returns for `body` (it sent encoding-type=url itself),
    with each timestamp as the activities print it, and without ResponseMetadata."""
    parsed = _PARSER.parse({"body": body, "headers": {}, "status_code": 200}, _OUTPUT)
    decode_list_object_v2(parsed, {"encoding_type_auto_set": True})
    parsed.pop("ResponseMetadata", None)
    return _iso(parsed)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {name: _iso(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_iso(item) for item in value]
    return value


def assert_same(body: bytes) -> dict[str, Any]:
    page = parse_list_objects_v2(body)
    assert page == botocore_page(body)
    return page


# --- building bodies ------------------------------------------------------------------------


def element(name: str, text: str) -> str:
    return f"<{name}>{escape(text)}</{name}>"


def listing_body(
    children: list[str], *, namespace: bool = True, declaration: bool = True, indent: str = ""
) -> bytes:
    xmlns = f' xmlns="{NAMESPACE}"' if namespace else ""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if declaration else ""
    inner = "".join(indent + child for child in children)
    return f"{head}<ListBucketResult{xmlns}>{inner}{indent[:1]}</ListBucketResult>".encode()


def s3_page(
    keys: list[str],
    *,
    prefixes: tuple[str, ...] = (),
    truncated: bool = False,
    prefix: str = "",
    delimiter: str | None = None,
    namespace: bool = True,
) -> bytes:
    """A page as Amazon S3 writes it for encoding-type=url."""
    children = [
        element("Name", "bucket"),
        element("Prefix", quote_plus(prefix, safe="/")),
        element("KeyCount", str(len(keys) + len(prefixes))),
        element("MaxKeys", "1000"),
    ]
    if delimiter is not None:
        children.append(element("Delimiter", quote_plus(delimiter, safe="/")))
    children += [element("EncodingType", "url"), element("IsTruncated", str(truncated).lower())]
    for number, key in enumerate(keys):
        children.append(
            "<Contents>"
            + element("Key", quote_plus(key, safe="/"))
            + element("LastModified", f"2026-12-03T09:00:{number % 60:02d}.{number:03d}Z")
            + element("ETag", '"9dd4e461268c8034f5c8564e155c67a6"')
            + element("ChecksumAlgorithm", "CRC64NVME")
            + element("ChecksumType", "FULL_OBJECT")
            + element("Size", str(number))
            + element("StorageClass", "STANDARD")
            + "</Contents>"
        )
    for common in prefixes:
        children.append(
            f"<CommonPrefixes>{element('Prefix', quote_plus(common, safe='/'))}</CommonPrefixes>"
        )
    if truncated:
        children.append(
            element("NextContinuationToken", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        )
    return listing_body(children, namespace=namespace)


# --- examples -------------------------------------------------------------------------------


def test_an_s3_page_is_parsed_as_botocore_parses_it():
    body = s3_page(
        ["photos/a b.jpg", "photos/1+1=2.txt", "photos/100%.txt", "photos/é\U0001f600", "x\x01\t"],
        prefixes=("photos/sub dir/",),
        truncated=True,
        prefix="photos/",
        delimiter="/",
    )
    page = assert_same(body)
    assert [item["Key"] for item in page["Contents"]] == [
        "photos/a b.jpg",
        "photos/1+1=2.txt",
        "photos/100%.txt",
        "photos/é\U0001f600",
        "x\x01\t",
    ]
    assert page["CommonPrefixes"] == [{"Prefix": "photos/sub dir/"}]
    assert page["IsTruncated"] is True and page["KeyCount"] == 6 and page["MaxKeys"] == 1000
    assert page["NextContinuationToken"].startswith("1ueG")
    first = page["Contents"][1]
    assert first["Size"] == 1 and first["ETag"] == '"9dd4e461268c8034f5c8564e155c67a6"'
    assert first["LastModified"] == "2026-12-03T09:00:01.001000+00:00"
    assert page["Contents"][0]["LastModified"] == "2026-12-03T09:00:00+00:00"
    assert first["ChecksumAlgorithm"] == ["CRC64NVME"]


def test_without_namespace_and_last_page():
    page = assert_same(s3_page(["a", "b"], namespace=False))
    assert page["IsTruncated"] is False and "NextContinuationToken" not in page


def test_an_empty_page_has_no_contents():
    page = assert_same(s3_page([]))
    assert "Contents" not in page and "CommonPrefixes" not in page and page["KeyCount"] == 0


def test_owner_restore_status_and_empty_elements():
    body = listing_body(
        [
            element("Name", "bucket"),
            "<Prefix/>",
            element("EncodingType", "url"),
            element("IsTruncated", "false"),
            "<Contents>"
            + element("Key", "a%20b+c")
            + element("LastModified", "2009-10-12T17:50:30.000Z")
            + element("ETag", '"fba9dede5f27731c9771645a39863328"')
            + element("Size", "434234")
            + element("StorageClass", "GLACIER")
            + "<Owner>"
            + element("DisplayName", "mtd@amazon.com")
            + element("ID", "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a")
            + "</Owner>"
            + "<RestoreStatus>"
            + element("IsRestoreInProgress", "false")
            + element("RestoreExpiryDate", "2012-12-21T00:00:00.000Z")
            + "</RestoreStatus>"
            + element("ChecksumAlgorithm", "CRC32")
            + element("ChecksumAlgorithm", "SHA256")
            + element("Unknown", "ignored")
            + "</Contents>",
            "<Contents><Key>empty</Key><ETag></ETag><Owner/></Contents>",
        ],
        indent="\n  ",
    )
    page = assert_same(body)
    first, second = page["Contents"]
    assert first["Key"] == "a b c" and first["Owner"]["DisplayName"] == "mtd@amazon.com"
    assert first["RestoreStatus"] == {
        "IsRestoreInProgress": False,
        "RestoreExpiryDate": "2012-12-21T00:00:00+00:00",
    }
    assert first["ChecksumAlgorithm"] == ["CRC32", "SHA256"] and "Unknown" not in first
    assert second == {"Key": "empty", "ETag": "", "Owner": {}}
    assert page["Prefix"] == ""


def test_without_encoding_type_nothing_is_decoded():
    body = listing_body(
        [element("Prefix", "a+b%20"), "<Contents><Key>a+b%20c</Key></Contents>"],
    )
    page = assert_same(body)
    assert page["Prefix"] == "a+b%20" and page["Contents"][0]["Key"] == "a+b%20c"


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-03T09:00:00Z",
        "2026-12-03T09:00:00.000Z",
        "2026-12-03T09:00:00.5Z",
        "2026-12-03T09:00:00.123456Z",
        "2026-12-03T09:00:00.1234567Z",
        "2026-12-03T09:00:00+00:00",
        "2026-12-03T09:00:00.250+02:00",
        "2024-02-29T23:59:59.999Z",
        "Thu, 03 Dec 2026 09:00:00 GMT",
    ],
)
def test_timestamps_are_formatted_as_the_connection_parses_them(text):
    body = listing_body([f"<Contents><Key>k</Key>{element('LastModified', text)}</Contents>"])
    [item] = assert_same(body)["Contents"]
    assert item["LastModified"] == parse_timestamp_fast(text).isoformat()


# --- generated ------------------------------------------------------------------------------

_any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
"""Any key S3 can hold (UTF-8): controls such as \\x00, \\x01 and \\t, unicode, + and %."""
_tricky = st.text(alphabet=" +%/&<>\"'\t\x01\x7féü\U0001f600aZ09=?#", max_size=12)
_keys = st.one_of(_any_text, _tricky)
_xml_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(c) for c in range(32) if chr(c) not in "\t\n"]
        + ["\ufffe", "\uffff"],
    ),
    max_size=20,
)
"""Text XML 1.0 can carry as it is (no carriage return: XML turns it into a newline, in both
parsers alike)."""
_encoders = st.sampled_from(
    [
        lambda text: quote_plus(text, safe="/"),  # Amazon S3: a space is +
        lambda text: quote(text, safe="/"),  # a space is %20
        lambda text: quote(text, safe="/ !$'()*,;=:@"),  # only what must be encoded
    ]
)
_timestamps = st.builds(
    lambda moment, digits, zone: (
        moment.strftime("%Y-%m-%dT%H:%M:%S")
        + (f".{moment.microsecond:06d}"[: digits + 1] if digits else "")
        + zone
    ),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1)),
    st.integers(min_value=0, max_value=6),
    st.sampled_from(["Z", "Z", "+00:00"]),
)


@st.composite
def contents(draw: st.DrawFn, encode: Any) -> str:
    parts = [element("Key", encode(draw(_keys)) if encode else draw(_xml_text))]
    if draw(st.booleans()):
        parts.append(element("LastModified", draw(_timestamps)))
    parts.append(element("ETag", draw(st.sampled_from(['"abc"', '"d41d8cd9-2"', "", "x&y"]))))
    for algorithm in draw(st.lists(st.sampled_from(["CRC32", "CRC32C", "CRC64NVME"]), max_size=2)):
        parts.append(element("ChecksumAlgorithm", algorithm))
    if draw(st.booleans()):
        parts.append(element("ChecksumType", draw(st.sampled_from(["FULL_OBJECT", "COMPOSITE"]))))
    parts.append(element("Size", str(draw(st.integers(min_value=0, max_value=5 * 2**40)))))
    if draw(st.booleans()):
        parts.append(element("StorageClass", draw(st.sampled_from(["STANDARD", "GLACIER"]))))
    if draw(st.booleans()):
        parts.append(
            "<Owner>" + element("DisplayName", draw(_xml_text)) + element("ID", "75aa") + "</Owner>"
        )
    if draw(st.booleans()):
        parts.append(
            "<RestoreStatus>"
            + element("IsRestoreInProgress", draw(st.sampled_from(["true", "false"])))
            + element("RestoreExpiryDate", draw(_timestamps))
            + "</RestoreStatus>"
        )
    return "<Contents>" + "".join(draw(st.permutations(parts))) + "</Contents>"


@st.composite
def pages(draw: st.DrawFn) -> bytes:
    encoded = draw(st.booleans())
    encode = draw(_encoders) if encoded else None

    def text() -> str:
        return encode(draw(_keys)) if encode else draw(_xml_text)

    truncated = draw(st.booleans())
    children = [element("Name", "bucket"), element("Prefix", text())]
    children += [element("KeyCount", str(draw(st.integers(0, 1000)))), element("MaxKeys", "1000")]
    if draw(st.booleans()):
        children.append(element("Delimiter", text()))
    if draw(st.booleans()):
        children.append(element("StartAfter", text()))
    if draw(st.booleans()):
        children.append(element("ContinuationToken", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J"))
    if encoded:
        children.append(element("EncodingType", "url"))
    children.append(element("IsTruncated", "true" if truncated else "false"))
    if truncated:
        children.append(element("NextContinuationToken", "1ueGcxLPRx1Tr/XYExH=="))
    children += draw(st.lists(contents(encode), max_size=6))
    children += [
        f"<CommonPrefixes>{element('Prefix', text())}</CommonPrefixes>"
        for _ in range(draw(st.integers(0, 3)))
    ]
    if draw(st.booleans()):  # S3 keeps one order; any order parses the same
        children = draw(st.permutations(children))
    return listing_body(
        children,
        namespace=draw(st.booleans()),
        declaration=draw(st.booleans()),
        indent=draw(st.sampled_from(["", "\n  "])),
    )


@GENERATED
@given(body=pages())
def test_generated_pages_parse_as_botocore_parses_them(body):
    assert_same(body)


@GENERATED
@given(key=_keys, encode=_encoders)
def test_generated_keys_round_trip(key, encode):
    body = listing_body(
        [element("EncodingType", "url"), f"<Contents>{element('Key', encode(key))}</Contents>"]
    )
    assert assert_same(body)["Contents"] == [{"Key": key}]


# --- refused bodies -------------------------------------------------------------------------


def refused(exc: MalformedListing) -> Exception:
    return exc.to_connector_error("ListObjectsV2", "s3://bucket/")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"<html><body>502 Bad Gateway</body></html",
        b"\x00\x01garbage",
        b"<?xml version='1.0'?><ListBucketResult><Name>b</Name>",
        b"<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult><x/>",
        b"<ListBucketResult><Key>\xff\xfe</Key></ListBucketResult>",
    ],
    ids=["empty", "blank", "html", "binary", "cut", "two roots", "not utf-8"],
)
def test_malformed_xml_is_refused(body):
    with pytest.raises(MalformedListing, match="not well-formed XML"):
        parse_list_objects_v2(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b"<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>",
            "root element is 'Error', not ListBucketResult",
        ),
        (
            f'<ListAllMyBucketsResult xmlns="{NAMESPACE}"/>'.encode(),
            "root element is '{http://s3.amazonaws.com/doc/2006-03-01/}ListAllMyBucketsResult'",
        ),
        (
            b"<ListBucketResult><Contents><Key>a</Key><Size>12x</Size></Contents>"
            b"</ListBucketResult>",
            "Size is '12x', not a whole number",
        ),
        (b"<ListBucketResult><KeyCount/></ListBucketResult>", "KeyCount is None"),
        (
            b"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
            "an entry of Contents has no Key",
        ),
        (
            b"<ListBucketResult><CommonPrefixes/></ListBucketResult>",
            "an entry of CommonPrefixes has no Prefix",
        ),
        (
            b"<ListBucketResult><Contents><Key>a</Key><LastModified>yesterday</LastModified>"
            b"</Contents></ListBucketResult>",
            "LastModified is 'yesterday', not a timestamp",
        ),
        (
            b"<ListBucketResult><Contents><Key>a</Key>"
            b"<LastModified>2026-02-31T09:00:00.000Z</LastModified>"
            b"</Contents></ListBucketResult>",
            "not a timestamp",
        ),
    ],
    ids=["error", "other result", "size", "empty count", "no key", "no prefix", "date", "day"],
)
def test_other_documents_and_bad_values_are_refused(body, reason):
    with pytest.raises(MalformedListing) as caught:
        parse_list_objects_v2(body)
    assert reason in str(caught.value)


def test_a_body_that_is_not_bytes_is_refused():
    with pytest.raises(MalformedListing, match="the body is str"):
        parse_list_objects_v2("<ListBucketResult/>")  # type: ignore[arg-type]


@GENERATED
@given(data=st.data())
def test_a_page_cut_anywhere_is_refused(data):
    body = data.draw(pages())
    cut = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    with pytest.raises(MalformedListing, match="not well-formed XML"):
        parse_list_objects_v2(body[:cut])
    with pytest.raises(IntegrityError, match="not well-formed XML"):
        dict(ListingPage(body[:cut], refused))


def test_the_refusal_is_an_integrity_error():
    with pytest.raises(MalformedListing) as caught:
        parse_list_objects_v2(b"<ListBucketResult><Name>b")
    error = caught.value.to_connector_error("ListObjectsV2", "s3://bucket/photos/")
    assert isinstance(error, IntegrityError) and error.kind == "integrity"
    assert error.message.startswith(
        "ListObjectsV2 s3://bucket/photos/: the response is not a listing page (not well-formed"
    )


# --- pages parsed when read -----------------------------------------------------------------


TOKEN = "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="


@GENERATED
@given(body=pages())
def test_a_listing_page_tells_where_the_listing_goes_as_its_parse_does(body):
    page = ListingPage(body, refused)
    going = page.get("IsTruncated"), page.get("KeyCount"), page.get("NextContinuationToken")
    parsed = parse_list_objects_v2(body)
    assert going == tuple(parsed.get(name) for name in GOING)
    assert dict(page) == parsed


GOING = ("IsTruncated", "KeyCount", "NextContinuationToken")


def test_a_page_is_parsed_only_when_its_entries_are_read():
    body = s3_page(["a", "b"], truncated=True).replace(b"<Size>1</Size>", b"<Size>1x</Size>")
    page = ListingPage(body, refused)
    assert tuple(page[name] for name in GOING) == (True, 2, TOKEN)
    with pytest.raises(IntegrityError, match="Size is '1x', not a whole number"):
        page.get("Contents")


@pytest.mark.parametrize(
    "body",
    [
        s3_page(["a", "b"], truncated=True).replace(TOKEN.encode(), b"a&amp;b"),
        s3_page(["a", "b"]).replace(b"</ListBucketResult>", b"</ListBucketResult>\n<!-- -->"),
        s3_page(["a", "b"], namespace=False).replace(
            b"<Name>", b"<IsTruncated>true</IsTruncated><Name>"
        ),
        s3_page(["a", "b"]).replace(b"<KeyCount>2</KeyCount>", b""),
        s3_page(["a", "b"]).replace(b"<Name>", b"<KeyCount>2</KeyCount><Name>"),
    ],
    ids=[
        "entity in the token",
        "not ended by its root",
        "two IsTruncated",
        "no KeyCount",
        "two KeyCount",
    ],
)
def test_a_page_that_cannot_be_read_ahead_is_parsed_at_once(body):
    assert dict(ListingPage(body, refused)) == parse_list_objects_v2(body)
    bad_size = body.replace(b"<Size>1</Size>", b"<Size>1x</Size>")
    with pytest.raises(IntegrityError, match="Size is '1x'"):
        ListingPage(bad_size, refused)


def test_a_continuation_read_ahead_that_the_parse_contradicts_is_refused():
    hidden = b"<!--<IsTruncated>true</IsTruncated>-->"
    body = s3_page(["a"], truncated=True).replace(b"<IsTruncated>true</IsTruncated>", hidden)
    page = ListingPage(body, refused)
    assert page["IsTruncated"] is True
    with pytest.raises(IntegrityError, match="IsTruncated read ahead as True, parsed as None"):
        page.get("Contents")


def test_a_key_count_read_ahead_that_the_parse_contradicts_is_refused():
    hidden = b"<!--<KeyCount>9</KeyCount>-->"
    body = s3_page(["a", "b"], truncated=True).replace(b"<KeyCount>2</KeyCount>", hidden)
    page = ListingPage(body, refused)
    assert page["KeyCount"] == 9
    with pytest.raises(IntegrityError, match="KeyCount read ahead as 9, parsed as None"):
        page.get("Contents")
