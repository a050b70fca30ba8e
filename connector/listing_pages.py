"""ListObjectsV2 pages (and the other listings the CRT plane reads: ListMultipartUploads,
GetObjectAttributes' parts, GetBucketLocation) from their raw XML, without botocore's per-key
model walk.

`parse_list_objects_v2` turns a response body into the dict botocore's `list_objects_v2`
returns (its `RestXMLParser` on the output shape, then the `decode_list_object_v2` handler),
minus `ResponseMetadata` and the `RequestCharged` header, with one difference: each
`LastModified` (and `RestoreExpiryDate`) is the ISO 8601 string that
`botocore_chain.parse_timestamp_fast(text).isoformat()` gives, e.g.
`2026-12-03T09:00:00+00:00` or `2026-12-03T09:00:00.123000+00:00`, which is what the
activities print (`data_plane.list_page`).

The request is expected to send `encoding-type=url`, as botocore does: when the page says
`<EncodingType>url</EncodingType>`, Key, Prefix, Delimiter, StartAfter and each common prefix
are decoded with `urllib.parse.unquote_plus` (botocore's `unquote_str`; S3 encodes a space as
`+` and a `+` as `%2B`). The tree is built by the C parser in one call (`XMLParser.feed`);
walking it is the Python part, about as costly as building it.

The CRT plane hands out each page as a `ListingPage`: where the listing goes next and how
many entries the page holds are read from the raw body at once (about 7 ms sooner on a page
of 1,000 keys), so the next page is already asked for while this one is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote_plus
from xml.etree.ElementTree import Element, ParseError, XMLParser

from .errors import ConnectorError, IntegrityError

ROOT = "ListBucketResult"

_TOP_STRINGS = frozenset(
    {
        "Name",
        "Prefix",
        "Delimiter",
        "EncodingType",
        "ContinuationToken",
        "NextContinuationToken",
        "StartAfter",
    }
)
_TOP_INTEGERS = frozenset({"MaxKeys", "KeyCount"})
_TOP_DECODED = ("Prefix", "Delimiter", "StartAfter")
"""The top-level strings `decode_list_object_v2` unquotes (tokens are not encoded)."""
_OBJECT_STRINGS = frozenset({"Key", "ETag", "StorageClass", "ChecksumType"})
_OWNER_STRINGS = frozenset({"DisplayName", "ID"})

_FAST_TIMESTAMP = re.compile(
    r"(\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)"
    r"(?:\.(\d{1,6}))?Z"
).fullmatch
"""S3's own form, `2026-12-03T09:00:00.123Z`, formatted without building a datetime."""
_VALID_DAYS: set[str] = set()
"""Dates (YYYY-MM-DD) the fast path has seen to exist (the pattern allows 31 February)."""
_TIMESTAMPS: dict[str, str] = {}
"""Recent timestamps and their ISO 8601 (keys written together share their second)."""
_CACHED = 4096
_LOCAL_NAMES: dict[str, str] = {}
"""Tags seen (up to 256) and their local names."""


class MalformedListing(ValueError):
    """A ListObjectsV2 response body that is not a well-formed ListBucketResult: cut short,
    garbled, another document, or a value that does not parse (a Size that is not a number,
    an entry without a Key). Nothing of the page was used. `to_connector_error` gives the
    taxonomy's `IntegrityError` (which `errors.translate` calls)."""

    def to_connector_error(self, operation: str, target: str) -> ConnectorError:
        return IntegrityError(f"{operation} {target}: the response is not a listing page ({self})")


def parse_list_objects_v2(body: bytes) -> dict[str, Any]:
    """The ListObjectsV2 page in `body`, shaped as botocore parses it (see the module):
    `Contents` [{Key, LastModified, ETag, Size, StorageClass, maybe ChecksumAlgorithm [...],
    ChecksumType, Owner {DisplayName, ID}, RestoreStatus {...}}], `CommonPrefixes`
    [{Prefix}], `IsTruncated` (bool), `KeyCount`, `MaxKeys` (int), `Name`, `Prefix`,
    `Delimiter`, `EncodingType`, `ContinuationToken`, `NextContinuationToken`,
    `StartAfter`; each only when the page has it. Raises `MalformedListing`."""
    root = _parse_xml(body)
    if _local(root.tag) != ROOT:
        raise MalformedListing(f"the root element is {_shown(root.tag)}, not {ROOT}")
    page: dict[str, Any] = {}
    contents: list[Element] = []
    prefixes: list[Element] = []
    for child in root:
        name = _local(child.tag)
        if name == "Contents":
            contents.append(child)
        elif name == "CommonPrefixes":
            prefixes.append(child)
        elif name in _TOP_STRINGS:
            page[name] = child.text or ""
        elif name == "IsTruncated":
            page[name] = child.text == "true"
        elif name in _TOP_INTEGERS:
            page[name] = _integer(name, child.text)
    decode = _unquote if page.get("EncodingType") == "url" else None
    if decode is not None:
        for name in _TOP_DECODED:
            if name in page:
                page[name] = decode(page[name])
    if contents:
        page["Contents"] = [_object(element, decode) for element in contents]
    if prefixes:
        page["CommonPrefixes"] = [_common_prefix(element, decode) for element in prefixes]
    return page


