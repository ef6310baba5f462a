"""Request/reply throughput and latency of the two reply modes: direct reply-to vs per-client reply queue.

A provider process serves one quorum service queue (echo handler on worker threads); the clients run in
this process, each on its own transport (connection), or several threads sharing one transport.
Messages are 2 KiB and persistent. Run against a real broker:

    .venv/bin/python -m bench.reply_modes [--broker amqp://guest:guest@127.0.0.1:5672/] [--seconds 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import threading
import time
import uuid
from dataclasses import dataclass

from bus.transport import OutgoingMessage, Transport, connect

SERVICE = "MA/GOV/BENCH/echo/bench.echo/v1"
BODY = b"x" * 2048


def provider(
    url: str, prefix: str, ready: multiprocessing.synchronize.Event, stop: multiprocessing.synchronize.Event
) -> None:
    with connect(url, prefix=prefix) as transport:
        transport.declare_service(SERVICE)

        def echo(delivery: object) -> None:
            transport.reply(delivery, OutgoingMessage(delivery.body, message_id=uuid.uuid4().hex))  # type: ignore[attr-defined]

        with transport.consume(transport.topology.service_queue(SERVICE), echo, prefetch=64, concurrency=4):
            ready.set()
            stop.wait()


@dataclass
class Result:
    label: str
    rates: list[float]
    p50s: list[float]
    p99s: list[float]

    def add(self, calls: int, seconds: float, latencies: list[float]) -> None:
        lat = sorted(latencies)
        self.rates.append(calls / seconds)
        self.p50s.append(statistics.median(lat) * 1000)
        self.p99s.append(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000)

    def row(self) -> str:
        rate, p50, p99 = (statistics.median(x) for x in (self.rates, self.p50s, self.p99s))
        spread = f"{min(self.rates):.0f}-{max(self.rates):.0f}"
        return f"| {self.label:<34} | {rate:>8.0f} | {spread:>11} | {p50:>7.2f} | {p99:>7.2f} |"


HEADER = (
    f"| {'reply mode, clients':<34} | {'calls/s':>8} | {'range':>11} | {'p50 ms':>7} | {'p99 ms':>7} |\n"
    f"|{'-' * 36}|{'-' * 10}|{'-' * 13}|{'-' * 9}|{'-' * 9}|"
)


def run_clients(transports: list[Transport], threads: int, seconds: float) -> tuple[int, float, list[float]]:
    latencies: list[list[float]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads + 1)
    deadline = 0.0

    def client(index: int) -> None:
        transport = transports[index % len(transports)]
        for _ in range(50):  # warm-up
            transport.request(SERVICE, OutgoingMessage(BODY, message_id=uuid.uuid4().hex), timeout=10)
        start.wait()
        mine = latencies[index]
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            transport.request(SERVICE, OutgoingMessage(BODY, message_id=uuid.uuid4().hex), timeout=10)
            mine.append(time.perf_counter() - t0)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 3600
    start.wait()
    began = time.monotonic()
    deadline = began + seconds
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - began
    flat = [x for per in latencies for x in per]
    return len(flat), elapsed, flat


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--seconds", type=float, default=3.0, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, scenarios interleaved in each")
    args = parser.parse_args()
    prefix = "bench" + uuid.uuid4().hex[:8]
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    server = context.Process(target=provider, args=(args.broker, prefix, ready, stop), daemon=True)
    server.start()
    if not ready.wait(60):
        raise SystemExit("provider did not start")
    scenarios = [
        (mode, clients, shared)
        for mode in ("direct", "queue")
        for clients, shared in ((1, False), (4, False), (4, True))
    ]
    results = {
        scenario: Result(
            f"{scenario[0]}, "
            + ("1 client" if scenario[1] == 1 else f"4 clients, {'1 shared' if scenario[2] else '4'} conn."),
            [],
            [],
            [],
        )
        for scenario in scenarios
    }
    try:
        for round_ in range(args.rounds):
            for scenario in scenarios:
                mode, clients, shared = scenario
                count = 1 if shared else clients
                transports = [connect(args.broker, prefix=prefix, reply_mode=mode) for _ in range(count)]
                try:
                    results[scenario].add(*run_clients(transports, clients, args.seconds))
                finally:
                    for transport in transports:
                        transport.close()
            print(f"round {round_ + 1}/{args.rounds} done", flush=True)
    finally:
        stop.set()
        server.join(30)
        with connect(args.broker, prefix=prefix) as admin:
            admin.delete_service(SERVICE)
            admin.delete_exchanges()
    print(f"\n2 KiB persistent requests and replies, quorum service queue, medians of {args.rounds} rounds")
    print(HEADER)
    for result in results.values():
        print(result.row())


if __name__ == "__main__":
    main()
