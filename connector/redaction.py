"""Redaction: the secrets this process has seen are masked in every error and log record.

Every `Secret` registers its value when it is made, an SSE-C key registers each encoding of
its key, and the connection registers the credentials it resolves. `redact` masks each
registered form, and the signatures and security tokens of SigV4 requests and presigned URLs,
with `****`. `install_logging_redaction` makes every log record of the process (botocore,
urllib3, s3transfer, the host application's...) redacted before any handler sees it.

Nothing here imports the rest of the connector: errors, secrets and fields import it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import logging
import re
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Iterable

MASK = "****"
MIN_LENGTH = 4
"""Shorter values are not registered: masking them would mask noise."""
MAX_FORMS = 10_000
"""Registered forms kept; the least recently registered is dropped first. Registering a value
again (each time a `Secret` of it is made) makes it the most recent."""

_SIGNATURE = re.compile(r"([Ss](?i:ignature)(?:=|%3[dD]|:\s*))[0-9a-fA-F]{16,}")
"""The hex signature of a presigned URL (`X-Amz-Signature=`), of an Authorization header
(`Signature=`) and of botocore's signing log (`Signature:`)."""
_SECRET_HEADER = re.compile(
    r"([xX]-(?i:amz-(?:security-token"
    r"|(?:copy-source-)?server-side-encryption-customer-key(?:-md5)?))"
    r"(?:=|%3[dD]|:[ \t]*|['\"]:[ \t]*b?['\"]))[^\s&'\"<>,;]+"
)
"""The value of a security token or SSE-C key, registered or not, in a query string
(`X-Amz-Security-Token=`), a header line (`x-amz-security-token: ...`) or a headers dict."""
_KEEP_NAME = rf"\g<1>{MASK}"


def _mask_shapes(text: str) -> str:
    """Mask the secrets recognised by their shape (two regexes, run only when their names
    occur: the scan of a lower-cased copy is far cheaper than theirs)."""
    lowered = text.lower()
    if "signature" in lowered:
        text = _SIGNATURE.sub(_KEEP_NAME, text)
    if "x-amz-" in lowered:
        text = _SECRET_HEADER.sub(_KEEP_NAME, text)
    return text


# --- derived forms ---------------------------------------------------------------------------


def _str_escaped(value: str) -> set[str]:
    """How `value` shows inside a str repr (both quote styles) and inside a JSON string."""
    inner = repr(value + "\"'")[1:-4]  # forces single quotes, so ' shows as \'
    forms = {inner, inner.replace("\\'", "'")}
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    return forms


def _bytes_escaped(value: bytes) -> set[str]:
    """How `value` shows inside a bytes repr, `b'\\x..'` (both quote styles)."""
    inner = repr(value + b"\"'")[2:-4]
    return {inner, inner.replace("\\'", "'")}


def _url_encoded(value: str) -> set[str]:
    # surrogatepass: a lone surrogate (JSON's "\udcff") has no UTF-8, but may be a secret
    quoted = urllib.parse.quote(value.encode("utf-8", "surrogatepass"), safe="")
    return {quoted, re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quoted)}


def _forms(value: str | bytes) -> set[str]:
    if isinstance(value, bytes):
        forms = _bytes_escaped(value) | {value.decode("latin-1")}
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return forms
        return forms | _forms(text)
    forms = {value} | _url_encoded(value) | _str_escaped(value)
    with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate has no UTF-8
        forms |= _bytes_escaped(value.encode("utf-8"))
    return forms


def sse_c_key_forms(raw: bytes) -> list[str | bytes]:
    """The values an SSE-C key shows as: its base64, its raw bytes, its hex (lower and upper
    case), and its MD5 in base64 and hex."""
    md5 = hashlib.md5(raw, usedforsecurity=False).digest()
    return [
        base64.b64encode(raw).decode("ascii"),
        raw,
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(md5).decode("ascii"),
        md5.hex(),
        md5.hex().upper(),
    ]


# --- the registry ----------------------------------------------------------------------------


def _alternation(values: list[str], depth: int = 0) -> str:
    """A regex matching exactly `values` (sorted, distinct, sharing their first `depth`
    characters), factored by common prefix so that a position is rejected after a few
    characters; at each position the longest value wins (an optional tail is greedy)."""
    first, last = values[0], values[-1]
    common = depth
    while common < min(len(first), len(last)) and first[common] == last[common]:
        common += 1  # sorted: the common prefix of the first and last is everyone's
    head = re.escape(first[depth:common])
    longer = [value for value in values if len(value) > common]
    if not longer:
        return head
    branches = []
    start = 0
    for index in range(1, len(longer) + 1):
        if index == len(longer) or longer[index][common] != longer[start][common]:
            branches.append(_alternation(longer[start:index], common))
            start = index
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if len(longer) < len(values):  # one value ends here: the rest is optional
        body = (body if len(branches) > 1 else f"(?:{body})") + "?"
    return head + body