class ListingPage(Mapping):
    """A ListObjectsV2 page: `parse_list_objects_v2`'s dict, parsed when first read, except
    for where the listing goes next. `IsTruncated`, `KeyCount` and `NextContinuationToken`
    are read from the raw body at once (`_read_ahead`), so the next page can be asked for
    while this one is parsed; the parse checks them again. A body where they cannot be read
    at once (not closed by its root tag, a token holding an entity, no KeyCount...) is parsed
    at once. A page that does not parse raises `to_error(MalformedListing)` when read."""

    def __init__(self, body: bytes, to_error: Callable[[MalformedListing], Exception]):
        self._body = body
        self._to_error = to_error
        self._page: dict[str, Any] | None = None
        self._ahead = _read_ahead(body)
        if self._ahead is None:
            self._parsed()

    def __getitem__(self, name: str) -> Any:
        if self._page is None and self._ahead is not None and name in self._ahead:
            return self._ahead[name]
        return self._parsed()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())

    def _parsed(self) -> dict[str, Any]:
        if self._page is None:
            try:
                page = parse_list_objects_v2(self._body)
                for name, value in (self._ahead or {}).items():
                    if page.get(name) != value:
                        raise MalformedListing(
                            f"{name} read ahead as {value!r}, parsed as {page.get(name)!r}"
                        )
            except MalformedListing as exc:
                raise self._to_error(exc) from None
            self._page, self._body = page, b""
        return self._page


_CLOSED = re.compile(rb"</ListBucketResult>\s*\Z")
_TRUNCATED = re.compile(rb"<IsTruncated>(true|false)</IsTruncated>")
_NEXT_TOKEN = re.compile(rb"<NextContinuationToken>([^<&]*)</NextContinuationToken>")
_KEY_COUNT = re.compile(rb"<KeyCount>([0-9]{1,9})</KeyCount>")


def _read_ahead(body: bytes) -> dict[str, Any] | None:
    """IsTruncated, KeyCount and NextContinuationToken of a raw page, or None when they
    cannot be read without parsing it. In well-formed XML a `<` in text is escaped, so each
    tag found is markup; each must be found once (the token only on a truncated page)."""
    if not isinstance(body, bytes) or not _CLOSED.search(body, max(0, len(body) - 64)):
        return None
    truncated = _TRUNCATED.findall(body)
    counts = _KEY_COUNT.findall(body)
    if len(truncated) != 1 or len(counts) != 1 or body.count(b"<KeyCount") != 1:
        return None
    ahead: dict[str, Any] = {"IsTruncated": truncated[0] == b"true", "KeyCount": int(counts[0])}
    if ahead["IsTruncated"]:
        tokens = _NEXT_TOKEN.findall(body)
        if len(tokens) != 1 or body.count(b"<NextContinuationToken") != 1:
            return None
        try:
            ahead["NextContinuationToken"] = tokens[0].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return ahead


def parse_multipart_uploads(body: bytes) -> list[dict[str, Any]]:
    """A ListMultipartUploads page's uploads, as botocore names them: Key (decoded when the
    page says `url` encoding), UploadId, and Initiated as a datetime."""
    root = _parse_xml(body)
    decode = _unquote if _child_text(root, "EncodingType") == "url" else str
    uploads = []
    for element in root:
        if _local(element.tag) != "Upload":
            continue
        fields = {_local(child.tag): child.text or "" for child in element}
        upload: dict[str, Any] = {
            "Key": decode(fields.get("Key", "")),
            "UploadId": fields.get("UploadId", ""),
        }
        if fields.get("Initiated"):
            upload["Initiated"] = datetime.fromisoformat(
                _timestamp("Initiated", fields["Initiated"])
            )
        uploads.append(upload)
    return uploads


def parse_object_parts(body: bytes) -> dict[str, Any]:
    """GetObjectAttributes' ObjectParts, as botocore shapes it: Parts (PartNumber, Size),
    IsTruncated and NextPartNumberMarker."""
    root = _parse_xml(body)
    found: dict[str, Any] = {"Parts": []}
    for element in root:
        if _local(element.tag) != "ObjectParts":
            continue
        for child in element:
            name = _local(child.tag)
            if name == "Part":
                part = {_local(item.tag): item.text for item in child}
                found["Parts"].append(
                    {
                        "PartNumber": _integer("PartNumber", part.get("PartNumber")),
                        "Size": _integer("Size", part.get("Size")),
                    }
                )
            elif name == "IsTruncated":
                found["IsTruncated"] = (child.text or "").strip() == "true"
            elif name == "NextPartNumberMarker":
                found["NextPartNumberMarker"] = _integer(name, child.text)
    return found


def parse_location(body: bytes) -> str | None:
    """GetBucketLocation's LocationConstraint: None for us-east-1 (an empty element)."""
    return _parse_xml(body).text or None


