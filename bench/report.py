"""One benchmark report: run every benchmark (each with its baseline) and write docs/benchmarks.md + charts.

Each benchmark runs as ``python -m bench.NAME --json`` in its own process; its JSON is collected. A
benchmark that is missing, has no ``--json`` yet, fails or times out is reported as "not run: reason" and
the report is still written. Targets from the issues sit next to each figure, marked met / not met.

    python -m bench [--quick] [--only envelope,request_reply] [--out docs] [--from-json results.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("GOVBUS_BROKER", "amqp://guest:guest@127.0.0.1:5672/")
CLIENTS = "1,2,4,8"


@dataclass(frozen=True)
class Bench:
    """How to run one benchmark, fully and for a smoke run."""

    name: str
    full: list[str]
    quick: list[str]
    timeout: float = 1800.0


BENCHMARKS: list[Bench] = [
    Bench("envelope", [], ["--messages", "200", "--rounds", "3"]),
    Bench(
        "request_reply",
        ["--seconds", "3", "--clients", CLIENTS, "--rounds", "3"],
        ["--seconds", "1", "--clients", "1,4", "--rounds", "1"],
    ),
    Bench(
        "guarantees",
        ["--seconds", "3", "--clients", "1,4", "--rounds", "3"],
        ["--seconds", "1", "--clients", "1", "--rounds", "1"],
    ),
    Bench("notifications", ["--rounds", "3"], ["--count", "500", "--rounds", "1"]),
    Bench("call_stages", [], ["--messages", "100", "--repeat", "2"]),
    Bench("audit", [], ["--records", "5000", "--messages", "500", "--rounds", "3"]),
    Bench("reply_modes", [], ["--seconds", "1", "--rounds", "1"]),
    Bench("hosts", ["--seconds", "5", "--clients", "4"], ["--seconds", "1", "--clients", "2"]),
    Bench("failover", [], [], timeout=1500.0),
    Bench("storage", [], ["--records", "1000", "--messages", "300", "--rounds", "3"]),
]


@dataclass
class Row:
    """One line of the summary table."""

    benchmark: str
    figure: str
    measured: str
    baseline: str = ""
    target: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        verdict = "" if self.met is None else ("met" if self.met else "**not met**")
        return [self.benchmark, self.figure, self.measured, self.baseline, self.target, verdict]


@dataclass
class Section:
    """What one benchmark contributes: summary rows, a markdown body, chart files."""

    rows: list[Row] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- running


def _options(text: str) -> set[str]:
    return {word.strip(",[]") for word in text.split() if word.startswith(("--", "[--"))}


def run_one(bench: Bench, quick: bool) -> dict[str, Any]:
    """Run one benchmark; return {name, command, seconds, json} or {name, command, error}."""
    module = f"bench.{bench.name}"
    command = [sys.executable, "-m", module, "--json"]
    outcome: dict[str, Any] = {"name": bench.name, "command": shlex.join(["python", "-m", module, "--json"])}
    if importlib.util.find_spec(module) is None:
        return outcome | {"error": f"{module} does not exist yet"}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    helped = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    known = _options(helped.stdout)
    if "--json" not in known:
        return outcome | {"error": f"{module} has no --json option"}
    extra: list[str] = []
    args = bench.quick if quick else bench.full
    for flag, value in zip(args[::2], args[1::2], strict=True):
        if flag in known:
            extra += [flag, value]
    command += extra
    outcome["command"] = shlex.join(["python", "-m", module, "--json", *extra])
    began = time.monotonic()
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300 if quick else bench.timeout,
        )
    except subprocess.TimeoutExpired:
        return outcome | {"error": f"timed out after {time.monotonic() - began:.0f} s"}
    outcome["seconds"] = round(time.monotonic() - began, 1)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return outcome | {"error": f"exit status {done.returncode}: {tail[:200]}"}
    try:
        outcome["json"] = json.loads(done.stdout[done.stdout.index("{") :])
    except ValueError as error:
        return outcome | {"error": f"output is not JSON: {error}"}
    return outcome


def _rabbitmq_version() -> str:
    try:
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(BROKER))
        try:
            version = connection._impl.server_properties.get("version", b"?")
        finally:
            connection.close()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception as error:
        return f"unknown ({type(error).__name__})"


def machine() -> dict[str, Any]:
    """The machine the report was measured on."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str] = {}
    try:
        import lxml.etree
        import xmlsec

        versions = {
            "lxml": lxml.etree.__version__,
            "libxml2": ".".join(map(str, lxml.etree.LIBXML_VERSION)),
            "xmlsec": xmlsec.__version__,
            "libxmlsec1": ".".join(map(str, xmlsec.get_libxmlsec_version())),
        }
    except ImportError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "rabbitmq": _rabbitmq_version(),
        "python": platform.python_version(),
        **versions,
        "kernel": platform.release(),
    }