def _compile(values: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted(set(values))
    try:
        return re.compile(_alternation(ordered))
    except (RecursionError, re.error):  # pathological nesting: a flat alternation
        ordered.sort(key=len, reverse=True)
        return re.compile("|".join(map(re.escape, ordered)))


def _mask_spans(text: str, patterns: tuple[re.Pattern[str], ...]) -> str:
    """`text` with every match of any of `patterns` masked; overlapping matches are masked
    as one (so the longest registered value wins across patterns too)."""
    if len(patterns) == 1:
        return patterns[0].sub(MASK, text)
    spans = sorted(match.span() for pattern in patterns for match in pattern.finditer(text))
    if not spans:
        return text
    parts = []
    position = 0
    start, end = spans[0]
    for next_start, next_end in spans[1:]:
        if next_start < end:
            end = max(end, next_end)
            continue
        parts += (text[position:start], MASK)
        position = end
        start, end = next_start, next_end
    parts += (text[position:start], MASK, text[end:])
    return "".join(parts)


class _Registry:
    """Registered forms, most recent last, matched by a few alternation regexes.

    A regex is compiled lazily, on the first use after a change, from the forms registered
    since the last compilation; the regexes are merged as they grow (each at least twice the
    size of the next, so there are about log2(forms) of them) and a form is compiled about
    log2(forms) times in all, rather than all forms at every change. A dropped form stays
    matched until its regex is merged: masking it a while longer is harmless."""

    def __init__(self, limit: int = MAX_FORMS):
        self.limit = limit
        self._lock = threading.Lock()
        self._forms: OrderedDict[str, None] = OrderedDict()
        self._pending: list[str] = []
        self._levels: list[tuple[frozenset[str], re.Pattern[str]]] = []
        self._patterns: tuple[re.Pattern[str], ...] = ()

    def add(self, forms: Iterable[str]) -> None:
        with self._lock:
            for form in forms:
                if len(form) < MIN_LENGTH:
                    continue
                if form in self._forms:
                    self._forms.move_to_end(form)
                    continue
                self._forms[form] = None
                self._pending.append(form)
            while len(self._forms) > self.limit:
                self._forms.popitem(last=False)

    def patterns(self) -> tuple[re.Pattern[str], ...]:
        if not self._pending:
            return self._patterns
        with self._lock:
            if self._pending:
                self._compile_pending()
            return self._patterns

    def _compile_pending(self) -> None:
        """Under the lock. `_pending` is emptied last: until the new regexes are in place,
        a reader must not take the old ones for complete."""
        levels = self._levels
        new = frozenset(form for form in self._pending if form in self._forms)
        if new:
            levels.append((new, _compile(new)))
        while len(levels) > 1 and 2 * len(levels[-1][0]) >= len(levels[-2][0]):
            newer, older = levels.pop(), levels.pop()
            merged = frozenset(form for form in older[0] | newer[0] if form in self._forms)
            if merged:
                levels.append((merged, _compile(merged)))
        self._patterns = tuple(pattern for _, pattern in levels)
        self._pending = []

    def mask(self, text: str) -> str:
        patterns = self.patterns()
        return _mask_spans(text, patterns) if patterns else text

    def __len__(self) -> int:
        return len(self._forms)


_registry = _Registry()


@functools.lru_cache(maxsize=1024)
def _value_forms(value: str | bytes) -> frozenset[str]:
    return frozenset(_forms(value))


@functools.lru_cache(maxsize=1024)
def _key_forms(raw: bytes) -> frozenset[str]:
    forms: set[str] = set()
    for value in sse_c_key_forms(raw):
        forms |= _forms(value)
    return frozenset(forms)


def register(value: str | bytes | None) -> None:
    """Remember a secret value, with the forms it may show as: itself, URL-encoded, escaped in
    a str, bytes or JSON literal. None and values shorter than 4 characters are ignored."""
    if value is None or len(value) < MIN_LENGTH:
        return
    _registry.add(_value_forms(value))  # a value seen again (each settings load) is cached


def register_sse_c_key(raw: bytes) -> None:
    """Remember an SSE-C key (its raw 32 bytes) in each encoding it may show as: base64, the
    raw bytes, hex, and its MD5 in base64 and hex (see `sse_c_key_forms`)."""
    _registry.add(_key_forms(bytes(raw)))


def redact(text: str) -> str:
    """`text` with every registered secret, and every SigV4 signature or security token,
    replaced by `****`."""
    if not isinstance(text, str):
        text = str(text)
    if not text:
        return text
    return _mask_shapes(_registry.mask(text))


# --- logging ---------------------------------------------------------------------------------


_install_lock = threading.Lock()
_exception_formatter = logging.Formatter()


def _redact_record(record: logging.LogRecord) -> None:
    """Compute the record's message, redacted, as its `msg` (with no args), and its
    traceback, redacted, as its `exc_text`; so no handler or formatter sees a secret."""
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the format: keep both, redacted
        message = f"{record.msg} {record.args!r}"
    record.msg = redact(message)
    record.args = None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = redact(_exception_formatter.formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install_logging_redaction() -> None:
    """Make every log record of every logger of the process redacted before any handler sees
    it, by wrapping the log record factory (chained to the one in place). Idempotent. The
    factory is only called for records of enabled levels: with logging off it costs nothing."""
    with _install_lock:
        previous = logging.getLogRecordFactory()
        if getattr(previous, "_s3c_redacting", False):
            return

        def factory(*args, **kwargs) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        factory._s3c_redacting = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)
