"""Message-log benchmarks: what logging costs per message, and how fast a long log verifies.

1. Logging cost: ``MessageLog.record`` of real signed envelopes (~2 KiB) against a bare SQLite insert of
   the same bytes (one autocommit INSERT into a two-column table, same WAL and synchronous setting),
   interleaved in rounds in the same run so machine load hits both alike; the ratio is the median of
   the per-round ratios. Also with ``synchronous=FULL`` (durable against power loss) and with several
   writer threads (group commit).
2. Verification rate of a log of ``--records`` records (half requests sent, half responses received,
   two signers, checkpoint every 1,000): chain only (``--no-signatures``), full (every envelope
   signature, one process), and full with ``--jobs`` worker processes. Each is given as wall-clock
   records/s and as records per CPU-second (own and worker processes): the second is what one core
   does, and does not depend on what else the machine runs.

    .venv/bin/python -m bench.audit [--records 100000] [--messages 4000] [--jobs 2] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import lxml.etree as etree

from bus.audit import MessageLog
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify import verify_log
from bus.envelope import EnvelopeVerifier, Header, MessageKind, sign_envelope
from bus.ids import ParticipantId, ServiceId
from bus.pki import BusHome, SigningIdentity
from bus.pki.authority import CertificateAuthority

CLIENT = "MA/GOV/MEF/tresorerie"
PROVIDER = "MA/GOV/CNSS/attestations"
SERVICE = ServiceId.parse("MA/GOV/CNSS/attestations/cnss.attestation/v1")
NS = "urn:bench:cnss:attestation:1"


def payload(index: int) -> etree._Element:
    root = etree.Element(f"{{{NS}}}AttestationRequest", nsmap={"a": NS})
    etree.SubElement(root, f"{{{NS}}}ice").text = f"{1525987000000 + index:015d}"
    etree.SubElement(root, f"{{{NS}}}name").text = "Atlas Travaux SARL"
    return root


def build_home(root: Path) -> tuple[BusHome, SigningIdentity, SigningIdentity]:
    home = BusHome.at(root)
    authority = CertificateAuthority.init(home)
    for participant in (CLIENT, PROVIDER):
        authority.issue(ParticipantId.parse(participant))
    return home, SigningIdentity.from_home(home, CLIENT), SigningIdentity.from_home(home, PROVIDER)


def messages(
    client: SigningIdentity, provider: SigningIdentity, count: int
) -> list[tuple[str, Header, bytes]]:
    """``count`` signed envelopes: requests sent by the client, each followed by its response received."""
    out: list[tuple[str, Header, bytes]] = []
    while len(out) < count:
        index = len(out)
        request = Header.new(MessageKind.REQUEST, client.participant, SERVICE, purpose="public-procurement")
        raw = sign_envelope(request, payload(index), client)
        out.append(("out", request, raw))
        response = Header.new(
            MessageKind.RESPONSE,
            provider.participant,
            SERVICE,
            correlation_id=request.id,
            request_hash=hashlib.sha256(raw).hexdigest(),
        )
        out.append(("in", response, sign_envelope(response, payload(index + 1), provider)))
    return out[:count]


def bare_db(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, b BLOB)")
    return conn


def logging_cost(
    folder: Path,
    client: SigningIdentity,
    sample: list[tuple[str, Header, bytes]],
    synchronous: str,
    rounds: int,
) -> dict[str, Any]:
    """Per-message microseconds of a bare insert and of ``record``, interleaved in ``rounds``."""
    bare = bare_db(folder / f"bare-{synchronous}.sqlite", synchronous)
    log = MessageLog.open(
        folder / f"log-{synchronous}.sqlite",
        identity=client,
        synchronous=synchronous.lower(),
        checkpoint_every=1000,
    )
    outcome = {"out": "sent", "in": "accepted"}
    chunk = max(1, len(sample) // rounds)
    bare_us, log_us, ratios = [], [], []
    for start in range(0, len(sample), chunk):
        part = sample[start : start + chunk]
        began = time.perf_counter()
        for _, _, raw in part:
            bare.execute("INSERT INTO t (b) VALUES (?)", (raw,))
        middle = time.perf_counter()
        for direction, header, raw in part:
            log.record(direction, raw, header=header, outcome=outcome[direction])
        end = time.perf_counter()
        bare_us.append((middle - began) / len(part) * 1e6)
        log_us.append((end - middle) / len(part) * 1e6)
        ratios.append(log_us[-1] / bare_us[-1])
    log.close()
    bare.close()
    return {
        "synchronous": synchronous,
        "messages": len(sample),
        "bare_insert_us": round(statistics.median(bare_us), 1),
        "record_us": round(statistics.median(log_us), 1),
        "ratio": round(statistics.median(ratios), 2),
    }


def threaded_rate(
    folder: Path,
    client: SigningIdentity,
    sample: list[tuple[str, Header, bytes]],
    synchronous: str,
    threads: int,
) -> dict[str, Any]:
    """Records per second with ``threads`` writers sharing one log (group commit)."""
    log = MessageLog.open(
        folder / f"threads-{synchronous}.sqlite",
        identity=client,
        synchronous=synchronous.lower(),
        checkpoint_every=1000,
    )
    outcome = {"out": "sent", "in": "accepted"}

    def work(offset: int) -> None:
        for direction, header, raw in sample[offset::threads]:
            log.record(direction, raw, header=header, outcome=outcome[direction])

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - began
    log.close()
    return {"synchronous": synchronous, "threads": threads, "records_per_s": round(len(sample) / seconds)}


def build_log(path: Path, client: SigningIdentity, provider: SigningIdentity, records: int) -> float:
    """Write a log of ``records`` distinct signed envelopes; return the seconds spent signing."""
    signing = 0.0
    outcome = {"out": "sent", "in": "accepted"}
    with MessageLog.open(path, identity=client, checkpoint_every=1000) as log:
        done = 0
        while done < records:
            began = time.perf_counter()
            batch = messages(client, provider, min(2000, records - done))
            signing += time.perf_counter() - began
            for direction, header, raw in batch:
                log.record(direction, raw, header=header, outcome=outcome[direction])
            done += len(batch)
    return signing


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its reaped children (worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def verification(path: Path, trust: TrustFiles, records: int, jobs: int) -> dict[str, Any]:
    """Wall-clock rate, and rate per CPU-second (what one core does, whatever else the machine runs)."""
    results: dict[str, Any] = {"records": records}
    for label, options in (
        ("chain_only", {"signatures": False}),
        ("full_one_process", {}),
        (f"full_{jobs}_jobs", {"jobs": jobs}),
    ):
        cpu = _cpu_seconds()
        began = time.perf_counter()
        report = verify_log([path], trust, **options)
        seconds = time.perf_counter() - began
        cpu = _cpu_seconds() - cpu
        if not report.ok:
            raise SystemExit(f"the benchmark log does not verify: {report.first_problem}")
        results[label] = {
            "seconds": round(seconds, 2),
            "records_per_s": round(report.records / seconds),
            "cpu_seconds": round(cpu, 2),
            "records_per_cpu_s": round(report.records / cpu),
        }
    return results


def envelope_verify_us(trust: TrustFiles, sample: list[tuple[str, Header, bytes]]) -> float:
    """CPU microseconds per bare ``EnvelopeVerifier.verify`` call (the floor of full verification)."""
    verifier = EnvelopeVerifier(trust.store())
    for _, _, raw in sample[:200]:
        verifier.verify(raw)
    began = time.process_time()
    for _, _, raw in sample:
        verifier.verify(raw)
    return round((time.process_time() - began) / len(sample) * 1e6, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records in the log to verify")
    parser.add_argument("--messages", type=int, default=4_000, help="messages for the logging cost")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds for the logging cost")
    parser.add_argument("--threads", type=int, default=4, help="writer threads for the group-commit rate")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="worker processes for --jobs")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="govbus-bench-audit-") as scratch:
        folder = Path(scratch)
        home, client, provider = build_home(folder / "home")
        trust = TrustFiles.from_home(home)
        sample = messages(client, provider, args.messages)
        results: dict[str, Any] = {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
            },
            "envelope_bytes": round(statistics.mean(len(raw) for _, _, raw in sample)),
            "logging": [
                logging_cost(folder, client, sample, sync, args.rounds) for sync in ("NORMAL", "FULL")
            ],
            "group_commit": [
                threaded_rate(folder, client, sample, sync, args.threads) for sync in ("NORMAL", "FULL")
            ],
            "envelope_verify_us": envelope_verify_us(trust, sample[:2000]),
        }
        log_path = folder / "long.sqlite"
        results["signing_seconds"] = round(build_log(log_path, client, provider, args.records), 1)
        results["verification"] = verification(log_path, trust, args.records, args.jobs)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(_text(results))
    return 0


def _text(results: dict[str, Any]) -> str:
    lines = [f"machine: {results['machine']}; envelopes ~{results['envelope_bytes']} bytes"]
    for row in results["logging"]:
        lines.append(
            f"logging, synchronous={row['synchronous']}: record {row['record_us']} us vs bare insert "
            f"{row['bare_insert_us']} us per message: ratio {row['ratio']}"
        )
    for row in results["group_commit"]:
        lines.append(
            f"group commit, synchronous={row['synchronous']}, {row['threads']} threads: {row['records_per_s']} records/s"
        )
    lines.append(f"EnvelopeVerifier.verify alone: {results['envelope_verify_us']} CPU us per envelope")
    verification = results["verification"]
    for label, row in verification.items():
        if isinstance(row, dict):
            lines.append(
                f"verify {verification['records']} records, {label}: {row['records_per_s']} records/s wall "
                f"({row['seconds']} s), {row['records_per_cpu_s']} records per CPU-second ({row['cpu_seconds']} s)"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
