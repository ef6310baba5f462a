"""Signed calls through govbus against the physical limit: raw pika + bare python-xmlsec, same run.

Baseline (bench/baseline.py): client threads, each on its own pika ``BlockingConnection``, sign a
request of govbus's envelope size, publish it persistent to a quorum queue, wait on direct reply-to and
verify the signed answer; ``W`` single-threaded server processes verify, sign and reply. govbus: the same
number of client threads, each its own ``Client`` (own node, own transport and connection: no client
shares another's I/O thread) calling the echo provider run by ``govbus run --workers W`` (verify,
authorise, deduplicate, XSD, sign, log, reply). Both servers are started before a configuration's cells
and are idle while the other system is measured.

Cells are paired: for each round, each provider-process count and each client count, the baseline cell
then the govbus cell. Each cell reports calls/s, p50/p99 latency and CPU µs per call of the client
process, the provider process(es) and RabbitMQ (utime+stime from /proc), which depends much less on
the machine's other load than wall time does. The summary rows are medians over the rounds; the ratio
is the median of the per-round ratios.

    python -m bench.request_reply [--broker URL] [--seconds 3] [--clients 1,2,4,8] [--workers 1,2]
        [--rounds 3] [--threads 4] [--inline] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pika

from bench import baseline, cpu
from bench.echo_service import ECHO, PROVIDER, Ping
from bus.envelope import Header, MessageKind
from bus.logging import configure_logging
from sdk import Client
from sdk.contract import encode
from sdk.exchange import exchange
from sdk.testing import TestBus

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"
CLIENT = "MA/GOV/BENCH/client"
TEXT = "x" * 1400  # a ~3.3 KiB signed request envelope, ~3.5 KiB response (measured: see "sizes")
WARM_UP = 20
ROOT = Path(__file__).resolve().parent.parent

Call = Callable[[], object]


def measure(calls: list[Call], seconds: float, pids: dict[str, list[int]]) -> dict[str, Any]:
    """Run one thread per ``calls`` entry for ``seconds``; throughput, latency and CPU per call."""
    latencies: list[list[float]] = [[] for _ in calls]
    start = threading.Barrier(len(calls) + 1)
    go = threading.Event()
    stop_at = [0.0]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        call, own = calls[index], latencies[index]
        try:
            for _ in range(WARM_UP):
                call()
            start.wait()
            go.wait()
            while time.perf_counter() < stop_at[0]:
                began = time.perf_counter()
                call()
                own.append(time.perf_counter() - began)
        except threading.BrokenBarrierError:
            return
        except BaseException as error:
            errors.append(error)
            start.abort()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    try:
        start.wait()
    except threading.BrokenBarrierError:
        raise RuntimeError(f"a client failed: {errors[0]!r}") from None
    before, switched = cpu.snapshot(pids), cpu.snapshot(pids, cpu.context_switches)
    began = time.perf_counter()
    stop_at[0] = began + seconds
    go.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    after, switches = cpu.snapshot(pids), cpu.snapshot(pids, cpu.context_switches)
    if errors:
        raise RuntimeError(f"a client failed: {errors[0]!r}")
    every = sorted(x for own in latencies for x in own)
    return {
        "calls": len(every),
        "seconds": round(elapsed, 3),
        "calls_per_s": round(len(every) / elapsed, 1),
        "p50_ms": round(statistics.median(every) * 1000, 3),
        "p99_ms": round(every[int(len(every) * 0.99)] * 1000, 3),
        "cpu_us_per_call": cpu.per_call(before, after, len(every)),
        "switches_per_call": cpu.per_call(switched, switches, len(every), scale=1),
    }


def _broker_role() -> dict[str, list[int]]:
    pid = cpu.broker_pid()
    return {"rabbitmq": [pid]} if pid is not None else {}


class BaselineSystem:
    """``workers`` baseline server processes and up to ``clients`` client connections."""

    def __init__(self, url: str, workers: int, clients: int, folder: Path) -> None:
        client_id = baseline.make_identity(folder, baseline.CLIENT)
        server_id = baseline.make_identity(folder, baseline.PROVIDER)
        self.queue = f"bench-baseline-{uuid.uuid4().hex[:8]}"
        self.url = url
        # declared once here: W servers declaring one new quorum queue at once can fail to start
        connection = pika.BlockingConnection(pika.URLParameters(url))
        connection.channel().queue_declare(self.queue, durable=True, arguments={"x-queue-type": "quorum"})
        connection.close()
        context = multiprocessing.get_context("spawn")
        ready = [context.Event() for _ in range(workers)]
        self.stop = context.Event()
        self.servers = [
            context.Process(
                target=baseline.server,
                args=(url, self.queue, server_id, client_id["spki"], r, self.stop),
                daemon=True,
            )
            for r in ready
        ]
        for process in self.servers:
            process.start()
        for r in ready:
            if not r.wait(60):
                raise RuntimeError("a baseline server did not start")
        signer = baseline.Signer(client_id, server_id["spki"])
        self.sizes: dict[str, int] = {}
        self.calls = [baseline.client(url, self.queue, signer, TEXT, self.sizes) for _ in range(clients)]

    def pids(self) -> dict[str, list[int]]:
        return {"client": [os.getpid()], "provider": [p.pid for p in self.servers if p.pid], **_broker_role()}

    def close(self) -> None:
        self.stop.set()
        for process in self.servers:
            process.join(30)
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        connection.channel().queue_delete(self.queue)
        connection.close()


class GovbusSystem:
    """The echo provider under ``govbus run`` and up to ``clients`` clients, each on its own connection."""

    def __init__(
        self,
        url: str,
        workers: int,
        clients: int,
        threads: int,
        root: str,
        source: Path = ROOT,
        *,
        inline: bool = False,
    ) -> None:
        """``source``: the govbus tree the provider runs from (another checkout, to compare two versions)."""
        self.bus = TestBus(Path(root), broker=url)
        self.bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        self.bus.sign_catalogue()
        service = ECHO.service_of(PROVIDER)
        queue = self.bus.transport.declare_service(str(service))[0]  # as the provider declares it
        self.provider = subprocess.Popen(
            [sys.executable, "-m", "bus.cli", "run", "bench.echo_service:app", "--home", root,
             "--broker", url, "--prefix", self.bus.prefix, "--threads", str(threads),
             "--workers", str(workers), "--log-level", "WARNING", *(["--inline"] if inline else [])],
            env={**os.environ, "PYTHONPATH": str(source)},
            cwd=source,
        )  # fmt: skip
        _wait_for_consumers(url, queue, workers, self.provider)
        self.clients, self.calls = echo_clients(root, url, self.bus.prefix, clients)
        self.sizes = _govbus_sizes(self.clients[0])

    def pids(self) -> dict[str, list[int]]:
        return {"client": [os.getpid()], "provider": cpu.descendants(self.provider.pid), **_broker_role()}

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.provider.terminate()
        self.provider.wait(30)
        self.bus.close()


def echo_clients(root: str, url: str, prefix: str, count: int) -> tuple[list[Client], list[Call]]:
    """``count`` clients of the echo provider, each its own ``Client`` (own node, transport and connection),
    and for each a call of a ``TEXT``-sized ping."""
    clients = [Client(CLIENT, home=root, broker=url, prefix=prefix) for _ in range(count)]
    request = Ping(text=TEXT)
    calls: list[Call] = [
        lambda c=c: c.call(PROVIDER, ECHO, request)  # type: ignore[misc]
        for c in clients
    ]
    return clients, calls


def _wait_for_consumers(url: str, queue: str, count: int, provider: subprocess.Popen[bytes]) -> None:
    """Wait until ``count`` provider processes consume ``queue`` (a passive declare of a queue that
    exists: no call is made before the provider is ready, so nothing is refused or logged)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        deadline = time.monotonic() + 60
        while channel.queue_declare(queue, passive=True).method.consumer_count < count:
            if provider.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the govbus provider did not start consuming")
            time.sleep(0.1)
    finally:
        connection.close()


