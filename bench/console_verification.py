"""How much a log verification started from the auditor console slows the web server's event loop.

The console runs ``verify_log`` in a background thread (``web.workspace.audit.jobs``). This measures the
event loop's lag (how late a 10 ms ``asyncio.sleep`` wakes up), idle and then while a verification of a
log of signed envelopes runs, in the same run; the figure is the ratio of the median lags.

    python -m bench.console_verification [--records 6000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.audit import build_home, build_log
from bus.audit.trustfiles import TrustFiles
from web.workspace.audit.jobs import Verifications

TICK = 0.010


async def lags(seconds: float, until: Any = None) -> list[float]:
    """Lateness of each 10 ms sleep, for ``seconds`` (or while ``until()`` is false)."""
    found: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not (until and until()):
        began = time.perf_counter()
        await asyncio.sleep(TICK)
        found.append(time.perf_counter() - began - TICK)
    return found


def run(records: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="govbus-bench-console-") as tmp:
        root = Path(tmp)
        home, client, provider = build_home(root / "home")
        path = root / "messages.sqlite"
        build_log(path, client, provider, records)
        trust = TrustFiles.from_home(home)
        idle = asyncio.run(lags(3.0))
        jobs = Verifications()
        job = jobs.start(
            administration="MA/GOV/MEF",
            participant=str(client.participant),
            label=path.name,
            paths=[path],
            trust=trust,
            anchors=[],
            include_archives=False,
            started_by="bench",
        )
        began = time.perf_counter()
        busy = asyncio.run(lags(600.0, until=lambda: job.state != "running"))
        seconds = time.perf_counter() - began
        if job.report is None or not job.report.ok:
            raise SystemExit(f"the benchmark log does not verify: {job.error or job.report}")
    idle_ms, busy_ms = statistics.median(idle) * 1000, statistics.median(busy) * 1000
    return {
        "records": records,
        "verification_seconds": round(seconds, 2),
        "idle_lag_ms_p50": round(idle_ms, 3),
        "busy_lag_ms_p50": round(busy_ms, 3),
        "busy_lag_ms_p99": round(sorted(busy)[int(len(busy) * 0.99)] * 1000, 3),
        "ticks_during_verification": len(busy),
        "ratio_p50": round(busy_ms / idle_ms, 2) if idle_ms else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=6000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = run(args.records)
    print(json.dumps(results, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