# ---------------------------------------------------------------- charts


def _chart(out: Path, name: str, draw: Callable[[Any], None]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4), dpi=110)
    draw(axes)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    path = out / f"{name}.png"
    figure.savefig(path)
    plt.close(figure)
    return path.name


def _bars(axes: Any, labels: list[str], series: dict[str, list[float]], ylabel: str, title: str) -> None:
    width = 0.8 / max(1, len(series))
    for n, (label, values) in enumerate(series.items()):
        positions = [i + (n - (len(series) - 1) / 2) * width for i in range(len(labels))]
        axes.bar(positions, values, width, label=label)
    axes.set_xticks(range(len(labels)), labels)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend()


# ---------------------------------------------------------------- sections


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def envelope(data: dict[str, Any], charts: Path) -> Section:
    section = Section()
    limit = data.get("target_ratio", 1.5)
    section.body += [
        "CPU time per operation, govbus (full envelope rules) against bare python-xmlsec on the same documents, "
        "interleaved in rounds; ratio = govbus/bare.",
        "",
        *_table(
            ["algorithm", "operation", "govbus µs", "govbus ops/s", "bare µs", "bare ops/s", "ratio"],
            [
                [
                    r["algorithm"],
                    r["operation"],
                    r["govbus_us"],
                    f"{r['govbus_ops_per_s']:,}",
                    r["bare_us"],
                    f"{r['bare_ops_per_s']:,}",
                    f"{r['ratio']:.2f}",
                ]
                for r in data["results"]
            ],
        ),
    ]
    for r in data["results"]:
        if r["operation"] == "sign+verify":
            section.rows.append(
                Row(
                    "envelope",
                    f"{r['algorithm']} sign+verify ratio",
                    f"{r['ratio']:.2f}x ({r['govbus_us']} µs)",
                    f"bare xmlsec {r['bare_us']} µs",
                    f"≤ {limit}x",
                    r["ratio"] <= limit,
                )
            )
    labels = [f"{r['algorithm']} {r['operation']}" for r in data["results"]]
    section.charts.append(
        _chart(
            charts,
            "envelope",
            lambda ax: _bars(
                ax,
                labels,
                {
                    "govbus": [r["govbus_us"] for r in data["results"]],
                    "bare xmlsec": [r["bare_us"] for r in data["results"]],
                },
                "CPU µs per operation",
                "Envelope sign / verify: govbus vs bare xmlsec",
            ),
        )
    )
    return section


RATIO_TARGET = 0.85
ADDED_P50_TARGET_MS = 0.5


def _cpu_text(system: dict[str, Any]) -> str:
    figures = system.get("cpu_us_per_call") or system.get("cpu_us_per_notification") or {}
    return " / ".join("?" if v is None else f"{v:,.0f}" for v in figures.values())


