"""The benchmark report generator on canned JSON: no benchmarks run, no broker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import render
from bench.request_reply import summarise

ENVELOPE = {
    "benchmark": "envelope",
    "target_ratio": 1.5,
    "results": [
        {
            "algorithm": "ec",
            "operation": op,
            "govbus_us": g,
            "govbus_ops_per_s": round(1e6 / g),
            "bare_us": b,
            "bare_ops_per_s": round(1e6 / b),
            "ratio": g / b,
        }
        for op, g, b in (("sign", 139.4, 115.2), ("verify", 207.2, 125.7), ("sign+verify", 346.6, 240.9))
    ],
}


def _measure(rate: float, p50: float, cpu: float) -> dict[str, Any]:
    """One cell of one system, as ``bench.request_reply.measure`` returns it."""
    return {
        "calls": int(rate),
        "seconds": 1.0,
        "calls_per_s": rate,
        "p50_ms": p50,
        "p99_ms": p50 * 3,
        "cpu_us_per_call": {"client": cpu, "provider": cpu * 1.5, "rabbitmq": 400.0},
        "switches_per_call": {"client": 3.0, "provider": 10.0, "rabbitmq": 30.0},
    }


CELLS = [
    {
        "round": 0,
        "workers": w,
        "clients": c,
        "baseline": _measure(700.0 * c * w, 1.2, 500.0),
        "govbus": _measure(300.0 * c * w, 4.0, 1500.0),
        "ratio": 300 / 700,
    }
    for w in (1, 2)
    for c in (1, 2, 4, 8)
]

REQUEST_REPLY = {
    "benchmark": "request_reply",
    "seconds": 1.0,
    "rounds": 1,
    "threads": 4,
    "sizes": {"baseline": {"request": 3300, "response": 3500}, "govbus": {"request": 3310, "response": 3520}},
    "rows": summarise(CELLS),
    "cells": CELLS,
}

AUDIT = {
    "envelope_bytes": 2133,
    "logging": [
        {"synchronous": "NORMAL", "messages": 300, "bare_insert_us": 26.3, "record_us": 95.2, "ratio": 3.62}
    ],
    "group_commit": [{"synchronous": "NORMAL", "threads": 4, "records_per_s": 8769}],
    "envelope_verify_us": 201.3,
    "verification": {
        "records": 2000,
        "chain_only": {
            "seconds": 0.04,
            "records_per_s": 49473,
            "cpu_seconds": 0.04,
            "records_per_cpu_s": 49451,
        },
        "full_one_process": {
            "seconds": 0.51,
            "records_per_s": 3891,
            "cpu_seconds": 0.51,
            "records_per_cpu_s": 3892,
        },
    },
}

REPLY_MODES = {
    "rounds": 3,
    "seconds": 3.0,
    "scenarios": [
        {
            "scenario": label,
            "calls_per_s": rate,
            "range": [rate - 50, rate + 50],
            "p50_ms": 1.5,
            "p99_ms": 4.0,
        }
        for label, rate in (
            ("raw pika (baseline), 4 clients, 4 conn.", 1900.0),
            ("direct, 4 clients, 4 conn.", 1650.0),
            ("queue, 4 clients, 4 conn.", 1410.0),
        )
    ],
}


def test_report_from_canned_json(tmp_path: Path) -> None:
    results = {
        "meta": {
            "command": "./dev bench --quick",
            "date": "2025-01-01 00:00 UTC",
            "machine": {"nproc": 2, "cpu": "test CPU", "rabbitmq": "3.10.8", "python": "3.11.7"},
            "load_before": [0.1, 0.2, 0.3],
            "load_after": [1.0, 0.5, 0.3],
        },
        "benchmarks": [
            {
                "name": "envelope",
                "command": "python -m bench.envelope --json",
                "seconds": 1.0,
                "json": ENVELOPE,
            },
            {
                "name": "request_reply",
                "command": "python -m bench.request_reply --json",
                "json": REQUEST_REPLY,
            },
            {
                "name": "notifications",
                "command": "python -m bench.notifications --json",
                "error": "bench.notifications does not exist yet",
            },
            {"name": "audit", "command": "python -m bench.audit --json", "json": AUDIT},
            {"name": "reply_modes", "command": "python -m bench.reply_modes --json", "json": REPLY_MODES},
            {"name": "odd", "command": "python -m bench.odd --json", "json": {"x": 1}},
        ],
    }
    markdown = render(results, tmp_path).read_text()
    assert "## Summary" in markdown
    assert "./dev bench --quick" in markdown and "test CPU" in markdown and "3.10.8" in markdown
    assert "not run: bench.notifications does not exist yet" in markdown
    assert "ec sign+verify ratio" in markdown and "met" in markdown
    assert "**not met**" in markdown  # request/reply and audit canned figures miss their targets
    assert "| reply_modes | direct reply-to / reply queue, 4 clients | 1,650/s vs 1,410/s |" in markdown
    assert "| queue, 4 clients, 4 conn. | 1,410 | 1,360-1,460 | 1.50 | 4.00 |" in markdown
    pngs = sorted(p.name for p in (tmp_path / "benchmarks").glob("*.png"))
    assert "| request/reply | govbus/baseline, 4 client(s), 1 provider process | 0.43 (1200/s) |" in markdown
    assert "| 1 | 4 | 2800 | 1200 | 0.43 | 0.43-0.43 | 1.20 | 4.00 | 2.80 | 500 / 750 / 400 |" in markdown
    assert "unexpected JSON" not in markdown
    expected = {"request_reply_w1.png", "request_reply_w2.png", "request_reply_cpu.png", "envelope.png"}
    assert expected <= set(pngs)
    assert (tmp_path / "benchmarks" / "request_reply_w1.png").read_bytes().startswith(b"\x89PNG")
    for png in pngs:
        assert f"](benchmarks/{png})" in markdown
