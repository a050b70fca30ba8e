"""The redaction layer: registered secrets in every encoding, SigV4 signatures and tokens are
masked in text and in every log record of the process."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import threading
import urllib.parse
import uuid

import boto3
import pytest
from support import MOTO_SETTINGS

from s3_connector.connector import redaction
from s3_connector.connector.connection import Connection
from s3_connector.connector.errors import ConnectorError
from s3_connector.connector.fields import SseCustomerKey
from s3_connector.connector.redaction import (
    MASK,
    install_logging_redaction,
    redact,
    register,
    register_sse_c_key,
)
from s3_connector.connector.secrets import Secret


def distinctive(label: str) -> str:
    return f"{label}+{uuid.uuid4().hex}/Zz=="


def test_a_registered_value_and_its_url_encoding_are_masked():
    token = distinctive("token")
    register(token)
    encoded = urllib.parse.quote(token, safe="")
    assert encoded != token
    lower = re.sub("%[0-9A-F]{2}", lambda match: match.group().lower(), encoded)
    text = f"a={token}&b={encoded}&c={lower}|{token!r}"
    masked = redact(text)
    assert token not in masked and encoded not in masked
    assert masked == f"a={MASK}&b={MASK}&c={MASK}|'{MASK}'"


def test_escaped_forms_of_a_value_with_a_line_break_are_masked():
    token = f"line-one\nline-two-{uuid.uuid4().hex}\"'"
    register(token)
    shown = [
        token,
        repr(token),
        repr(token.encode()),
        f"Invalid header value {token.encode()!r}",
        json.dumps({"token": token}),
    ]
    for text in shown:
        assert "line-two" not in redact(text), text


def test_a_value_with_a_lone_surrogate_is_registered():
    marker = uuid.uuid4().hex
    value = f"\udcff{marker}"
    register(value)
    assert redact(f"[{value}] [{urllib.parse.quote(marker)}]") == f"[{MASK}] [{marker}]"


def test_short_and_missing_values_are_ignored():
    register(None)
    register("abc")
    register(b"xyz")
    assert redact("abc xyz abcd") == "abc xyz abcd"


def test_each_encoding_of_an_sse_c_key_is_masked():
    raw = os.urandom(32)
    register_sse_c_key(raw)
    md5 = hashlib.md5(raw).digest()
    forms = {
        "base64": base64.b64encode(raw).decode(),
        "base64, URL-encoded": urllib.parse.quote(base64.b64encode(raw).decode(), safe=""),
        "raw bytes": repr(raw),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "md5 base64": base64.b64encode(md5).decode(),
        "md5 hex": md5.hex(),
        "MD5 HEX": md5.hex().upper(),
    }
    for name, form in forms.items():
        masked = redact(f"<Message>{name}: {form}</Message>")
        unquoted = masked.replace(f"b'{MASK}'", MASK).replace(f'b"{MASK}"', MASK)
        assert unquoted == f"<Message>{name}: {MASK}</Message>", name


def test_an_sse_customer_key_registers_its_encodings_when_made():
    raw = os.urandom(32)
    text = base64.b64encode(raw).decode()
    SseCustomerKey(text)
    md5 = hashlib.md5(raw).digest()
    for form in (text, repr(raw)[2:-1], raw.hex(), base64.b64encode(md5).decode(), md5.hex()):
        assert form not in redact(f"x {form} y")


def test_a_secret_registers_its_value_and_errors_are_redacted():
    value = distinctive("secret")
    Secret(value)
    assert redact(f"echo {value}") == f"echo {MASK}"
    assert value not in str(ConnectorError(f"S3 said: {value}"))


def test_signatures_and_security_tokens_are_masked_by_their_shape():
    signature = "a1b2c3d4" * 8
    url = (
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAEXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
        f"&X-Amz-Security-Token=IQoJb3JpZ2luX2Vj%2Bunregistered&X-Amz-Signature={signature}"
    )
    masked = redact(url)
    assert signature not in masked and "unregistered" not in masked
    assert f"X-Amz-Signature={MASK}" in masked and f"X-Amz-Security-Token={MASK}&" in masked
    assert "X-Amz-Credential=AKIAEXAMPLE%2F20240101" in masked
    header = (
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20240101/us-east-1/s3/"
        f"aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature={signature}"
    )
    assert redact(header) == header.replace(signature, MASK)
    assert signature not in redact(f"Signature:\n{signature}")
    assert signature not in redact(f"x-amz-signature%3D{signature}")
    headers = "{'x-amz-security-token': b'unregisteredToken', 'x-amz-date': b'20240101'}"
    assert redact(headers) == "{'x-amz-security-token': b'****', 'x-amz-date': b'20240101'}"
    canonical = "x-amz-server-side-encryption-customer-key:c2VjcmV0\nx-amz-date:20240101"
    assert redact(canonical) == f"x-amz-server-side-encryption-customer-key:{MASK}\n" + (
        "x-amz-date:20240101"
    )


def test_nothing_to_mask_leaves_the_text_alone():
    text = "SignatureDoesNotMatch: SignedHeaders=host;x-amz-date, region us-east-1 " * 50
    assert redact(text) == text
    assert redact("") == ""


def test_the_longest_registered_value_wins():
    short = f"nested-{uuid.uuid4().hex}"
    register(short)
    register(f"{short}-and-longer")
    assert redact(f"[{short}-and-longer] [{short}]") == f"[{MASK}] [{MASK}]"


def test_the_registry_is_bounded_least_recently_registered_first():
    registry = redaction._Registry(limit=3)
    registry.add(["first", "second", "third"])
    registry.add(["first"])  # registered again: now the most recent
    registry.add(["fourth"])
    assert len(registry) == 3
    assert registry.mask("first second third fourth") == f"{MASK} second {MASK} {MASK}"
    registry.add(["fifth"])  # second is dropped, third only masked until its regex merges
    assert "second" in registry.mask("second fifth") and "fifth" not in registry.mask("fifth")


def test_regexes_merge_as_they_grow_and_overlaps_mask_as_one():
    registry = redaction._Registry()
    for n in range(100):
        registry.add([f"value-{n:03d}"])
        assert registry.mask(f"<value-{n:03d}>") == f"<{MASK}>"
    assert len(registry.patterns()) <= 8
    patterns = (re.compile("abcdef-overlap"), re.compile("overlap-ghij"), re.compile("yy"))
    assert redaction._mask_spans("xx abcdef-overlap-ghij yyy", patterns) == f"xx {MASK} {MASK}y"


@pytest.fixture
def debug_log():
    """Everything logged in the process at DEBUG, formatted by an ordinary handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_log_records_of_any_logger_are_redacted(debug_log):
    install_logging_redaction()
    marker = uuid.uuid4().hex
    token = f"logged+{marker}/Zz=="
    register(token)
    logger = logging.getLogger("botocore.endpoint")
    logger.debug("Making request with params: %s", {"headers": {"X-Amz-Security-Token": token}})
    logger.debug("percent %s and %d", token, 5)
    try:
        raise RuntimeError(f"Invalid header value {token.encode()!r}")
    except RuntimeError:
        logger.debug("failed", exc_info=True)
        logging.getLogger("host.app").exception("an embedding host logs %s", token)
    text = debug_log.getvalue()
    assert marker not in text
    assert "RuntimeError: Invalid header value b'****'" in text
    assert "Traceback" in text and "percent **** and 5" in text


