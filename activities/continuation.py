"""Continuation tokens for listings that may stop in the middle of a ListObjectsV2 page.

A listing that stops at a page boundary hands on S3's own token. One that stops inside a page
(a filter, or common prefixes counted apart from objects) hands on a token of its own that
resumes after the last entry it returned, through StartAfter. Both are opaque to the caller,
and both resume exactly: no entry is lost or repeated.
"""

from __future__ import annotations

import base64
import binascii

from s3_connector.connector.errors import InvalidInput

_MARK = "s3c1."
_AFTER_EVERY_KEY = "\U0010ffff"
"""Sorts after any character S3 allows in a key, so `prefix + it` skips a common prefix."""


def after_entry(entry: str, *, is_prefix: bool) -> str:
    """A token that resumes after `entry`: an object key, or a common prefix and all of the
    keys it groups."""
    start_after = entry + _AFTER_EVERY_KEY if is_prefix else entry
    return _MARK + base64.urlsafe_b64encode(start_after.encode("utf-8")).decode("ascii")


def request_params(token: str | None, field: str = "continuation_token") -> dict[str, str]:
    """The ListObjectsV2 parameters that resume from `token`."""
    if not token:
        return {}
    if not token.startswith(_MARK):
        return {"ContinuationToken": token}
    try:
        encoded = token[len(_MARK) :].encode("ascii")
        start_after = base64.b64decode(encoded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidInput("is not a token this connector issued", field=field) from None
    if not start_after:
        raise InvalidInput("is not a token this connector issued", field=field)
    return {"StartAfter": start_after}


def sort_key(entry: str) -> bytes:
    """S3 lists keys in the order of their UTF-8 bytes."""
    return entry.encode("utf-8")
