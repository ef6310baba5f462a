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
        "request_reply", ["--seconds", "5", "--clients", CLIENTS], ["--seconds", "1", "--clients", CLIENTS]
    ),
    Bench("notifications", [], ["--count", "2000"]),
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


def request_reply(data: dict[str, Any], charts: Path) -> Section:
    section = Section()
    rows = sorted(data["rows"], key=lambda r: r["clients"])
    section.body += [
        "Signed calls through govbus against raw pika request/reply (same broker, 2 KiB persistent, quorum "
        "queue), measured cell by cell in the same run.",
        "",
        *_table(
            [
                "clients",
                "raw calls/s",
                "govbus calls/s",
                "ratio",
                "raw p50 ms",
                "raw p99 ms",
                "govbus p50 ms",
                "govbus p99 ms",
                "added p50 ms",
            ],
            [
                [
                    r["clients"],
                    f"{r['raw']['calls_per_s']:.0f}",
                    f"{r['govbus']['calls_per_s']:.0f}",
                    f"{r['throughput_ratio']:.2f}",
                    f"{r['raw']['p50_ms']:.2f}",
                    f"{r['raw']['p99_ms']:.2f}",
                    f"{r['govbus']['p50_ms']:.2f}",
                    f"{r['govbus']['p99_ms']:.2f}",
                    f"{r['added_p50_ms']:.2f}",
                ]
                for r in rows
            ],
        ),
    ]
    by_clients = {r["clients"]: r for r in rows}
    four = by_clients.get(4)
    if four:
        section.rows.append(
            Row(
                "request/reply",
                "govbus/raw throughput, 4 clients",
                f"{four['throughput_ratio']:.0%}",
                f"raw pika {four['raw']['calls_per_s']:.0f}/s",
                "≥ 70%",
                four["throughput_ratio"] >= 0.70,
            )
        )
    best = max(rows, key=lambda r: r["govbus"]["calls_per_s"])
    section.rows.append(
        Row(
            "request/reply",
            f"govbus calls/s (best: {best['clients']} clients)",
            f"{best['govbus']['calls_per_s']:.0f}/s",
            f"raw pika {best['raw']['calls_per_s']:.0f}/s",
            "≥ 1,000/s",
            best["govbus"]["calls_per_s"] >= 1000,
        )
    )
    one = by_clients.get(1, rows[0])
    section.rows.append(
        Row(
            "request/reply",
            f"added p50 latency, {one['clients']} client",
            f"{one['added_p50_ms']:.2f} ms (p99 {one['govbus']['p99_ms']:.1f} ms)",
            f"raw p50 {one['raw']['p50_ms']:.2f} ms",
            "≤ 0.7 ms",
            one["added_p50_ms"] <= 0.7,
        )
    )
    clients = [r["clients"] for r in rows]

    def throughput(ax: Any) -> None:
        ax.plot(clients, [r["raw"]["calls_per_s"] for r in rows], "o-", label="raw pika")
        ax.plot(clients, [r["govbus"]["calls_per_s"] for r in rows], "s-", label="govbus")
        ax.axhline(1000, color="grey", linestyle="--", label="target 1,000/s")
        ax.set_xscale("log", base=2)
        ax.set_xticks(clients, [str(c) for c in clients])
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("calls/s")
        ax.set_ylim(bottom=0)
        ax.set_title("Request/reply throughput vs concurrency")
        ax.legend()

    def latency(ax: Any) -> None:
        for system, marker in (("raw", "o"), ("govbus", "s")):
            name = "raw pika" if system == "raw" else "govbus"
            ax.plot(clients, [r[system]["p50_ms"] for r in rows], f"{marker}-", label=f"{name} p50")
            ax.plot(clients, [r[system]["p99_ms"] for r in rows], f"{marker}:", label=f"{name} p99")
        ax.set_xscale("log", base=2)
        ax.set_xticks(clients, [str(c) for c in clients])
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("latency ms")
        ax.set_ylim(bottom=0)
        ax.set_title("Request/reply latency vs concurrency")
        ax.legend()

    section.charts += [
        _chart(charts, "request_reply_throughput", throughput),
        _chart(charts, "request_reply_latency", latency),
    ]
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
    """Signed notifications confirmed per second, govbus against raw pika; generic listing otherwise."""
    section = Section()
    ours, raw = data.get("govbus"), data.get("raw")
    if not (isinstance(ours, dict) and isinstance(raw, dict) and "per_s" in ours and "per_s" in raw):
        figures = _numbers(data)
        section.body += _table(["figure", "value"], [[k, f"{v:,.2f}"] for k, v in figures])
        section.rows.append(
            Row("notifications", "confirmed/s", "no govbus.per_s in the JSON", "", "≥ 5,000/s")
        )
        return section
    keys = [k for k in ("notifications", "subscribers", "window", "size", "seconds", "per_s") if k in ours]
    section.body += [
        "Signed notifications published with windowed publisher confirms through govbus against raw pika "
        "confirmed publishes of the same size, same run.",
        "",
        *_table(
            ["system", *keys],
            [
                [name, *(f"{d[k]:,.0f}" if k != "seconds" else f"{d[k]:.2f}" for k in keys)]
                for name, d in (("raw pika", raw), ("govbus", ours))
            ],
        ),
    ]
    section.rows.append(
        Row(
            "notifications",
            "govbus confirmed/s",
            f"{ours['per_s']:,.0f}/s ({ours['per_s'] / raw['per_s']:.0%} of raw)",
            f"raw pika {raw['per_s']:,.0f}/s",
            "≥ 5,000/s",
            ours["per_s"] >= 5000,
        )
    )

    def rates(ax: Any) -> None:
        _bars(
            ax,
            ["confirmed/s"],
            {"raw pika": [raw["per_s"]], "govbus": [ours["per_s"]]},
            "notifications/s",
            "Notifications confirmed per second",
        )
        ax.axhline(5000, color="grey", linestyle="--", label="target 5,000/s")
        ax.legend()

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
    section.body += [
        f"Signed calls from {data['clients']} client processes to the echo provider, its stores on "
        f"{data['storage']}: "
        "one provider process in its own working directory, then two (separate working directories, one "
        f"database, competing consumers of one queue); {data['seconds']:g} s each, {data['rounds']} round(s). "
        'Both "hosts" share this machine\'s CPUs with the clients and RabbitMQ.',
        "",
        *_table(
            ["hosts", "calls/s", "p50 ms", "p99 ms"],
            [
                [n, f"{m['calls_per_s']:.0f}", f"{m['p50_ms']:.2f}", f"{m['p99_ms']:.2f}"]
                for n, m in ((1, one), (2, two))
            ],
        ),
    ]
    section.rows.append(
        Row(
            "hosts",
            "two hosts / one host, request/reply",
            f"{data['ratio']:.2f}x ({data['two_hosts_calls_per_s']:.0f}/s)",
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


SECTIONS: dict[str, Callable[[dict[str, Any], Path], Section]] = {
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