def test_a_record_keeps_its_message_without_args(debug_log):
    install_logging_redaction()
    record = logging.getLogger("botocore.auth").makeRecord(
        "botocore.auth", logging.DEBUG, __file__, 1, "Signature:\n%s", ("ab" * 32,), None
    )
    assert record.args is None and record.msg == f"Signature:\n{MASK}"
    broken = logging.getLogger("x").makeRecord("x", logging.DEBUG, "f", 1, "%d", ("no",), None)
    assert broken.getMessage() == "%d ('no',)"


def test_install_is_idempotent_and_chains_the_previous_factory(debug_log):
    original = logging.getLogRecordFactory()
    seen = []

    def host_factory(*args, **kwargs):
        record = original(*args, **kwargs)
        seen.append(record.name)
        return record

    logging.setLogRecordFactory(host_factory)
    try:
        install_logging_redaction()
        installed = logging.getLogRecordFactory()
        install_logging_redaction()
        assert logging.getLogRecordFactory() is installed and installed is not host_factory
        token = distinctive("chained")
        register(token)
        logging.getLogger("urllib3.connectionpool").debug("got %s", token)
        assert seen == ["urllib3.connectionpool"]
        assert "chained" not in debug_log.getvalue()
    finally:
        logging.setLogRecordFactory(original)


def test_a_connection_installs_redaction_and_registers_resolved_credentials(monkeypatch):
    original = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        secret = distinctive("env-secret")
        token = distinctive("env-token")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
        connection = Connection({})
        assert getattr(logging.getLogRecordFactory(), "_s3c_redacting", False)
        connection.session()
        assert redact(f"{secret} {token}") == f"{MASK} {MASK}"
    finally:
        logging.setLogRecordFactory(original)


def test_assumed_role_credentials_are_registered_when_fetched(moto):
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="redacted", AssumeRolePolicyDocument="{}")["Role"]
    connection = Connection({**MOTO_SETTINGS, "auth": "assume_role", "role_arn": role["Arn"]})
    frozen = connection.session().get_credentials().get_frozen_credentials()
    assert redact(f"{frozen.secret_key} {frozen.token}") == f"{MASK} {MASK}"


def test_registering_and_redacting_from_many_threads():
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                value = f"thread-{n}-{i}-{uuid.uuid4().hex}"
                register(value)
                if redact(f"<{value}>") != f"<{MASK}>":
                    errors.append(value)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
