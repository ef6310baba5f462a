"""The storage benchmark's section of the report, on canned JSON (nothing runs)."""

from __future__ import annotations

from pathlib import Path

from bench.report import render

STORAGE = {
    "writes": {"messages": 300, "sqlite_per_s": 2500, "postgresql_per_s": 300, "ratio": 0.12},
    "group_commit": {"threads": 4, "sqlite_per_s": 1500, "postgresql_per_s": 400, "ratio": 0.27},
    "verification": {
        "records": 1000,
        "chain_only": {
            "sqlite_seconds": 0.08,
            "postgresql_seconds": 0.47,
            "postgresql_copy_seconds": 0.34,
            "ratio": 5.9,
        },
        "full": {
            "sqlite_seconds": 1.68,
            "postgresql_seconds": 2.06,
            "postgresql_copy_seconds": 0.42,
            "ratio": 1.23,
        },
    },
}


def test_the_storage_section_reports_both_databases_and_their_ratios(tmp_path: Path) -> None:
    results = {
        "meta": {
            "command": "./dev bench --only storage",
            "date": "2026-12-03 13:00 UTC",
            "machine": {"nproc": 2, "cpu": "test CPU", "rabbitmq": "3.10.8", "python": "3.11.7"},
            "load_before": [0.1, 0.2, 0.3],
            "load_after": [1.0, 0.5, 0.3],
        },
        "benchmarks": [{"name": "storage", "command": "python -m bench.storage --json", "json": STORAGE}],
    }
    markdown = render(results, tmp_path).read_text()
    assert "message-log writes/s, PostgreSQL vs SQLite | 0.12x (300/s) | SQLite 2,500/s" in markdown
    assert "audit verify time, PostgreSQL vs SQLite | 1.23x (2.06 s) | SQLite 1.68 s" in markdown
    assert "| 4 threads | 400 | 1,500 | 0.27 |" in markdown