def _child_text(element: Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return child.text
    return None


def _parse_xml(body: bytes) -> Element:
    if isinstance(body, memoryview):
        body = bytes(body)
    if not isinstance(body, bytes | bytearray):
        raise MalformedListing(f"the body is {type(body).__name__}, not bytes")
    parser = XMLParser(encoding="utf-8")  # botocore's choice: S3's XML is UTF-8
    try:
        parser.feed(body)
        return parser.close()
    except ParseError as exc:
        raise MalformedListing(f"not well-formed XML ({len(body)} bytes): {exc}") from None


def _object(
    element: Element,
    decode: Any,
    names: dict[str, str] = _LOCAL_NAMES,
    timestamps: dict[str, str] = _TIMESTAMPS,
) -> dict[str, Any]:
    # the hot loop of a listing: a few lookups per element (the defaults bind them locally)
    item: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        name = names.get(tag) or _local(tag)
        if name in _OBJECT_STRINGS:
            item[name] = child.text or ""
        elif name == "LastModified":
            text = child.text or ""
            item[name] = timestamps.get(text) or _timestamp(name, text)
        elif name == "Size":
            try:
                item[name] = int(child.text)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                item[name] = _integer(name, child.text)
        elif name == "ChecksumAlgorithm":
            item.setdefault(name, []).append(child.text or "")
        elif name == "Owner":
            item[name] = {
                local: owned.text or ""
                for owned in child
                if (local := _local(owned.tag)) in _OWNER_STRINGS
            }
        elif name == "RestoreStatus":
            item[name] = _restore_status(child)
    if "Key" not in item:
        raise MalformedListing("an entry of Contents has no Key")
    if decode is not None:
        item["Key"] = decode(item["Key"])
    return item


def _common_prefix(element: Element, decode: Any) -> dict[str, str]:
    entry: dict[str, str] = {}
    for child in element:
        if _local(child.tag) == "Prefix":
            entry["Prefix"] = child.text or ""
    if "Prefix" not in entry:
        raise MalformedListing("an entry of CommonPrefixes has no Prefix")
    if decode is not None:
        entry["Prefix"] = decode(entry["Prefix"])
    return entry


def _restore_status(element: Element) -> dict[str, Any]:
    status: dict[str, Any] = {}
    for child in element:
        name = _local(child.tag)
        if name == "IsRestoreInProgress":
            status[name] = child.text == "true"
        elif name == "RestoreExpiryDate":
            text = child.text or ""
            status[name] = _TIMESTAMPS.get(text) or _timestamp(name, text)
    return status


def _local(tag: Any) -> str:
    """The tag without its namespace (`{http://s3.amazonaws.com/doc/2006-03-01/}Key` is
    `Key`), as botocore strips any `{...}`. Known tags are remembered (a handful per page)."""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        if not isinstance(tag, str):  # a comment or processing instruction
            return ""
        name = tag.rpartition("}")[2] if tag[:1] == "{" else tag
        if len(_LOCAL_NAMES) < 256:
            _LOCAL_NAMES[tag] = name
    return name


def _unquote(text: str) -> str:
    """`unquote_plus(text)` (botocore's `unquote_str`), with its cost (about 2 µs a key
    with a %) spared when the only escape is %2F, the / of S3's keys."""
    if "%" in text:
        slashed = text.replace("%2F", "/")
        if "%" in slashed:
            return unquote_plus(text)
        text = slashed
    return text.replace("+", " ") if "+" in text else text


def _integer(name: str, text: str | None) -> int:
    try:
        return int(text or "")
    except ValueError:
        raise MalformedListing(f"{name} is {_shown(text)}, not a whole number") from None


def _timestamp(name: str, text: str) -> str:
    """`text`'s ISO 8601 as `datetime.isoformat` writes the connection's parse of it."""
    match = _FAST_TIMESTAMP(text)
    if match is not None and (text[:10] in _VALID_DAYS or _valid_day(text[:10])):
        seconds, fraction = match.groups()
        if fraction is None or not fraction.strip("0"):
            iso = seconds + "+00:00"
        else:
            iso = f"{seconds}.{fraction:0<6}+00:00"
    else:
        iso = _parsed_timestamp(name, text)
    if len(_TIMESTAMPS) >= _CACHED:
        _TIMESTAMPS.clear()
    _TIMESTAMPS[text] = iso
    return iso


def _valid_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    if len(_VALID_DAYS) > 10_000:
        _VALID_DAYS.clear()
    _VALID_DAYS.add(day)
    return True


def _parsed_timestamp(name: str, text: str) -> str:
    """Any other form, as `botocore_chain.parse_timestamp_fast`: `datetime.fromisoformat`, else
    botocore's parser."""
    if text[:1].isdigit():
        try:
            return datetime.fromisoformat(text).isoformat()
        except ValueError:
            pass
    from botocore.utils import parse_timestamp

    try:
        return parse_timestamp(text).isoformat()
    except Exception:
        raise MalformedListing(f"{name} is {_shown(text)}, not a timestamp") from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
