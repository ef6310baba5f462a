"""The delay until a three-node RabbitMQ cluster serves again after losing the node that leads the queues.

Runs the slow cluster test (tests/cluster/test_failover.py: three local nodes on ports 5701-5703, calls,
notifications and raw requests in flight, SIGKILL of the leader node) and reports what it measured:
``resume_s``, seconds from the kill to the first answer of a call sent after it, and ``answer_gap_s``,
from the last answer before the kill to the first answer after it. The test's own assertions (nothing confirmed lost,
no handler run twice, every participant on a surviving node) must pass for a figure to be reported.

    python -m bench.failover [--from FILE] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/cluster/test_failover.py"


def run_test() -> dict[str, object]:
    """Run the cluster test; its JSON report, or SystemExit with the test's last lines."""
    with tempfile.TemporaryDirectory(prefix="govbus-failover-") as scratch:
        report = Path(scratch) / "failover.json"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                TEST,
                "-q",
                "-p",
                "no:cacheprovider",
                "--basetemp",
                f"{scratch}/t",
            ],
            cwd=ROOT,
            env={**os.environ, "GOVBUS_FAILOVER_JSON": str(report), "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=1200,
        )
        if done.returncode != 0 or not report.exists():
            tail = "\n".join(done.stdout.strip().splitlines()[-5:])
            raise SystemExit(f"{TEST} failed (exit {done.returncode}):\n{tail}")
        result: dict[str, object] = json.loads(report.read_text())
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--from", dest="source", type=Path, help="report a saved failover.json instead of running"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = json.loads(args.source.read_text()) if args.source else run_test()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"failover: {result['nodes']} nodes, {result['killed']} killed; service resumed after "
        f"{result['resume_s']} s (gap between answers across the kill {result['answer_gap_s']} s)"
    )


if __name__ == "__main__":
    main()