def request_reply(data: dict[str, Any], charts: Path) -> Section:
    """Signed calls, govbus against raw pika + bare xmlsec, per provider-process count and client count."""
    section = Section()
    rows = sorted(data["rows"], key=lambda r: (r["workers"], r["clients"]))
    sizes = data.get("sizes", {})
    section.body += [
        "Signed calls through govbus against the physical limit of a signed call here: raw pika request/reply "
        "with bare python-xmlsec signing and verifying at both ends (bench/baseline.py), same document sizes "
        f"({sizes}), each client thread on its own connection. Paired cells (baseline, then govbus) in each of "
        f"{data['rounds']} rounds of {data['seconds']:g} s; medians; the ratio is the median of the per-round "
        f"ratios, with its range. govbus provider: `govbus run --threads {data.get('threads', '?')}{' --inline' if data.get('inline') else ''} --workers W`. "
        "CPU µs per call of the client process / the provider process(es) / RabbitMQ (utime+stime).",
        "",
        *_table(
            [
                "W",
                "clients",
                "baseline calls/s",
                "govbus calls/s",
                "ratio",
                "range",
                "baseline p50 ms",
                "govbus p50 ms",
                "added p50 ms",
                "baseline CPU µs/call",
                "govbus CPU µs/call",
            ],
            [
                [
                    r["workers"],
                    r["clients"],
                    f"{r['baseline']['calls_per_s']:.0f}",
                    f"{r['govbus']['calls_per_s']:.0f}",
                    f"{r['throughput_ratio']:.2f}",
                    f"{r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}",
                    f"{r['baseline']['p50_ms']:.2f}",
                    f"{r['govbus']['p50_ms']:.2f}",
                    f"{r['added_p50_ms']:.2f}",
                    _cpu_text(r["baseline"]),
                    _cpu_text(r["govbus"]),
                ]
                for r in rows
            ],
        ),
    ]
    cell = {(r["workers"], r["clients"]): r for r in rows}
    for clients in (4, 1):
        row = cell.get((1, clients))
        if row:
            section.rows.append(
                Row(
                    "request/reply",
                    f"govbus/baseline, {clients} client(s), 1 provider process",
                    f"{row['throughput_ratio']:.2f} ({row['govbus']['calls_per_s']:.0f}/s)",
                    f"raw pika + bare xmlsec {row['baseline']['calls_per_s']:.0f}/s",
                    f"≥ {RATIO_TARGET}",
                    row["throughput_ratio"] >= RATIO_TARGET,
                )
            )
    one = cell.get((1, 1))
    if one:
        section.rows.append(
            Row(
                "request/reply",
                "added p50 latency, 1 client",
                f"{one['added_p50_ms']:.2f} ms",
                f"baseline p50 {one['baseline']['p50_ms']:.2f} ms",
                f"≤ {ADDED_P50_TARGET_MS} ms",
                one["added_p50_ms"] <= ADDED_P50_TARGET_MS,
            )
        )
    scaled = [(c, cell[(1, c)], cell[(2, c)]) for c in (4, 8) if (1, c) in cell and (2, c) in cell]
    for clients, single, double in scaled:
        ours = double["govbus"]["calls_per_s"] / single["govbus"]["calls_per_s"]
        theirs = double["baseline"]["calls_per_s"] / single["baseline"]["calls_per_s"]
        section.rows.append(
            Row(
                "request/reply",
                f"2 provider processes / 1, {clients} clients",
                f"govbus x{ours:.2f}",
                f"baseline x{theirs:.2f}",
                "as the baseline",
                ours >= 0.95 * theirs,
            )
        )
    for workers in sorted({r["workers"] for r in rows}):
        mine = [r for r in rows if r["workers"] == workers]
        clients = [r["clients"] for r in mine]

        def throughput(
            ax: Any, mine: list[dict[str, Any]] = mine, clients: list[int] = clients, workers: int = workers
        ) -> None:
            ax.plot(
                clients, [r["baseline"]["calls_per_s"] for r in mine], "o-", label="raw pika + bare xmlsec"
            )
            ax.plot(clients, [r["govbus"]["calls_per_s"] for r in mine], "s-", label="govbus")
            twin = ax.twinx()
            twin.plot(clients, [r["throughput_ratio"] for r in mine], "k:", label="govbus / baseline")
            twin.axhline(RATIO_TARGET, color="grey", linestyle="--")
            twin.set_ylim(0, 1.2)
            twin.set_ylabel("ratio")
            ax.set_xscale("log", base=2)
            ax.set_xticks(clients, [str(c) for c in clients])
            ax.set_xlabel("concurrent clients")
            ax.set_ylabel("calls/s")
            ax.set_ylim(bottom=0)
            ax.set_title(f"Signed calls, {workers} provider process(es)")
            ax.legend(loc="upper left")

        section.charts.append(_chart(charts, f"request_reply_w{workers}", throughput))

    def cpu(ax: Any) -> None:
        labels = [f"W{r['workers']} C{r['clients']}" for r in rows]
        roles = ("client", "provider", "rabbitmq")
        width = 0.13
        for n, role in enumerate(roles):
            for m, system in enumerate(("baseline", "govbus")):
                values = [r[system]["cpu_us_per_call"].get(role) or 0 for r in rows]
                offset = (n * 2 + m - 2.5) * width
                ax.bar([i + offset for i in range(len(rows))], values, width, label=f"{system} {role}")
        ax.set_xticks(range(len(rows)), labels, rotation=45)
        ax.set_ylabel("CPU µs per call")
        ax.set_title("CPU per call per process")
        ax.legend(fontsize=7, ncol=3)

    section.charts.append(_chart(charts, "request_reply_cpu", cpu))
    return section


