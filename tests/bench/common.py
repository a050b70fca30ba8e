"""What the benchmarks (run_bench.py, serve_bench.py) share: the embedded server and its working
directory, the environment of the measured child processes, the bookkeeping of failed checks,
the printed table and the results file."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from s3_connector.sdk.local_server import LocalS3Server

REPO = Path(__file__).resolve().parents[2]
S3C = Path(sys.executable).parent / "s3c"
BUCKET = "bench"
LOOPBACK = "127.0.0.1,localhost"


def child_env() -> dict[str, str]:
    """The environment without AWS_* variables, and no proxy for loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["NO_PROXY"] = env["no_proxy"] = LOOPBACK
    return env


@contextmanager
def bench_server(prefix: str) -> Iterator[tuple[LocalS3Server, Path, Path]]:
    """(server, work, connection): a temporary working directory, SeaweedFS started in it on
    127.0.0.1 with the bucket BUCKET, and the connection JSON file of that server. The server
    is stopped and the directory removed at the end."""
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = LOOPBACK
    work = Path(tempfile.mkdtemp(prefix=prefix))
    server: LocalS3Server | None = None
    try:
        print("starting SeaweedFS on 127.0.0.1 ...", flush=True)
        server = LocalS3Server(work / "server").start()
        server.client().create_bucket(Bucket=BUCKET)
        connection = work / "connection.json"
        connection.write_text(json.dumps(server.connection_settings(), indent=2))
        print(f"  S3 endpoint {server.endpoint_url}", flush=True)
        yield server, work, connection
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Bench:
    """The server, the working directory and what has been measured so far."""

    args: argparse.Namespace
    server: LocalS3Server
    work: Path
    connection: Path
    rows: list[Any] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        print(f"  FAIL: {message}", flush=True)
        self.failures.append(message)


def print_table(columns: Sequence[str], lines: Iterable[Sequence[str]]) -> None:
    """The column titles, a rule, and one line per row, each cell padded to its column."""
    table = [columns, *lines]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for index, line in enumerate(table):
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))


def write_results(
    bench: Bench, path: Path, meta: dict[str, Any], sections: dict[str, Any] | None = None
) -> None:
    """`path` as JSON: meta (the common facts, then `meta`), `sections`, the rows, the failures
    and whether it passed."""
    import boto3

    results = {
        "meta": {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "args": vars(bench.args),
            "python": platform.python_version(),
            "boto3": boto3.__version__,
            "cpus": os.cpu_count(),
            **meta,
        },
        **(sections or {}),
        "rows": [asdict(row) for row in bench.rows],
        "failures": bench.failures,
        "passed": not bench.failures,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")


def conclude(bench: Bench, path: Path) -> int:
    """Print where the results are, each failure and the verdict; the exit status."""
    print(f"results: {path}")
    for failure in bench.failures:
        print(f"FAIL: {failure.strip()}")
    print("PASS" if not bench.failures else f"{len(bench.failures)} failure(s)")
    return 1 if bench.failures else 0
