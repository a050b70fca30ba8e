"""The AWS config chain against the real SeaweedFS server, as a new user has it: a temporary
HOME whose profile sets the region, the addressing style, an https endpoint signed by a
private CA (`ca_bundle`), `max_attempts = 1` and a `credential_process`. `s3c connection test`
and `s3c run` (on both data planes) must behave as boto3 (what `aws s3api` runs on) does with
the same files, and `connection test` must name the source.

The endpoint is a small TLS-terminating proxy on loopback, with a certificate made here by a
private CA, in front of the fault proxy (tests/faults), in front of SeaweedFS: the fault proxy
sees every request (its path tells the addressing style) and can answer 500 to count
attempts. Nothing leaves loopback.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, SSLError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from faults.proxy import FaultProxy
from forward_proxy import ForwardProxy

S3C = str(Path(sys.executable).with_name("s3c"))
REGION = "eu-west-2"
PROFILE = "chain"


# --- a private CA and a TLS proxy on loopback ------------------------------------------------


def make_ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) as PEM files: the server's for
    127.0.0.1 and localhost, signed by a CA made here."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "s3c test private CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


class TlsProxy:
    """Accepts TLS on 127.0.0.1:<free port> with `cert`, forwards the plain bytes to
    `upstream_port` on 127.0.0.1, one upstream connection per client connection."""

    def __init__(self, upstream_port: int, cert: Path, key: Path):
        self.upstream_port = upstream_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.handshakes_failed = 0
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def endpoint_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._stopped.set()
        self._acceptor.join(5)
        self.listener.close()
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(10)
        try:
            tls = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        try:
            while not self._stopped.is_set():
                ready = [tls] if tls.pending() else select.select([tls, upstream], [], [], 0.5)[0]
                for source in ready:
                    target = upstream if source is tls else tls
                    try:
                        data = source.recv(65536)
                    except ssl.SSLWantReadError:
                        continue
                    if not data:
                        return
                    target.sendall(data)
        except (OSError, ssl.SSLError):
            return
        finally:
            upstream.close()
            tls.close()


# --- the temporary HOME ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_chain(seaweed, tmp_path_factory):
    """TLS proxy -> fault proxy -> SeaweedFS, and the CA that signed the TLS proxy's cert."""
    folder = tmp_path_factory.mktemp("private-ca")
    ca, cert, key = make_ca_and_server_cert(folder)
    with FaultProxy(seaweed.endpoint_url) as faults:
        tls = TlsProxy(faults.port, cert, key)
        try:
            yield tls, faults, ca
        finally:
            tls.stop()