def _govbus_sizes(client: Client) -> dict[str, int]:
    """Bytes of a signed request and of its signed response, as the bench sends and receives them."""
    node = client.node
    service = ECHO.service_of(PROVIDER)
    payload = encode(Ping(text=TEXT), ECHO.schema)
    header = Header.new(MessageKind.REQUEST, node.participant, service, ttl=timedelta(seconds=40))
    response = exchange(node, service, payload, None, None, 10.0, 0)
    return {"request": len(node.sign(header, payload)), "response": len(response.raw)}


@contextmanager
def systems(
    url: str, workers: int, clients: int, threads: int, *, inline: bool = False
) -> Iterator[tuple[Any, Any]]:
    with tempfile.TemporaryDirectory(prefix="govbus-bench-") as root:
        base = BaselineSystem(url, workers, clients, Path(root))
        try:
            ours = GovbusSystem(url, workers, clients, threads, root, inline=inline)
            try:
                yield base, ours
            finally:
                ours.close()
        finally:
            base.close()


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def summarise(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (workers, clients): medians over the rounds of each figure and of the paired ratio."""
    rows = []
    keys = sorted({(c["workers"], c["clients"]) for c in cells})
    for workers, clients in keys:
        group = [c for c in cells if (c["workers"], c["clients"]) == (workers, clients)]
        row: dict[str, Any] = {"workers": workers, "clients": clients, "rounds": len(group)}
        for system in ("baseline", "govbus"):
            roles = group[0][system]["cpu_us_per_call"].keys()
            row[system] = {
                **{k: _median([c[system][k] for c in group]) for k in ("calls_per_s", "p50_ms", "p99_ms")},
                "cpu_us_per_call": {
                    role: _median(
                        [v for c in group if (v := c[system]["cpu_us_per_call"].get(role)) is not None]
                    )
                    if any(c[system]["cpu_us_per_call"].get(role) is not None for c in group)
                    else None
                    for role in roles
                },
            }
        ratios = [c["ratio"] for c in group]
        row["throughput_ratio"] = _median(ratios)
        row["ratio_range"] = [min(ratios), max(ratios)]
        row["added_p50_ms"] = _median([c["govbus"]["p50_ms"] - c["baseline"]["p50_ms"] for c in group])
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default=os.environ.get("GOVBUS_BROKER", DEFAULT_BROKER))
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per cell")
    parser.add_argument("--clients", default="1,2,4,8", help="client threads per cell")
    parser.add_argument("--workers", default="1,2", help="provider / server processes")
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds of every cell")
    parser.add_argument("--threads", type=int, default=None, help="govbus run --threads (default: run's own)")
    parser.add_argument(
        "--inline", action="store_true", help="govbus run --inline (handlers on the connection)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")
    client_counts = [int(c) for c in args.clients.split(",")]
    worker_counts = [int(w) for w in args.workers.split(",")]
    threads = args.threads if args.threads is not None else _default_threads()
    cells: list[dict[str, Any]] = []
    sizes: dict[str, dict[str, int]] = {}
    for round_ in range(args.rounds):
        for workers in worker_counts:
            with systems(args.broker, workers, max(client_counts), threads, inline=args.inline) as (
                base,
                ours,
            ):
                for clients in client_counts:
                    raw = measure(base.calls[:clients], args.seconds, base.pids())
                    mine = measure(ours.calls[:clients], args.seconds, ours.pids())
                    cells.append(
                        {
                            "round": round_,
                            "workers": workers,
                            "clients": clients,
                            "baseline": raw,
                            "govbus": mine,
                            "ratio": round(mine["calls_per_s"] / raw["calls_per_s"], 3),
                        }
                    )
                    print(
                        f"[request_reply] round {round_} workers {workers} clients {clients}: "
                        f"baseline {raw['calls_per_s']:.0f}/s govbus {mine['calls_per_s']:.0f}/s "
                        f"ratio {cells[-1]['ratio']:.2f} cpu {raw['cpu_us_per_call']} / {mine['cpu_us_per_call']}",
                        file=sys.stderr,
                        flush=True,
                    )
                sizes = {"baseline": dict(base.sizes), "govbus": ours.sizes}
    rows = summarise(cells)
    result = {
        "benchmark": "request_reply",
        "seconds": args.seconds,
        "rounds": args.rounds,
        "threads": threads,
        "inline": args.inline,
        "sizes": sizes,
        "rows": rows,
        "cells": cells,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"request/reply against raw pika + bare xmlsec, {args.seconds:g} s per cell, medians of "
        f"{args.rounds} paired round(s), govbus run --threads {threads}{' --inline' if args.inline else ''}; sizes {sizes}"
    )
    print(
        "| workers | clients | baseline/s | govbus/s | ratio | range | added p50 ms | CPU µs/call base (c/p/mq) | govbus (c/p/mq) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        b, g = row["baseline"], row["govbus"]
        print(
            f"| {row['workers']} | {row['clients']} | {b['calls_per_s']:.0f} | {g['calls_per_s']:.0f} "
            f"| {row['throughput_ratio']:.2f} | {row['ratio_range'][0]:.2f}-{row['ratio_range'][1]:.2f} "
            f"| {row['added_p50_ms']:.2f} | {_cpu(b)} | {_cpu(g)} |"
        )


def _cpu(system: dict[str, Any]) -> str:
    figures = system["cpu_us_per_call"]
    return "/".join(
        "?" if figures.get(r) is None else f"{figures[r]:.0f}" for r in ("client", "provider", "rabbitmq")
    )


def _default_threads() -> int:
    """The handler threads ``govbus run`` starts when not told (its ``--threads`` default)."""
    from sdk.cli import run

    option = next(p for p in run.params if p.name == "threads")
    return int(option.default)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
