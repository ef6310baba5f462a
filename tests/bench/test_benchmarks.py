"""Every benchmark the report runs exists, imports, takes the options the report passes it, and has a
report section that renders its JSON (canned here: no benchmark runs, no broker)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.report import BENCHMARKS, ROOT, SECTIONS, Bench, _options, render
from tests.bench.test_report import AUDIT, ENVELOPE, REPLY_MODES, REQUEST_REPLY
from tests.bench.test_report_cluster import FAILOVER, HOSTS
from tests.bench.test_storage_report import STORAGE

NOTIFICATIONS: dict[str, Any] = {
    "benchmark": "notifications",
    "rounds": [{"publish_ratio": 0.61, "end_to_end_ratio": 0.55}],
    "threads": 4,
    "baseline": {
        "size": 3300,
        "window": 256,
        "notifications": 500,
        "per_s": 900.0,
        "handled_per_s": 700.0,
        "cpu_us_per_notification": {"notifier": 900.0, "subscriber": 1100.0, "rabbitmq": 600.0},
    },
    "govbus": {
        "size": 3310,
        "window": 256,
        "notifications": 500,
        "per_s": 549.0,
        "handled_per_s": 385.0,
        "cpu_us_per_notification": {"notifier": 1500.0, "subscriber": 2100.0, "rabbitmq": 650.0},
    },
    "publish_ratio": 0.61,
    "end_to_end_ratio": 0.55,
}

CALL_STAGES: dict[str, Any] = {
    "benchmark": "call_stages",
    "messages": 100,
    "repeat": 2,
    "request_bytes": 3310,
    "stages_us": {
        "client": {"header": 20.0, "sign": 180.0, "verify reply": 260.0},
        "provider": {"verify": 270.0, "sign reply": 190.0},
    },
    "totals_us": {"client": 460.0, "provider": 460.0},
    "bare_us": {"sign": 150.0, "verify": 220.0},
    "bare_per_side_us": 370.0,
    "bare_sqlite_transaction_us": 90.0,
}

GUARANTEES: dict[str, Any] = {
    "benchmark": "guarantees",
    "rounds": 3,
    "seconds": 3.0,
    "threads": 4,
    "rows": [
        {
            "clients": 1,
            "system": system,
            "calls_per_s": per_s,
            "ratio": round(per_s / 400.0, 3),
            "ratio_range": [round(per_s / 420.0, 3), round(per_s / 380.0, 3)],
            "p50_ms": 2.5,
            "cpu_us_per_call": {"client": 700.0, "provider": 700.0, "rabbitmq": 800.0},
        }
        for system, per_s in (
            ("raw", 400.0),
            ("+confirms", 390.0),
            ("+log", 320.0),
            ("+xsd", 290.0),
            ("govbus", 180.0),
        )
    ],
}

CANNED: dict[str, dict[str, Any]] = {
    "guarantees": GUARANTEES,
    "envelope": ENVELOPE,
    "request_reply": REQUEST_REPLY,
    "notifications": NOTIFICATIONS,
    "call_stages": CALL_STAGES,
    "audit": AUDIT,
    "reply_modes": REPLY_MODES,
    "hosts": HOSTS,
    "failover": FAILOVER,
    "storage": STORAGE,
}


def test_every_benchmark_has_a_section_and_canned_json() -> None:
    names = {bench.name for bench in BENCHMARKS}
    assert names == set(SECTIONS)
    assert names == set(CANNED)


@pytest.mark.parametrize("bench", BENCHMARKS, ids=lambda bench: bench.name)
def test_the_benchmark_imports_and_takes_the_reports_options(bench: Bench) -> None:
    """The report runs ``python -m bench.NAME --json`` and drops the options its --help does not list:
    a module that no longer imports, or an option renamed, would silently leave a section empty."""
    module = importlib.import_module(f"bench.{bench.name}")
    assert callable(module.main)
    helped = subprocess.run(
        [sys.executable, "-m", f"bench.{bench.name}", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    known = _options(helped.stdout)
    assert "--json" in known
    assert set(bench.quick[::2]) <= known
    assert set(bench.full[::2]) <= known


def test_every_section_renders_its_benchmarks_json(tmp_path: Path) -> None:
    results = {
        "meta": {
            "command": "bench/run",
            "date": "2026-12-03 14:00 UTC",
            "machine": {"nproc": 2, "cpu": "test CPU", "rabbitmq": "3.10.8", "python": "3.11.7"},
            "load_before": [0.1, 0.2, 0.3],
            "load_after": [1.0, 0.5, 0.3],
        },
        "benchmarks": [
            {
                "name": bench.name,
                "command": f"python -m bench.{bench.name} --json",
                "json": CANNED[bench.name],
            }
            for bench in BENCHMARKS
        ],
    }
    markdown = render(results, tmp_path).read_text()
    assert "unexpected JSON" not in markdown
    assert "raw JSON below" not in markdown
    assert "| bare SQLite | one log-row transaction" in markdown  # the floor beside the storage stages
    summary = markdown.split("## Summary", 1)[1].split("\n## ", 1)[0]
    for bench in BENCHMARKS:
        assert f"\n## {bench.name}\n" in markdown
        label = "request/reply" if bench.name == "request_reply" else bench.name
        assert f"\n| {label} | " in summary, f"{bench.name} has no row in the summary"