def write_home(root: Path, seaweed, endpoint: str, ca: Path | None) -> dict[str, str]:
    """~/.aws/config and ~/.aws/credentials of a user whose profile `chain` holds everything;
    the environment to run with (every AWS_* variable of ours cleared)."""
    aws = root / ".aws"
    aws.mkdir(parents=True, exist_ok=True)
    process = root / "credentials.py"
    process.write_text(
        "import json\n"
        f"print(json.dumps({{'Version': 1, 'AccessKeyId': {seaweed.access_key_id!r}, "
        f"'SecretAccessKey': {seaweed.secret_access_key!r}}}))\n"
    )
    ca_line = f"ca_bundle = {ca}\n" if ca is not None else ""
    (aws / "config").write_text(
        textwrap.dedent(
            f"""\
            [profile {PROFILE}]
            region = {REGION}
            endpoint_url = {endpoint}
            max_attempts = 1
            credential_process = {sys.executable} {process}
            s3 =
                addressing_style = path
            """
        )
        + ca_line
    )
    (aws / "credentials").write_text("")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name != "REQUESTS_CA_BUNDLE"
    }
    env.update(
        HOME=str(root),
        AWS_CONFIG_FILE=str(aws / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(aws / "credentials"),
        AWS_PROFILE=PROFILE,
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.pop("S3C_DEBUG", None)
    return env


@pytest.fixture
def home(tmp_path, seaweed, tls_chain, monkeypatch):
    """The user's HOME, and this process's environment set to it (for the boto3 reference).
    Tests ask for `seaweed_bucket` first: it is made with the suite's own client, before."""
    tls, _, ca = tls_chain
    env = write_home(tmp_path / "home", seaweed, tls.endpoint_url, ca)
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "REQUESTS_CA_BUNDLE":
            monkeypatch.delenv(name)
    for name in ("HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return env


def s3c(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([S3C, *args], env=env, capture_output=True, text=True, timeout=120)


def reference():
    """boto3 with the same files and nothing else: what `aws s3api` does."""
    return boto3.session.Session().client("s3")


# --- the tests ------------------------------------------------------------------------------


def test_connection_test_uses_the_profile_and_names_the_source(seaweed_bucket, home, tls_chain):
    tls, faults, _ = tls_chain
    faults.reset_counters()
    done = s3c(home, "connection", "test", "--bucket", seaweed_bucket)
    assert done.returncode == 0, done.stderr + done.stdout
    shown = json.loads(done.stdout)
    assert shown == {
        **shown,
        "ok": True,
        "call": "HeadBucket",
        "endpoint": tls.endpoint_url,
        "addressing_style": "path",
        "credentials": "custom-process",
        "profile": PROFILE,
    }
    assert shown["region"] == REGION
    # the request went through the TLS endpoint, path style, as boto3's does
    seen = [request.target for request in faults.history]
    assert seen and all(target.startswith(f"/{seaweed_bucket}") for target in seen)
    client = reference()
    assert client.meta.region_name == REGION and client.meta.endpoint_url == tls.endpoint_url
    assert client.head_bucket(Bucket=seaweed_bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    listed = s3c(home, "connection", "test")
    assert json.loads(listed.stdout)["ok"] is True
    assert json.loads(listed.stdout)["region"] == REGION


def test_run_puts_and_gets_through_the_profile(
    seaweed_bucket, home, tls_chain, data_plane, tmp_path
):
    _, faults, _ = tls_chain
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps({"data_plane": data_plane}))  # everything else: the profile
    source = tmp_path / "hello.txt"
    source.write_bytes(b"through the chain\n" * 100)
    faults.reset_counters()
    put = s3c(
        home,
        "run",
        "put_object",
        "-c",
        str(conn),
        "-p",
        f"bucket={seaweed_bucket}",
        "-p",
        "key=chain/hello.txt",
        "--input",
        str(source),
    )
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout.splitlines()[0])["size"] == source.stat().st_size
    seen = [request.target for request in faults.history]
    assert any(target.startswith(f"/{seaweed_bucket}/chain/hello.txt") for target in seen)
    assert all(target.startswith(f"/{seaweed_bucket}") for target in seen)  # path style
    # boto3 with the same files reads what s3c stored
    body = reference().get_object(Bucket=seaweed_bucket, Key="chain/hello.txt")["Body"].read()
    assert body == source.read_bytes()
    out = tmp_path / "out"
    got = s3c(
        home,
        "run",
        "get_object",
        "-c",
        str(conn),
        "-p",
        f"bucket={seaweed_bucket}",
        "-p",
        "key=chain/hello.txt",
        "--output",
        f"{out}/",
    )
    assert got.returncode == 0, got.stderr
    assert (out / "chain" / "hello.txt").read_bytes() == source.read_bytes()


def test_max_attempts_1_makes_one_attempt_like_boto3(
    seaweed_bucket, home, tls_chain, data_plane, tmp_path
):
    _, faults, _ = tls_chain
    reference().put_object(Bucket=seaweed_bucket, Key="once.txt", Body=b"once")
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps({"data_plane": data_plane, "region": REGION}))
    args = ["run", "list_objects", "-c", str(conn), "-p", f"bucket={seaweed_bucket}"]

    faults.clear()
    faults.reset_counters()
    faults.force("internal", method="GET", query_has="list-type", times=5)
    failed = s3c(home, *args)
    lists = [r for r in faults.history if "list-type" in r.target]
    assert failed.returncode == 4, failed.stderr  # transient, after its one attempt
    assert len(lists) == 1, lists
    assert len(failed.stderr.splitlines()) == 1 and "Traceback" not in failed.stderr

    faults.clear()
    faults.reset_counters()
    faults.force("internal", method="GET", query_has="list-type", times=5)
    with pytest.raises(ClientError):
        reference().list_objects_v2(Bucket=seaweed_bucket)
    assert len([r for r in faults.history if "list-type" in r.target]) == 1
    faults.clear()


def test_without_the_ca_bundle_both_refuse_the_certificate(
    seaweed_bucket, seaweed, tls_chain, data_plane, tmp_path, monkeypatch
):
    tls, _, _ = tls_chain
    env = write_home(tmp_path / "home", seaweed, tls.endpoint_url, None)
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps({"data_plane": data_plane}))
    failed = s3c(env, "connection", "test", "-c", str(conn), "--bucket", seaweed_bucket)
    assert failed.returncode != 0
    assert failed.stdout, failed.stderr
    shown = json.loads(failed.stdout)
    assert shown["ok"] is False  # the HeadBucket of region detection, on the data plane
    if data_plane == "crt":
        assert "AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE" in shown["message"]
        assert "ca_bundle" in shown["message"]
    else:
        assert "CERTIFICATE_VERIFY_FAILED" in shown["message"]
    for name in ("HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"):
        monkeypatch.setenv(name, env[name])
    for name in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SSLError):
        reference().head_bucket(Bucket=seaweed_bucket)
    # the CRT plane refuses it too: a put with the CA-less profile fails on TLS
    source = tmp_path / "a.txt"
    source.write_bytes(b"a")
    put = s3c(
        env,
        "run",
        "put_object",
        "-c",
        str(conn),
        "-p",
        f"bucket={seaweed_bucket}",
        "-p",
        "region=eu-west-2",
        "-p",
        "key=a.txt",
        "--input",
        str(source),
    )
    assert put.returncode != 0 and len(put.stderr.splitlines()) == 1, put.stderr
    assert "Traceback" not in put.stderr
    assert ("TLS" if data_plane == "crt" else "CERTIFICATE_VERIFY_FAILED") in put.stderr, put.stderr


