"""How a bench peer reports: the operation's own time (after interpreter start-up and imports)
and a count, as one JSON line that run_bench.py reads."""

from __future__ import annotations

import json
import time
from collections.abc import Callable


def report_timed(operation: str, work: Callable[[], int]) -> None:
    started = time.perf_counter()
    count = work()
    seconds = time.perf_counter() - started
    print(json.dumps({"operation": operation, "seconds": seconds, "count": count}))
