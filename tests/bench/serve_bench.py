"""Benchmark `s3c serve` (one warm process) against one `s3c run` process per request, on an
embedded SeaweedFS server (loopback only).

Run: python tests/bench/serve_bench.py [--requests 1000] [--run-requests 100] [--size 1024]
                                       [--workers 1,4] [--data-plane crt|boto3|auto]

(`make bench` runs it after run_bench.py, with --workers 1,32 and 3,000 requests, and checks
the goal: at least 1,000 small Put Object requests/s in one process after start-up.)

What is measured. The same request, Put Object of `--size` random bytes (1 KiB by default)
under a key of its own, sent two ways:

1. `s3c serve`: `--requests` request lines (content inline as base64) written to the stdin
   of one process, once per `--workers` value. The wall time runs from spawning the process
   to its exit, so it includes Python's and boto3's start-up once; "after start-up" is the
   rate between the first and the last status line, the steady state an agent that keeps
   the process sees.
2. `s3c run`: `--run-requests` sequential `s3c run put_object -c CONN -p bucket=... -p key=...
   --input FILE` processes (the venv's console script), one per request; the wall time is the
   sum of them all, each paying start-up.

CPU is the user + system time of the measured child processes (RUSAGE_CHILDREN deltas); the
peak RSS of `s3c serve` comes from the launcher in common.py (os.wait4). The
server runs on the same machine, so its CPU competes with the client's. Every response is
checked (one ok status per request, the stored size) and so are the stored objects (listed
under each run's prefix). The table is printed and written to .bench/serve.json at the
repository root, with the machine's load average before and after. Exit status 1 when a
check fails.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    BUCKET,
    REPO,
    S3C,
    bench_server,
    child_env,
    conclude,
    launcher_argv,
    print_table,
    read_report,
    write_connection,
    write_results,
)
from common import Bench as BaseBench

RESULTS = REPO / ".bench" / "serve.json"
GOAL_PER_SECOND = 1000
WARM_UP_PUTS = 50
SERVE_PROCESS = "s3c serve"


@dataclass
class Row:
    label: str
    mode: str
    requests: int
    seconds: float
    cpu_seconds: float
    rate: float
    ms_per_request: float
    steady_rate: float | None = None
    ratio_vs_run: float | None = None
    check: str = ""
    peak_rss_mib: float | None = None


@dataclass
class Bench(BaseBench):
    payload: Path = field(kw_only=True)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def serve_argv(bench: Bench, workers: int, connection: Path | None = None) -> list[str]:
    conn = str(connection or bench.connection)
    return [str(S3C), "serve", "-c", conn, "--workers", str(workers)]


def listed_sizes(bench: Bench, prefix: str) -> dict[str, int]:
    pages = bench.server.client().get_paginator("list_objects_v2")
    return {
        item["Key"]: item["Size"]
        for page in pages.paginate(Bucket=BUCKET, Prefix=prefix)
        for item in page.get("Contents", [])
    }


def check_stored(bench: Bench, label: str, prefix: str, count: int) -> str:
    sizes = listed_sizes(bench, prefix)
    expected = {f"{prefix}{n:05d}.bin" for n in range(count)}
    if set(sizes) != expected or set(sizes.values()) != {bench.args.size}:
        bench.fail(f"{label}: {len(sizes)} objects stored under {prefix}, expected {count}")
        return f"{len(sizes)} stored != {count}"
    return f"{count} stored ok"


# --- s3c serve -------------------------------------------------------------------------------


def request_lines(bench: Bench, prefix: str, count: int) -> bytes:
    content = base64.b64encode(bench.payload.read_bytes()).decode()
    lines = []
    for number in range(count):
        request = {
            "id": number,
            "activity": "put_object",
            "config": {"bucket": BUCKET, "key": f"{prefix}{number:05d}.bin"},
            "documents": [{"content_base64": content}],
        }
        lines.append(json.dumps(request, separators=(",", ":")) + "\n")
    return "".join(lines).encode()


def bench_serve(
    bench: Bench,
    workers: int,
    *,
    connection: Path | None = None,
    label: str | None = None,
    prefix: str | None = None,
) -> Row:
    """`--requests` Put Object requests on the stdin of one `s3c serve` process (spawned by
    the launcher, which reports its peak RSS), every answer and stored object checked."""
    count = bench.args.requests
    label = label or f"serve_w{workers}"
    prefix = prefix or f"serve-w{workers}/"
    stdin = bench.work / f"{label}.jsonl"
    stdin.write_bytes(request_lines(bench, prefix, count))
    report_path = bench.work / f"{label}.rusage.json"
    argv = launcher_argv(report_path, serve_argv(bench, workers, connection))
    print(f"- {label}: {count} requests on one stdin, {SERVE_PROCESS}", flush=True)
    finals: list[tuple[float, dict[str, Any]]] = []
    documents: list[dict[str, Any]] = []
    cpu_before = children_cpu()
    started = time.perf_counter()
    with stdin.open("rb") as source:
        process = subprocess.Popen(
            argv, stdin=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()
        )
        errors: list[bytes] = []
        drain = threading.Thread(target=lambda: errors.append(process.stderr.read()))
        drain.start()
        for raw in process.stdout:
            line = json.loads(raw)
            if "status" in line:
                finals.append((time.perf_counter(), line))
            else:
                documents.append(line)
        process.wait()
        drain.join()
    seconds = time.perf_counter() - started
    cpu = children_cpu() - cpu_before
    report = read_report(report_path)
    stdin.unlink()
    steady = None
    if len(finals) > 1 and finals[-1][0] > finals[0][0]:
        steady = (len(finals) - 1) / (finals[-1][0] - finals[0][0])
    row = Row(
        label,
        f"s3c serve --workers {workers}",
        count,
        seconds,
        cpu,
        count / seconds,
        seconds * 1000 / count,
        steady,
        peak_rss_mib=report["rss_mib"],
    )
    check = []
    if report["status"] != 0:
        bench.fail(f"{label}: exit {report['status']}: {b''.join(errors).decode()[-2000:]}")
    ok = [line for _, line in finals if line.get("status") == "ok"]
    if len(ok) != count or sorted(line["request_id"] for line in ok) != list(range(count)):
        bench.fail(f"{label}: {len(ok)} ok status lines of {len(finals)}, expected {count}")
    check.append(f"{len(ok)} ok")
    if any(line["properties"]["size"] != bench.args.size for line in documents):
        bench.fail(f"{label}: a response reports another size than {bench.args.size}")
    check.append(check_stored(bench, label, prefix, count))
    row.check = "; ".join(check)
    report_row(row)
    return row


# --- one s3c run per request -----------------------------------------------------------------


def bench_run(bench: Bench) -> Row:
    count = bench.args.run_requests
    label, prefix = "run_each", "run/"
    print(f"- {label}: {count} x `s3c run put_object ... --input FILE`", flush=True)
    base = [str(S3C), "run", "put_object", "-c", str(bench.connection), "-p", f"bucket={BUCKET}"]
    failed = 0
    cpu_before = children_cpu()
    started = time.perf_counter()
    for number in range(count):
        argv = [*base, "-p", f"key={prefix}{number:05d}.bin", "--input", str(bench.payload)]
        result = subprocess.run(argv, capture_output=True, env=child_env())
        if result.returncode != 0 or json.loads(result.stdout)["size"] != bench.args.size:
            failed += 1
            if failed == 1:
                bench.fail(f"{label}: exit {result.returncode}: {result.stderr.decode()[-2000:]}")
    seconds = time.perf_counter() - started
    cpu = children_cpu() - cpu_before
    row = Row(
        label,
        "s3c run, one per request",
        count,
        seconds,
        cpu,
        count / seconds,
        seconds * 1000 / count,
    )
    row.check = f"{count - failed} ok; " + check_stored(bench, label, prefix, count)
    report_row(row)
    return row


def report_row(row: Row) -> None:
    steady = f", {row.steady_rate:.0f}/s after start-up" if row.steady_rate else ""
    rss = f", peak RSS {row.peak_rss_mib:.1f} MiB" if row.peak_rss_mib is not None else ""
    print(
        f"  {row.seconds:.2f} s, {row.cpu_seconds:.2f} s CPU, {row.rate:.1f} requests/s{steady}"
        f"{rss}",
        flush=True,
    )


# --- report ----------------------------------------------------------------------------------

COLUMNS = (
    "run",
    "mode",
    "requests",
    "wall s",
    "CPU s",
    "requests/s",
    "ms/request",
    "after start-up",
    "vs s3c run",
    "peak RSS MiB",
    "check",
)


def cells(row: Row) -> tuple[str, ...]:
    return (
        row.label,
        row.mode,
        str(row.requests),
        f"{row.seconds:.2f}",
        f"{row.cpu_seconds:.2f}",
        f"{row.rate:,.1f}",
        f"{row.ms_per_request:.1f}",
        f"{row.steady_rate:,.1f}/s" if row.steady_rate else "",
        f"{row.ratio_vs_run:.1f}x" if row.ratio_vs_run else "",
        f"{row.peak_rss_mib:.1f}" if row.peak_rss_mib is not None else "",
        row.check,
    )


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests sent to s3c serve")
    parser.add_argument("--run-requests", type=int, default=100, help="s3c run processes")
    parser.add_argument("--size", type=int, default=1024, help="bytes per object")
    parser.add_argument("--workers", default="1,4", help="s3c serve --workers values, e.g. 1,4")
    parser.add_argument(
        "--data-plane", choices=("auto", "crt", "boto3"), help="the connection's data_plane"
    )
    args = parser.parse_args(argv)
    args.workers = [int(value) for value in str(args.workers).split(",") if value]
    return args


def warm_up(work: Path, client: Any, size: int) -> Path:
    """Untimed puts first (the server's first writes grow its volumes); the payload file."""
    for number in range(WARM_UP_PUTS):
        client.put_object(Bucket=BUCKET, Key=f"warm-up/{number}", Body=os.urandom(size))
    payload = work / "payload.bin"
    payload.write_bytes(os.urandom(size))
    return payload


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()
    with bench_server("s3c-serve-bench-") as (server, work, connection):
        if args.data_plane:
            write_connection(server, connection, args.data_plane)
        payload = warm_up(work, server.client(), args.size)
        bench = Bench(args, server, work, connection, payload=payload)
        run_row = bench_run(bench)
        serve_rows = [bench_serve(bench, workers) for workers in args.workers]
        for row in serve_rows:
            row.ratio_vs_run = row.rate / run_row.rate
        bench.rows = [*serve_rows, run_row]
    print()
    print_table(COLUMNS, (cells(row) for row in bench.rows))
    meta = {
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "serve_process": SERVE_PROCESS,
    }
    write_results(bench, RESULTS, meta)
    print(f"\nload average before {load_before}, after {os.getloadavg()}; cpus {os.cpu_count()}")
    print(f"serve process: {SERVE_PROCESS}")
    best = max((row.steady_rate or 0 for row in serve_rows), default=0)
    verdict = "met" if best >= GOAL_PER_SECOND else "NOT MET"
    print(
        f"goal: s3c serve >= {GOAL_PER_SECOND:,} small puts/s after start-up: {verdict} "
        f"({best:,.0f}/s at best)"
    )
    return conclude(bench, RESULTS)


if __name__ == "__main__":
    sys.exit(main())