# --- proxies from the environment -------------------------------------------------------------

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def through_proxy(env: dict[str, str], variable: str, url: str) -> dict[str, str]:
    """`env` with `variable` naming the proxy at `url`, and no other proxy variable."""
    env = {name: value for name, value in env.items() if name not in PROXY_VARIABLES}
    return {**env, variable: url}


def put_then_get(env, conn, bucket, key, source, out):
    common = ["-c", str(conn), "-p", f"bucket={bucket}", "-p", f"key={key}"]
    put = s3c(env, "run", "put_object", *common, "--input", str(source))
    assert put.returncode == 0, put.stderr
    got = s3c(env, "run", "get_object", *common, "--output", str(out))
    assert got.returncode == 0, got.stderr
    assert out.read_bytes() == source.read_bytes()


def test_an_https_endpoint_is_reached_through_https_proxy(
    seaweed_bucket, home, tls_chain, data_plane, tmp_path
):
    """The profile's https endpoint, through the proxy HTTPS_PROXY names (a CONNECT tunnel),
    on both data planes: awscrt reads the proxy variables as botocore does."""
    tls, faults, _ = tls_chain
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps({"data_plane": data_plane}))
    source = tmp_path / "tunnelled.bin"
    source.write_bytes(os.urandom(9 * 1024 * 1024 + 3))  # a multipart upload and ranged reads
    faults.reset_counters()
    with ForwardProxy() as proxy:
        env = through_proxy(home, "HTTPS_PROXY", proxy.url)
        put_then_get(env, conn, seaweed_bucket, "tunnelled.bin", source, tmp_path / "out.bin")
    endpoint = tls.endpoint_url.removeprefix("https://")
    tunnels = [target for method, target in proxy.requests if method == "CONNECT"]
    assert tunnels and set(tunnels) == {endpoint}
    assert len(proxy.requests) == len(tunnels)
    assert any(request.method == "PUT" for request in faults.history)


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
def test_an_http_endpoint_is_reached_through_http_proxy(
    seaweed, seaweed_bucket, home, data_plane, tmp_path, variable
):
    """A plain-http endpoint, through the proxy HTTP_PROXY (or http_proxy) names, on both data
    planes: every request of the put and the get is relayed by the proxy."""
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps({**seaweed.connection_settings(), "data_plane": data_plane}))
    source = tmp_path / "relayed.bin"
    source.write_bytes(os.urandom(9 * 1024 * 1024 + 3))
    with ForwardProxy() as proxy:
        env = through_proxy(home, variable, proxy.url)
        put_then_get(env, conn, seaweed_bucket, "relayed.bin", source, tmp_path / "out.bin")
    object_url = f"{seaweed.endpoint_url}/{seaweed_bucket}/relayed.bin"
    methods = {method for method, url in proxy.requests if url.split("?")[0] == object_url}
    assert {"PUT", "GET"} <= methods or {"POST", "GET"} <= methods, proxy.requests
    assert all(url.startswith(seaweed.endpoint_url) for _, url in proxy.requests)


def test_no_proxy_sends_the_requests_straight_to_the_endpoint(
    seaweed, seaweed_bucket, home, data_plane, tmp_path
):
    conn = tmp_path / "conn.json"
    conn.write_text(json.dumps({**seaweed.connection_settings(), "data_plane": data_plane}))
    source = tmp_path / "direct.txt"
    source.write_bytes(b"direct")
    with ForwardProxy() as proxy:
        env = {**through_proxy(home, "HTTP_PROXY", proxy.url), "NO_PROXY": "127.0.0.1"}
        put_then_get(env, conn, seaweed_bucket, "direct.txt", source, tmp_path / "out.txt")
    assert proxy.requests == []