def _numbers(data: Any, prefix: str = "") -> list[tuple[str, float]]:
    """Every numeric leaf of a JSON document, with its dotted path."""
    if isinstance(data, dict):
        return [item for key, value in data.items() for item in _numbers(value, f"{prefix}{key}.")]
    if isinstance(data, list):
        return [item for n, value in enumerate(data) for item in _numbers(value, f"{prefix}{n}.")]
    if isinstance(data, int | float) and not isinstance(data, bool):
        return [(prefix.rstrip("."), data)]
    return []


def notifications(data: dict[str, Any], charts: Path) -> Section:
    """Signed notifications, govbus against raw pika + bare xmlsec: at the notifier and end to end."""
    section = Section()
    ours, raw = data["govbus"], data["baseline"]
    section.body += [
        "Signed notifications (~{size} B) through govbus against raw pika publishing the same documents signed "
        "with bare python-xmlsec, windowed confirms (window {window}), a subscriber process verifying, signing "
        "a receipt and acking; medians of {rounds} paired rounds of {count} notifications. CPU µs per "
        "notification of the notifier / subscriber / RabbitMQ over the end-to-end run.".format(
            size=ours["size"], window=ours["window"], rounds=len(data["rounds"]), count=ours["notifications"]
        ),
        "",
        *_table(
            ["system", "confirmed/s at the notifier", "handled/s end to end", "CPU µs/notification"],
            [
                [name, f"{d['per_s']:,.0f}", f"{d['handled_per_s']:,.0f}", _cpu_text(d)]
                for name, d in (("raw pika + bare xmlsec", raw), ("govbus", ours))
            ],
        ),
    ]
    for figure, key, ratio in (
        ("confirmed/s at the notifier", "per_s", "publish_ratio"),
        ("handled/s end to end (subscriber included)", "handled_per_s", "end_to_end_ratio"),
    ):
        section.rows.append(
            Row(
                "notifications",
                f"govbus/baseline, {figure}",
                f"{data[ratio]:.2f} ({ours[key]:,.0f}/s)",
                f"raw pika + bare xmlsec {raw[key]:,.0f}/s",
                f"≥ {RATIO_TARGET}",
                data[ratio] >= RATIO_TARGET,
            )
        )

    def rates(ax: Any) -> None:
        _bars(
            ax,
            ["confirmed/s at the notifier", "handled/s end to end"],
            {
                "raw pika + bare xmlsec": [raw["per_s"], raw["handled_per_s"]],
                "govbus": [ours["per_s"], ours["handled_per_s"]],
            },
            "notifications/s",
            "Signed notifications",
        )

    section.charts.append(_chart(charts, "notifications", rates))
    return section


