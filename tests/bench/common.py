"""What the benchmarks (run_bench.py, serve_bench.py) share: the embedded server and its working
directory, the environment of the measured child processes, the launcher that measures one
child's wall time, CPU time and peak RSS, the bookkeeping of failed checks, the machine's
description, the printed table and the results file."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
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


def write_connection(server: LocalS3Server, path: Path, data_plane: str | None = None) -> Path:
    """The connection JSON file of `server` at `path`, with `data_plane` when given."""
    settings = server.connection_settings()
    if data_plane:
        settings["data_plane"] = data_plane
    path.write_text(json.dumps(settings, indent=2))
    return path


# On Linux a process's ru_maxrss starts at the peak RSS of the process that spawned it
# (exec records the peak of the address space it replaces, and subprocess spawns with
# vfork), so /bin/true started by a 300 MiB parent reports 300 MiB. A measured command is
# therefore spawned and waited for (os.wait4) by this small launcher, whose own peak RSS
# (about 10 MiB, reported as the floor) is far below anything measured. It passes its
# stdin, stdout and stderr on, and writes the report as JSON to its first argument.
LAUNCHER = """
import json, os, sys, time
result, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
report = {"seconds": seconds, "status": os.waitstatus_to_exitcode(status),
          "maxrss_kib": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime}
with open(result, "w") as out:
    json.dump(report, out)
"""


def process_cpu(pid: int | None) -> float:
    """User and system CPU seconds that process `pid` has used so far (Linux /proc); 0 when
    there is no such process."""
    try:
        after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(after_name[11]) + int(after_name[12])) / os.sysconf("SC_CLK_TCK")


def launcher_argv(report: Path, argv: Sequence[str]) -> list[str]:
    """The command that runs `argv` under the launcher, its report going to `report`."""
    return [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv]


def read_report(report: Path) -> dict[str, Any]:
    """The launcher's report: seconds, status (exit code), cpu (s) and rss_mib."""
    data = json.loads(report.read_text())
    data["rss_mib"] = data.pop("maxrss_kib") / 1024
    return data


def machine() -> dict[str, Any]:
    """What the figures depend on: cores, CPU model, RAM, SeaweedFS, Python."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    ram_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    try:
        from s3_connector.sdk.local_server import find_weed

        weed = subprocess.run([find_weed(), "version"], capture_output=True, text=True)
        first = (weed.stdout.strip().splitlines() or ["?"])[0]
        seaweedfs = "SeaweedFS " + first.removeprefix("version ").strip()
    except Exception as exc:
        seaweedfs = f"unknown ({exc})"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model or platform.processor() or "?",
        "ram_gib": round(ram_gib, 1),
        "seaweedfs": seaweedfs,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info['nproc']} cores ({info['cpu_model']}), {info['ram_gib']:g} GiB RAM, "
        f"{info['seaweedfs']} on 127.0.0.1, Python {info['python']}, {info['system']}"
    )


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


def conclude(bench: Bench, path: Path | None) -> int:
    """Print where the results are (when written), each failure and the verdict; the exit
    status."""
    if path is not None:
        print(f"results: {path}")
    for failure in bench.failures:
        print(f"FAIL: {failure.strip()}")
    print("PASS" if not bench.failures else f"{len(bench.failures)} failure(s)")
    return 1 if bench.failures else 0
