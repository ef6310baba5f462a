"""Message log on PostgreSQL against SQLite, in the same run: writes per second and audit verification.

1. Writes: ``MessageLog.record`` of the same signed envelopes into a SQLite log and a PostgreSQL log,
   interleaved in rounds so machine load hits both alike (one writer), then with ``--threads`` writer
   threads on each (group commit). Ratio: PostgreSQL writes/s over SQLite writes/s (median of rounds).
2. Verification: a log of ``--records`` records on each database; the SQLite log is verified as is, the
   PostgreSQL log is copied to the offline format first (``govbus audit verify`` does the same), and the
   copy's time is counted. Chain only and with every envelope signature. Ratio: PostgreSQL seconds over
   SQLite seconds.

    .venv/bin/python -m bench.storage [--records 5000] [--messages 1000] [--rounds 5] [--threads 4] [--json]

``GOVBUS_BENCH_POSTGRES`` (else ``GOVBUS_TEST_POSTGRES``, else the test database) is the PostgreSQL URL;
the benchmark's schemas are its own and are dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from bench.audit import build_home, messages
from bus.audit import MessageLog
from bus.audit.connection import PostgresLocation
from bus.audit.export import export_postgres_log
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify import verify_log
from bus.envelope import Header
from bus.pki import SigningIdentity

DEFAULT_URL = "postgresql://govbus_test:govbus_test@127.0.0.1:5432/govbus_test"
OUTCOME = {"out": "sent", "in": "accepted"}
Sample = list[tuple[str, Header, bytes]]


def postgres_url() -> str:
    return os.environ.get("GOVBUS_BENCH_POSTGRES") or os.environ.get("GOVBUS_TEST_POSTGRES") or DEFAULT_URL


class Places:
    """Fresh log locations: SQLite files in a folder, PostgreSQL schemas with one prefix (dropped at the end)."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder = folder
        self.url = url
        self.prefix = f"bench_{uuid.uuid4().hex[:8]}_"
        self.count = 0

    def new(self, dialect: str) -> Path | PostgresLocation:
        self.count += 1
        if dialect == "sqlite":
            return self.folder / f"log-{self.count}.sqlite"
        return PostgresLocation(self.url, f"{self.prefix}{self.count}")

    def drop(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            names = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (self.prefix,)
            ).fetchall()
            for (name,) in names:
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def interleaved_writes(
    places: Places, client: SigningIdentity, sample: Sample, rounds: int
) -> dict[str, Any]:
    """Records per second of one writer on each database, interleaved in ``rounds``."""
    logs = {
        d: MessageLog.open(places.new(d), identity=client, checkpoint_every=1000)
        for d in ("sqlite", "postgresql")
    }
    rates: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    ratios = []
    chunk = max(1, len(sample) // rounds)
    for start in range(0, len(sample), chunk):
        part = sample[start : start + chunk]
        for dialect, log in logs.items():
            began = time.perf_counter()
            for direction, header, raw in part:
                log.record(direction, raw, header=header, outcome=OUTCOME[direction])
            rates[dialect].append(len(part) / (time.perf_counter() - began))
        ratios.append(rates["postgresql"][-1] / rates["sqlite"][-1])
    for log in logs.values():
        log.close()
    return {
        "messages": len(sample),
        "sqlite_per_s": round(statistics.median(rates["sqlite"])),
        "postgresql_per_s": round(statistics.median(rates["postgresql"])),
        "ratio": round(statistics.median(ratios), 2),
    }


def threaded_writes(places: Places, client: SigningIdentity, sample: Sample, threads: int) -> dict[str, Any]:
    """Records per second with ``threads`` writers sharing one log, on each database (SQLite first)."""
    result: dict[str, Any] = {"threads": threads}
    for dialect in ("sqlite", "postgresql"):
        log = MessageLog.open(places.new(dialect), identity=client, checkpoint_every=1000)

        def work(offset: int, log: MessageLog = log) -> None:
            for direction, header, raw in sample[offset::threads]:
                log.record(direction, raw, header=header, outcome=OUTCOME[direction])

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        began = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        result[f"{dialect}_per_s"] = round(len(sample) / (time.perf_counter() - began))
        log.close()
    result["ratio"] = round(result["postgresql_per_s"] / result["sqlite_per_s"], 2)
    return result


def verification(
    places: Places, client: SigningIdentity, provider: SigningIdentity, trust: TrustFiles, records: int
) -> dict[str, Any]:
    """Seconds to verify the same ``records`` on each database (PostgreSQL: copy, then verify the copy).

    The envelopes are signed just before they are written: each must still be valid at its recording time.
    """
    locations = {d: places.new(d) for d in ("sqlite", "postgresql")}
    fresh = messages(client, provider, records)
    for where in locations.values():
        with MessageLog.open(where, identity=client, checkpoint_every=1000) as log:
            for direction, header, raw in fresh:
                log.record(direction, raw, header=header, outcome=OUTCOME[direction])
    results: dict[str, Any] = {"records": records}
    for label, options in (("chain_only", {"signatures": False}), ("full", {})):
        row: dict[str, Any] = {}
        for dialect, where in locations.items():
            began = time.perf_counter()
            if isinstance(where, PostgresLocation):
                path = export_postgres_log(where, places.folder / f"copy-{label}.sqlite")
            else:
                path = where
            copied = time.perf_counter()
            report = verify_log([path], trust, **options)  # type: ignore[arg-type]
            end = time.perf_counter()
            if not report.ok or report.records != records:
                raise SystemExit(f"the {dialect} benchmark log does not verify: {report.first_problem}")
            row[f"{dialect}_seconds"] = round(end - began, 3)
            if dialect == "postgresql":
                row["postgresql_copy_seconds"] = round(copied - began, 3)
        row["ratio"] = round(row["postgresql_seconds"] / row["sqlite_seconds"], 2)
        results[label] = row
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.storage", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000, help="records in each log to verify")
    parser.add_argument("--messages", type=int, default=1_000, help="messages written for the write rates")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds for the write rates")
    parser.add_argument("--threads", type=int, default=4, help="writer threads for the group-commit rates")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="govbus-bench-storage-") as scratch:
        folder = Path(scratch)
        home, client, provider = build_home(folder / "home")
        trust = TrustFiles.from_home(home)
        sample = messages(client, provider, args.messages)
        places = Places(folder, postgres_url())
        try:
            results: dict[str, Any] = {
                "writes": interleaved_writes(places, client, sample, args.rounds),
                "group_commit": threaded_writes(places, client, sample, args.threads),
                "verification": verification(places, client, provider, trust, args.records),
            }
        finally:
            places.drop()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(_text(results))
    return 0


def _text(results: dict[str, Any]) -> str:
    writes, group, verified = results["writes"], results["group_commit"], results["verification"]
    lines = [
        f"writes, one writer: PostgreSQL {writes['postgresql_per_s']}/s, SQLite {writes['sqlite_per_s']}/s: "
        f"ratio {writes['ratio']}",
        f"writes, {group['threads']} threads: PostgreSQL {group['postgresql_per_s']}/s, SQLite "
        f"{group['sqlite_per_s']}/s: ratio {group['ratio']}",
    ]
    for label in ("chain_only", "full"):
        row = verified[label]
        lines.append(
            f"verify {verified['records']} records ({label}): PostgreSQL {row['postgresql_seconds']} s "
            f"(copy {row['postgresql_copy_seconds']} s), SQLite {row['sqlite_seconds']} s: ratio {row['ratio']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