def audit(data: dict[str, Any], charts: Path) -> Section:
    section = Section()
    logging = data["logging"]
    verification = data["verification"]
    section.body += [
        f"Message log: `MessageLog.record` of real signed envelopes (~{data['envelope_bytes']} bytes) against a "
        "bare SQLite insert of the same bytes, interleaved; and verification of a "
        f"{verification['records']:,}-record log (every signature checked).",
        "",
        *_table(
            ["synchronous", "record µs", "bare insert µs", "ratio"],
            [[r["synchronous"], r["record_us"], r["bare_insert_us"], f"{r['ratio']:.2f}"] for r in logging],
        ),
        "",
        *_table(
            ["group commit", "threads", "records/s"],
            [[r["synchronous"], r["threads"], f"{r['records_per_s']:,}"] for r in data["group_commit"]],
        ),
        "",
        *_table(
            ["verification", "records/s (wall)", "records per CPU-second", "seconds"],
            [
                [label, f"{row['records_per_s']:,}", f"{row['records_per_cpu_s']:,}", row["seconds"]]
                for label, row in verification.items()
                if isinstance(row, dict)
            ],
        ),
        "",
        f"`EnvelopeVerifier.verify` alone: {data['envelope_verify_us']} CPU µs per envelope.",
    ]
    for r in logging:
        section.rows.append(
            Row(
                "audit",
                f"logging cost, synchronous={r['synchronous']}",
                f"{r['ratio']:.2f}x ({r['record_us']} µs)",
                f"bare insert {r['bare_insert_us']} µs",
                "reported",
            )
        )
    full = verification.get("full_one_process")
    if full:
        section.rows.append(
            Row(
                "audit",
                "verified records/s, signatures, one core",
                f"{full['records_per_cpu_s']:,}/CPU-s ({full['records_per_s']:,}/s wall)",
                f"chain only {verification['chain_only']['records_per_cpu_s']:,}/CPU-s",
                "≥ 5,000/s",
                full["records_per_cpu_s"] >= 5000,
            )
        )
    labels = [label for label, row in verification.items() if isinstance(row, dict)]

    def rates(ax: Any) -> None:
        _bars(
            ax,
            labels,
            {
                "records/s wall": [verification[k]["records_per_s"] for k in labels],
                "records per CPU-s": [verification[k]["records_per_cpu_s"] for k in labels],
            },
            "records/s",
            "Message-log verification",
        )
        ax.axhline(5000, color="grey", linestyle="--", label="target 5,000/s")
        ax.set_yscale("log")
        ax.legend()

    section.charts.append(_chart(charts, "audit_verification", rates))
    section.charts.append(
        _chart(
            charts,
            "audit_logging",
            lambda ax: _bars(
                ax,
                [f"synchronous={r['synchronous']}" for r in logging],
                {
                    "MessageLog.record": [r["record_us"] for r in logging],
                    "bare SQLite insert": [r["bare_insert_us"] for r in logging],
                },
                "µs per message",
                "Message-log cost per message",
            ),
        )
    )
    return section


def reply_modes(data: dict[str, Any], charts: Path) -> Section:
    """Direct reply-to against a per-client reply queue, on the bare transport, with raw pika as baseline."""
    section = Section()
    rows = data["scenarios"]
    section.body += [
        "The reply mode of the RabbitMQ transport (no envelope, no signature): direct reply-to against a "
        f"per-client reply queue, with raw pika in the same rounds; medians of {data['rounds']} rounds of "
        f"{data['seconds']:g} s.",
        "",
        *_table(
            ["scenario", "calls/s", "range", "p50 ms", "p99 ms"],
            [
                [
                    r["scenario"],
                    f"{r['calls_per_s']:,.0f}",
                    f"{r['range'][0]:,.0f}-{r['range'][1]:,.0f}",
                    f"{r['p50_ms']:.2f}",
                    f"{r['p99_ms']:.2f}",
                ]
                for r in rows
            ],
        ),
    ]
    by_label = {r["scenario"]: r for r in rows}
    direct, queue = by_label.get("direct, 4 clients, 4 conn."), by_label.get("queue, 4 clients, 4 conn.")
    if direct is not None and queue is not None:
        section.rows.append(
            Row(
                "reply_modes",
                "direct reply-to / reply queue, 4 clients",
                f"{direct['calls_per_s']:,.0f}/s vs {queue['calls_per_s']:,.0f}/s",
                "",
                "reported",
            )
        )
    return section


def hosts(data: dict[str, Any], charts: Path) -> Section:
    """One participant on one host against two hosts sharing its PostgreSQL stores, same run."""
    section = Section()
    one, two = data["one_host"], data["two_hosts"]
    spread = data.get("ratio_range")
    section.body += [
        f"Signed calls from {data['clients']} client threads (each its own `Client` and connection) to the echo "
        f"provider, its stores on {data['storage']}: one provider process in its own working directory, then "
        "two (separate working directories, one database, competing consumers of one queue); "
        f"{data['seconds']:g} s each, {data['rounds']} round(s), `govbus run --threads "
        f"{data.get('threads', '?')}` per host. CPU µs per call of the client process / every host's provider "
        'process together / RabbitMQ (utime+stime). Both "hosts" share this machine\'s CPUs with the clients '
        "and RabbitMQ.",
        "",
        *_table(
            ["hosts", "calls/s", "p50 ms", "p99 ms", "CPU µs/call (client / provider / RabbitMQ)"],
            [
                [n, f"{m['calls_per_s']:.0f}", f"{m['p50_ms']:.2f}", f"{m['p99_ms']:.2f}", _cpu_text(m)]
                for n, m in ((1, one), (2, two))
            ],
        ),
    ]
    section.rows.append(
        Row(
            "hosts",
            "two hosts / one host, request/reply",
            f"{data['ratio']:.2f}x ({data['two_hosts_calls_per_s']:.0f}/s)"
            + (f", range {spread[0]:.2f}-{spread[1]:.2f}" if spread else ""),
            f"one host {data['one_host_calls_per_s']:.0f}/s",
            "reported",
        )
    )
    return section


