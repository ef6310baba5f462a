"""The report's sections for the two-host throughput and the cluster failover, on canned JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.hosts import summary
from bench.report import render


def _measure(rate: float, provider_cpu: float) -> dict[str, Any]:
    """One configuration's figures, as ``bench.request_reply.measure`` returns them."""
    return {
        "calls": int(rate * 5),
        "seconds": 5.0,
        "calls_per_s": rate,
        "p50_ms": 2.5,
        "p99_ms": 9.0,
        "cpu_us_per_call": {"client": 1200.0, "provider": provider_cpu, "rabbitmq": 450.0},
        "switches_per_call": {"client": 3.0, "provider": 11.0, "rabbitmq": 30.0},
    }


HOSTS = summary(
    [_measure(400.0, 1800.0)],
    [_measure(560.0, 2100.0)],
    clients=4,
    seconds=5.0,
    threads=4,
    storage="postgresql",
)
FAILOVER = {
    "benchmark": "failover",
    "nodes": 3,
    "killed": "govbus-c1@localhost",
    "new_leader": "govbus-c3@localhost",
    "resume_s": 1.57,
    "answer_gap_s": 1.6,
    "calls_answered": 553,
    "calls_failed": 109,
    "notifications_confirmed": 386,
    "raw_requests_confirmed": 564,
    "date": "2026-12-03 13:14 UTC",
}


def test_two_hosts_and_failover_are_in_the_summary(tmp_path: Path) -> None:
    results = {
        "meta": {
            "command": "./dev bench",
            "date": "2026-12-03 13:00 UTC",
            "machine": {"nproc": 2, "cpu": "test CPU", "rabbitmq": "3.10.8", "python": "3.11.7"},
            "load_before": [0.1, 0.2, 0.3],
            "load_after": [1.0, 0.5, 0.3],
        },
        "benchmarks": [
            {"name": "hosts", "command": "python -m bench.hosts --json", "json": HOSTS},
            {"name": "failover", "command": "python -m bench.failover --json", "json": FAILOVER},
        ],
    }
    markdown = render(results, tmp_path).read_text()
    assert (
        "| hosts | two hosts / one host, request/reply | 1.40x (560/s), range 1.40-1.40 | one host 400/s "
        "| reported |" in markdown
    )
    assert "| failover | service resumes after losing the leader node | 1.57 s |" in markdown
    assert "| 2 | 560 | 2.50 | 9.00 | 1,200 / 2,100 / 450 |" in markdown
    assert "| calls answered / failed cleanly | 553 / 109 |" in markdown
    assert "stores on postgresql" in markdown
