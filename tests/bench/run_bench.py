"""Benchmark the `s3c` CLI against raw boto3 on an embedded SeaweedFS server (loopback only).

Run: python tests/bench/run_bench.py [--quick] [--list-keys N] [--big-mib N]

What is measured. Every s3c figure is one `s3c run ...` child process: its wall time from
spawn to exit, its CPU time (user + system) and its peak resident memory (ru_maxrss of
that single child, from os.wait4). Every boto3 peer runs in its own child process too
(tests/bench/peers.py), so both sides pay interpreter start-up and imports; the peer's
in-process time is shown separately ("op s").

1. Big file, streaming (--big-mib, default 1024 MiB of random data), after one untimed
   warm-up upload (the server's first big write is about twice as slow): put_object from
   a file, put_object from stdin through a pipe (the non-seekable path) and get_object to
   a file. Goal: peak RSS below 200 MiB for each. The download and the stdin upload are
   checked byte for byte (sha256, computed in chunks).
2. Peers for the big file: boto3 upload_file and download_file, client configured like
   the connector's (path addressing, checksums only when required).
3. Many small files: 2,000 files of 4 KiB; one `s3c run put_object --input DIR` against a
   boto3 loop of put_object calls, one after another.
4. Listing: --list-keys keys (default 100,000) under one prefix, written beforehand by a
   thread pool (setup, not timed against anything); `s3c run list_objects` against a
   boto3 list_objects_v2 paginator collecting the keys.

How to read it. Absolute times drift from run to run, so compare the "vs boto3" column
(s3c wall time / boto3 wall time, measured side by side in this run): below 1 means s3c
was faster. The results are printed as a table and written to .bench/results.json at the
repository root. The exit status is 1 when an s3c run fails, its output does not check
out, or a big-file run reaches 200 MiB of peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.config import Config
from common import (
    BUCKET,
    REPO,
    S3C,
    bench_server,
    child_env,
    conclude,
    print_table,
    write_results,
)
from common import Bench as BaseBench

RESULTS = REPO / ".bench" / "results.json"
PEERS = Path(__file__).with_name("peers.py")

MIB = 1024 * 1024
RSS_GOAL_MIB = 200
SMALL_COUNT, SMALL_SIZE = 2000, 4 * 1024
LIST_PREFIX = "list/"
SETUP_THREADS = 32
QUICK = {"big_mib": 256, "list_keys": 10_000}
DEFAULTS = {"big_mib": 1024, "list_keys": 100_000}


@dataclass
class Run:
    """One measured child process."""

    label: str
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    returncode: int
    stdout: Path
    stderr: str

    def json_lines(self) -> list[Any]:
        text = self.stdout.read_text(encoding="utf-8", errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def last_json(self) -> Any:
        lines = self.json_lines()
        return lines[-1] if lines else None


@dataclass
class Row:
    """One line of the table and of results.json."""

    section: str
    label: str
    tool: str
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    rate: float | None = None
    rate_unit: str = ""
    op_seconds: float | None = None
    ratio_vs_boto3: float | None = None
    count: int | None = None
    check: str = ""
    error: str = ""


@dataclass
class Bench(BaseBench):
    """The server, the working directory and what has been measured so far."""

    setup: dict[str, float] = field(default_factory=dict)
    rss_floor_mib: float | None = None


# --- running and measuring child processes ------------------------------------------------


# On Linux a process's ru_maxrss starts at the peak RSS of the process that spawned it
# (exec records the peak of the address space it replaces, and subprocess spawns with
# vfork), so /bin/true started by a 300 MiB parent reports 300 MiB. The measured command is
# therefore spawned and waited for (os.wait4) by this small launcher, whose own peak RSS
# (about 10 MiB, reported as the floor) is far below anything measured.
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


def measure(bench: Bench, label: str, argv: list[str], stdin: Any = None) -> Run:
    """Run argv to completion; wall time, CPU time and peak RSS of that one process."""
    out, err = bench.work / f"{label}.stdout", bench.work / f"{label}.stderr"
    result = bench.work / f"{label}.rusage.json"
    print(f"- {label}: {' '.join(argv[1:])}", flush=True)
    launcher = [sys.executable, "-S", "-c", LAUNCHER, str(result), *argv]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        subprocess.run(
            launcher,
            stdin=stdin or subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=child_env(),
            check=True,
        )
    report = json.loads(result.read_text())
    seconds, cpu, code = report["seconds"], report["cpu"], report["status"]
    rss = report["maxrss_kib"] / 1024
    run = Run(label, seconds, cpu, rss, code, out, err.read_text())
    print(f"  {seconds:.2f} s, {cpu:.2f} s CPU, peak RSS {rss:.1f} MiB, exit {code}")
    return run


def measure_piped(bench: Bench, label: str, argv: list[str], source: Path) -> Run:
    """Run argv with `source` fed to its stdin through a pipe (not seekable)."""
    feeder = subprocess.Popen(["cat", str(source)], stdout=subprocess.PIPE)
    try:
        return measure(bench, label, argv, stdin=feeder.stdout)
    finally:
        feeder.stdout.close()
        feeder.wait()


def s3c_argv(bench: Bench, activity: str, *options: str) -> list[str]:
    conn = str(bench.connection)
    return [str(S3C), "run", activity, "-c", conn, "-p", f"bucket={BUCKET}", *options]


def peer_argv(bench: Bench, operation: str, *args: str) -> list[str]:
    return [sys.executable, str(PEERS), operation, str(bench.connection), BUCKET, *args]


def succeeded(bench: Bench, run: Run) -> bool:
    if run.returncode == 0:
        return True
    bench.fail(f"{run.label} exited with {run.returncode}: {run.stderr.strip()[-2000:]}")
    return False


def row_for(run: Run, section: str, tool: str, **extra: Any) -> Row:
    row = Row(section, run.label, tool, run.seconds, run.cpu_seconds, run.peak_rss_mib, **extra)
    if run.returncode:
        row.error = run.stderr.strip()[-2000:]
        row.check = f"exit {run.returncode}"
    return row


def peer_row(bench: Bench, run: Run, section: str, unit: str, amount: float) -> Row:
    row = row_for(run, section, "boto3", rate=amount / run.seconds, rate_unit=unit)
    if succeeded(bench, run):
        report = run.last_json()
        row.op_seconds, row.count = report["seconds"], report["count"]
    return row


def set_ratio(row: Row, peer: Row) -> None:
    if not row.error and not peer.error:
        row.ratio_vs_boto3 = row.seconds / peer.seconds


# --- files and checks ---------------------------------------------------------------------


def write_random_file(path: Path, mib: int) -> None:
    with path.open("wb") as sink:
        for _ in range(mib):
            sink.write(os.urandom(MIB))


def sha256_file(path: Path) -> str:
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


def sha256_object(bench: Bench, key: str) -> str:
    body = bench.server.client().get_object(Bucket=BUCKET, Key=key)["Body"]
    digest = hashlib.sha256()
    for chunk in body.iter_chunks(MIB):
        digest.update(chunk)
    return digest.hexdigest()


def check_rss(bench: Bench, row: Row) -> None:
    verdict = "PASS" if row.peak_rss_mib < RSS_GOAL_MIB else "FAIL"
    row.check = f"RSS {verdict}" + (f"; {row.check}" if row.check else "")
    if verdict == "FAIL":
        bench.fail(f"{row.label}: peak RSS {row.peak_rss_mib:.1f} MiB >= {RSS_GOAL_MIB} MiB")


def check_same(bench: Bench, row: Row, what: str, expected: str, actual: str) -> None:
    same = expected == actual
    row.check = (f"{row.check}; " if row.check else "") + ("data ok" if same else "DATA MISMATCH")
    if not same:
        bench.fail(f"{row.label}: {what} sha256 {actual} != source {expected}")


def check_put_response(bench: Bench, run: Run, size: int) -> None:
    response = run.last_json()
    if not isinstance(response, dict) or response.get("size") != size:
        bench.fail(f"{run.label}: response {response!r} does not report size {size}")


# --- 1 and 2: the big file ----------------------------------------------------------------


def bench_big_file(bench: Bench) -> None:
    mib = bench.args.big_mib
    source = bench.work / "big.bin"
    started = time.perf_counter()
    write_random_file(source, mib)
    digest = sha256_file(source)
    bench.setup["big_file_write_and_hash_s"] = time.perf_counter() - started
    print(f"  wrote {mib} MiB in {bench.setup['big_file_write_and_hash_s']:.1f} s", flush=True)
    warm_up(bench, source)

    put_file = big_put(bench, "s3c_put_file", source, piped=False)
    put_stdin = big_put(bench, "s3c_put_stdin", source, piped=True)
    if not put_stdin.error:
        check_same(bench, put_stdin, "stored object", digest, sha256_object(bench, "stdin.bin"))
    get = big_get(bench, source, digest)
    argv = peer_argv(bench, "upload", "big-boto3.bin", str(source))
    upload = peer_row(bench, measure(bench, "boto3_upload_file", argv), "big file", "MiB/s", mib)
    download = big_peer_download(bench, digest)
    for row in (put_file, put_stdin):
        set_ratio(row, upload)
    set_ratio(get, download)
    bench.rows += [put_file, put_stdin, upload, get, download]
    source.unlink()


def warm_up(bench: Bench, source: Path) -> None:
    """One untimed upload first: SeaweedFS grows its volumes during the first big write,
    which would otherwise make whichever upload comes first about twice as slow."""
    started = time.perf_counter()
    bench.server.client().upload_file(str(source), BUCKET, "warm-up.bin")
    elapsed = bench.setup["big_file_warm_up_upload_s"] = time.perf_counter() - started
    print(f"  warm-up upload (boto3, untimed) took {elapsed:.1f} s", flush=True)


def big_put(bench: Bench, label: str, source: Path, *, piped: bool) -> Row:
    key = "stdin.bin" if piped else "big.bin"
    target = "-" if piped else str(source)
    argv = s3c_argv(bench, "put_object", "-p", f"key={key}", "--input", target)
    run = measure_piped(bench, label, argv, source) if piped else measure(bench, label, argv)
    size = source.stat().st_size
    if succeeded(bench, run):
        check_put_response(bench, run, size)
    row = row_for(run, "big file", "s3c", rate=size / MIB / run.seconds, rate_unit="MiB/s")
    check_rss(bench, row)
    return row


def big_get(bench: Bench, source: Path, digest: str) -> Row:
    out = bench.work / "big.s3c.download"
    argv = s3c_argv(bench, "get_object", "-p", "key=big.bin", "--output", str(out))
    run = measure(bench, "s3c_get_file", argv)
    size_mib = source.stat().st_size / MIB
    row = row_for(run, "big file", "s3c", rate=size_mib / run.seconds, rate_unit="MiB/s")
    check_rss(bench, row)
    if succeeded(bench, run):
        check_same(bench, row, "download", digest, sha256_file(out))
    out.unlink(missing_ok=True)
    return row


def big_peer_download(bench: Bench, digest: str) -> Row:
    out = bench.work / "big.boto3.download"
    argv = peer_argv(bench, "download", "big.bin", str(out))
    run = measure(bench, "boto3_download_file", argv)
    row = peer_row(bench, run, "big file", "MiB/s", bench.args.big_mib)
    if not row.error:
        check_same(bench, row, "download", digest, sha256_file(out))
    out.unlink(missing_ok=True)
    return row


# --- 3: many small files ------------------------------------------------------------------


def bench_small_files(bench: Bench) -> None:
    directory = bench.work / "small"
    directory.mkdir()
    for index in range(SMALL_COUNT):
        (directory / f"f{index:05d}.bin").write_bytes(os.urandom(SMALL_SIZE))
    argv = s3c_argv(bench, "put_object", "-p", "folder=small", "--input", str(directory))
    run = measure(bench, "s3c_put_small", argv)
    s3c = row_for(run, "small files", "s3c", rate=SMALL_COUNT / run.seconds, rate_unit="files/s")
    if succeeded(bench, run):
        s3c.check = count_check(bench, run.label, len(run.json_lines()), SMALL_COUNT)
    argv = peer_argv(bench, "put-many", "small-boto3", str(directory))
    run = measure(bench, "boto3_put_small", argv)
    peer = peer_row(bench, run, "small files", "files/s", SMALL_COUNT)
    if not peer.error:
        peer.check = count_check(bench, peer.label, peer.count, SMALL_COUNT)
    set_ratio(s3c, peer)
    bench.rows += [s3c, peer]


def count_check(bench: Bench, label: str, actual: int, expected: int) -> str:
    if actual == expected:
        return f"{actual} ok"
    bench.fail(f"{label}: {actual} results, expected {expected}")
    return f"{actual} != {expected}"


# --- 4: listing ---------------------------------------------------------------------------


def fill_listing(bench: Bench, count: int) -> None:
    """Put `count` one-byte keys with SETUP_THREADS workers, each taking every Nth index."""
    s3 = bench.server.client(config=Config(max_pool_connections=SETUP_THREADS))
    step = max(1, count // 10)
    done = itertools.count(1)
    started = time.perf_counter()

    def worker(first: int) -> None:
        for index in range(first, count, SETUP_THREADS):
            s3.put_object(Bucket=BUCKET, Key=f"{LIST_PREFIX}{index:07d}", Body=b"x")
            finished = next(done)
            if finished % step == 0:
                elapsed = time.perf_counter() - started
                print(f"  setup: {finished}/{count} keys, {elapsed:.0f} s", flush=True)

    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        for future in [pool.submit(worker, first) for first in range(SETUP_THREADS)]:
            future.result()
    elapsed = bench.setup["listing_put_keys_s"] = time.perf_counter() - started
    rate = count / elapsed
    print(f"  setup took {elapsed:.1f} s ({rate:.0f} puts/s, {SETUP_THREADS} threads)")


def bench_listing(bench: Bench) -> None:
    count = bench.args.list_keys
    fill_listing(bench, count)
    run = measure(bench, "s3c_list", s3c_argv(bench, "list_objects", "-p", f"prefix={LIST_PREFIX}"))
    s3c = row_for(run, "listing", "s3c", rate=count / run.seconds, rate_unit="keys/s")
    if succeeded(bench, run):
        s3c.check = listing_check(bench, run, count)
    argv = peer_argv(bench, "list", LIST_PREFIX)
    peer = peer_row(bench, measure(bench, "boto3_list", argv), "listing", "keys/s", count)
    if not peer.error:
        peer.check = count_check(bench, peer.label, peer.count, count)
    set_ratio(s3c, peer)
    bench.rows += [s3c, peer]


def listing_check(bench: Bench, run: Run, count: int) -> str:
    try:
        listing = run.last_json()
    except ValueError as exc:
        bench.fail(f"{run.label}: output is not JSON lines ({exc})")
        return "bad JSON"
    objects = listing.get("objects", [])
    check = count_check(bench, run.label, len(objects), count)
    if listing.get("truncated") is not False:
        bench.fail(f"{run.label}: truncated is {listing.get('truncated')!r}, expected false")
        check += "; truncated"
    return check


# --- report -------------------------------------------------------------------------------

COLUMNS = (
    "section",
    "run",
    "tool",
    "wall s",
    "op s",
    "CPU s",
    "peak RSS MiB",
    "rate",
    "vs boto3",
    "check",
)


def table_cells(row: Row) -> tuple[str, ...]:
    rate = f"{row.rate:,.1f} {row.rate_unit}" if row.rate else ""
    return (
        row.section,
        row.label,
        row.tool,
        f"{row.seconds:.2f}",
        f"{row.op_seconds:.2f}" if row.op_seconds is not None else "",
        f"{row.cpu_seconds:.2f}",
        f"{row.peak_rss_mib:.1f}",
        rate,
        f"{row.ratio_vs_boto3:.2f}x" if row.ratio_vs_boto3 is not None else "",
        row.check,
    )


def write_bench_results(bench: Bench) -> None:
    meta = {
        "rss_goal_mib": RSS_GOAL_MIB,
        "rss_floor_mib": bench.rss_floor_mib,
        "small_files": {"count": SMALL_COUNT, "size": SMALL_SIZE},
    }
    write_results(bench, RESULTS, meta, {"setup_seconds": bench.setup})


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="256 MiB file and 10,000 keys")
    parser.add_argument("--list-keys", type=int, help="keys to list (default 100,000)")
    parser.add_argument("--big-mib", type=int, help="size of the big file (default 1024)")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else DEFAULTS
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def measure_floor(bench: Bench) -> None:
    """The peak RSS the method reports for a process that does nothing (/bin/true)."""
    run = measure(bench, "floor", [shutil.which("true") or "/bin/true"])
    bench.rss_floor_mib = run.peak_rss_mib


def run_sections(bench: Bench) -> None:
    measure_floor(bench)
    sections = (
        ("big file", bench_big_file),
        ("small files", bench_small_files),
        ("listing", bench_listing),
    )
    for title, section in sections:
        print(f"\n== {title} ==", flush=True)
        try:
            section(bench)
        except Exception:
            bench.fail(f"{title}: {traceback.format_exc()}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with bench_server("s3c-bench-") as (server, work, connection):
        bench = Bench(args, server, work, connection)
        run_sections(bench)
    print()
    print_table(COLUMNS, (table_cells(row) for row in bench.rows))
    write_bench_results(bench)
    if bench.rss_floor_mib is not None:
        print(f"\npeak RSS floor of the method (/bin/true): {bench.rss_floor_mib:.1f} MiB")
    return conclude(bench, RESULTS)


if __name__ == "__main__":
    sys.exit(main())