def failover(data: dict[str, Any], charts: Path) -> Section:
    """The resume delay of the three-node cluster test that kills the leader node."""
    section = Section()
    section.body += [
        f"A {data['nodes']}-node RabbitMQ cluster on this machine loses {data['killed']}, the leader of the "
        "service's quorum queue, to SIGKILL mid-stream (tests/cluster/test_failover.py); every participant "
        "has the three addresses. The test passed: nothing confirmed was lost, no handler ran twice.",
        "",
        *_table(
            ["figure", "value"],
            [
                ["service resumed (kill to first answer of a call sent after it)", f"{data['resume_s']} s"],
                ["last answer before the kill to first answer after it", f"{data['answer_gap_s']} s"],
                ["calls answered / failed cleanly", f"{data['calls_answered']} / {data['calls_failed']}"],
                ["notifications confirmed", data["notifications_confirmed"]],
                ["new leader", data["new_leader"]],
            ],
        ),
    ]
    section.rows.append(
        Row(
            "failover",
            "service resumes after losing the leader node",
            f"{data['resume_s']} s",
            f"answer gap {data['answer_gap_s']} s",
            "reported",
        )
    )
    return section


def storage(data: dict[str, Any], charts: Path) -> Section:
    """The message log on PostgreSQL against SQLite: write rates and verification time, as ratios."""
    section = Section()
    writes, group, verified = data["writes"], data["group_commit"], data["verification"]
    section.body += [
        "Message log on PostgreSQL against SQLite in the same run: `MessageLog.record` of the same signed "
        "envelopes, interleaved (one writer) and with several writer threads; verification of a "
        f"{verified['records']:,}-record log on each (PostgreSQL: copied to the offline format, then verified).",
        "",
        *_table(
            ["writes", "PostgreSQL records/s", "SQLite records/s", "ratio"],
            [
                [
                    "one writer",
                    f"{writes['postgresql_per_s']:,}",
                    f"{writes['sqlite_per_s']:,}",
                    writes["ratio"],
                ],
                [
                    f"{group['threads']} threads",
                    f"{group['postgresql_per_s']:,}",
                    f"{group['sqlite_per_s']:,}",
                    group["ratio"],
                ],
            ],
        ),
        "",
        *_table(
            ["verification", "PostgreSQL s (copy s)", "SQLite s", "ratio"],
            [
                [
                    label,
                    f"{verified[label]['postgresql_seconds']} ({verified[label]['postgresql_copy_seconds']})",
                    verified[label]["sqlite_seconds"],
                    verified[label]["ratio"],
                ]
                for label in ("chain_only", "full")
            ],
        ),
    ]
    section.rows.append(
        Row(
            "storage",
            "message-log writes/s, PostgreSQL vs SQLite",
            f"{writes['ratio']:.2f}x ({writes['postgresql_per_s']:,}/s)",
            f"SQLite {writes['sqlite_per_s']:,}/s",
            "reported",
        )
    )
    section.rows.append(
        Row(
            "storage",
            "audit verify time, PostgreSQL vs SQLite",
            f"{verified['full']['ratio']:.2f}x ({verified['full']['postgresql_seconds']} s)",
            f"SQLite {verified['full']['sqlite_seconds']} s",
            "reported",
        )
    )
    return section


def call_stages(data: dict[str, Any], charts: Path) -> Section:
    """CPU per stage of one call outside the transport, against bare xmlsec per side."""
    section = Section()
    rows = [
        [side, stage, f"{value:,.0f}"]
        for side, figures in data["stages_us"].items()
        for stage, value in figures.items()
    ]
    for side, total in data["totals_us"].items():
        rows.append([side, "**total (outside the transport)**", f"**{total:,.0f}**"])
    rows.append(["bare xmlsec", "sign + verify, per side", f"{data['bare_per_side_us']:,.0f}"])
    floor = data.get("bare_sqlite_transaction_us")  # absent from runs before it was measured
    if floor is not None:
        rows.append(
            ["bare SQLite", "one log-row transaction (the floor of each transaction above)", f"{floor:,.0f}"]
        )
    section.body += [
        f"CPU µs per stage of one signed call ({data['request_bytes']} B request), each stage timed alone in one "
        f"thread without a broker, best of {data['repeat']} runs of {data['messages']}. The request/reply "
        "benchmark's CPU per call beyond these totals is the transport (pika, its I/O thread, the hand-overs). "
        "Bare SQLite: `BEGIN IMMEDIATE; INSERT; COMMIT` of a request's row into the message log's table (same "
        "indexes, WAL, synchronous=NORMAL), without the hash chain or any Python around it.",
        "",
        *_table(["side", "stage", "CPU µs"], rows),
    ]
    for side, total in data["totals_us"].items():
        section.rows.append(
            Row(
                "call_stages",
                f"{side} CPU per call outside the transport",
                f"{total:,.0f} µs",
                f"bare xmlsec {data['bare_per_side_us']:,.0f} µs per side",
                "reported",
            )
        )
    return section


def guarantees(data: dict[str, Any], charts: Path) -> Section:
    """The physical limit with govbus's guarantees added one at a time, then govbus: what each costs."""
    section = Section()
    rows = data["rows"]
    section.body += [
        "The raw pika + bare xmlsec exchange of the request/reply baseline with govbus's guarantees added "
        "one at a time, cumulatively, each with govbus's own code: publisher confirms on the request; the "
        "hash-chained message log on both sides (client: request before publishing, reply once verified; "
        "server: request and answer in one transaction before the ack); the idempotency store on the "
        "server (claim, then answer); the envelope schema on both sides. Then govbus itself. Every system "
        f"runs at once on its own queue and the cells alternate in each of {data['rounds']} rounds of "
        f"{data['seconds']:g} s; ratio = throughput / the raw layer's in the same round (median, range). "
        "CPU µs per call of the client / the server / RabbitMQ.",
        "",
        *_table(
            ["clients", "system", "calls/s", "ratio", "range", "p50 ms", "CPU µs/call"],
            [
                [
                    r["clients"],
                    r["system"],
                    f"{r['calls_per_s']:,.0f}",
                    f"{r['ratio']:.2f}",
                    f"{r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}",
                    f"{r['p50_ms']:.2f}",
                    _cpu_text(r),
                ]
                for r in rows
            ],
        ),
    ]
    counts = sorted({r["clients"] for r in rows})
    systems = [r["system"] for r in rows if r["clients"] == counts[0]]

    def draw(ax: Any) -> None:
        _bars(
            ax,
            systems,
            {
                f"{c} client(s)": [
                    r["ratio"] for s in systems for r in rows if r["clients"] == c and r["system"] == s
                ]
                for c in counts
            },
            "throughput / raw pika + bare xmlsec",
            "Each guarantee's price, cumulative",
        )

    section.charts.append(_chart(charts, "guarantees", draw))
    for clients in counts:
        by_system = {r["system"]: r for r in rows if r["clients"] == clients}
        guarded = by_system.get("+xsd")
        if guarded is not None:
            section.rows.append(
                Row(
                    "guarantees",
                    f"raw pika + bare xmlsec with confirms, log, idempotency and XSD, {clients} client(s)",
                    f"{guarded['ratio']:.2f} ({guarded['calls_per_s']:,.0f}/s)",
                    f"raw {by_system['raw']['calls_per_s']:,.0f}/s",
                    "reported",
                )
            )
    return section


SECTIONS: dict[str, Callable[[dict[str, Any], Path], Section]] = {
    "guarantees": guarantees,
    "call_stages": call_stages,
    "envelope": envelope,
    "request_reply": request_reply,
    "notifications": notifications,
    "audit": audit,
    "reply_modes": reply_modes,
    "hosts": hosts,
    "storage": storage,
    "failover": failover,
}


# ---------------------------------------------------------------- report


def render(results: dict[str, Any], out: Path) -> Path:
    """Write ``out/benchmarks.md`` and ``out/benchmarks/*.png`` from collected results; return the markdown."""
    charts = out / "benchmarks"
    charts.mkdir(parents=True, exist_ok=True)
    meta = results["meta"]
    summary: list[Row] = []
    parts: list[str] = []
    for outcome in results["benchmarks"]:
        name = outcome["name"]
        parts += [
            "",
            f"## {name}",
            "",
            f"`{outcome['command']}`" + (f" ({outcome['seconds']} s)" if "seconds" in outcome else ""),
            "",
        ]
        if "error" in outcome:
            parts.append(f"Not run: {outcome['error']}.")
            summary.append(Row(name, "—", f"not run: {outcome['error']}"))
            continue
        build = SECTIONS.get(name)
        if build is None:
            parts += ["```json", json.dumps(outcome["json"], indent=2), "```"]
            summary.append(Row(name, "—", "raw JSON below, no summary"))
            continue
        try:
            section = build(outcome["json"], charts)
        except (KeyError, TypeError, ValueError) as error:
            parts.append(f"Not reported: unexpected JSON ({type(error).__name__}: {error}).")
            summary.append(Row(name, "—", f"not reported: unexpected JSON ({error})"))
            continue
        summary += section.rows
        parts += section.body
        parts += ["", *[f"![{chart}](benchmarks/{chart})" for chart in section.charts]]
    m = meta["machine"]
    before, after = meta["load_before"], meta["load_after"]
    lines = [
        "# Benchmarks",
        "",
        "Every figure is measured against its baseline in the same run. Generated by `bench/run`; do not edit.",
        "",
        f"- command: `{meta['command']}`",
        f"- date: {meta['date']} (took {meta.get('seconds', 0):.0f} s)",
        f"- machine: {m['nproc']} CPUs, {m['cpu']}; RabbitMQ {m['rabbitmq']}; Python {m['python']}; "
        f"lxml {m.get('lxml', '?')} (libxml2 {m.get('libxml2', '?')}); xmlsec {m.get('xmlsec', '?')} "
        f"(libxmlsec1 {m.get('libxmlsec1', '?')}); kernel {m.get('kernel', '?')}",
        f"- load average (1/5/15 min): before {' '.join(f'{x:.2f}' for x in before)}, "
        f"after {' '.join(f'{x:.2f}' for x in after)}",
        "",
        "## Summary",
        "",
        *_table(
            ["benchmark", "figure", "measured", "baseline", "target", "verdict"], [r.cells() for r in summary]
        ),
        *parts,
        "",
    ]
    path = out / "benchmarks.md"
    path.write_text("\n".join(lines))
    (charts / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short durations: a smoke run of 1-2 minutes")
    parser.add_argument(
        "--only", help="comma-separated benchmark names: " + ",".join(b.name for b in BENCHMARKS)
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs", help="writes OUT/benchmarks.md, OUT/benchmarks/"
    )
    parser.add_argument(
        "--from-json", type=Path, help="re-render a saved results.json without running anything"
    )
    args = parser.parse_args(argv)
    if args.from_json:
        path = render(json.loads(args.from_json.read_text()), args.out)
        print(path)
        return 0
    chosen = BENCHMARKS
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = set(names) - {b.name for b in BENCHMARKS}
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        chosen = [b for b in BENCHMARKS if b.name in names]
    argv_shown = sys.argv[1:] if argv is None else argv
    meta: dict[str, Any] = {
        "command": " ".join(
            [os.environ.get("GOVBUS_BENCH_COMMAND", "python -m bench"), shlex.join(argv_shown)]
        ).strip(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_before": list(os.getloadavg()),
    }
    began = time.monotonic()
    outcomes = []
    for bench in chosen:
        print(f"[bench] {bench.name} ...", file=sys.stderr, flush=True)
        outcome = run_one(bench, args.quick)
        print(f"[bench] {bench.name}: {outcome.get('error', 'done')}", file=sys.stderr, flush=True)
        outcomes.append(outcome)
    meta["load_after"] = list(os.getloadavg())
    meta["seconds"] = round(time.monotonic() - began)
    path = render({"meta": meta, "benchmarks": outcomes}, args.out)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
