"""Request/reply through the transport with each reply mode, against raw pika measured in the same run.

Reply modes: ``direct`` (``amq.rabbitmq.reply-to``) and ``queue`` (a per-client exclusive reply queue).
Clients: 1, and 4 threads each on its own connection; and 4 threads sharing one transport (how an SDK
client with a thread pool uses it). A provider process answers on a quorum service queue (echo handler
on 4 worker threads, prefetch 64). Requests and replies are 2 KiB and persistent.

Baseline: raw pika with the same queue type, body size and persistence, BlockingConnection, direct
reply-to, no publisher confirms (the transport confirms every request).

    .venv/bin/python -m bench.reply_modes [--broker URL] [--seconds 3] [--rounds 3]

Scenarios are interleaved in every round and medians reported, because the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event

import pika

from bus.transport import Delivery, OutgoingMessage, Transport, connect

SERVICE = "MA/GOV/BENCH/echo/bench.echo/v1"
BODY = b"x" * 2048
Call = Callable[[], None]


def transport_provider(url: str, prefix: str, ready: Event, stop: Event) -> None:
    with connect(url, prefix=prefix) as transport:
        transport.declare_service(SERVICE)

        def echo(delivery: Delivery) -> None:
            transport.reply(delivery, OutgoingMessage(delivery.body, message_id=uuid.uuid4().hex))

        with transport.consume(transport.topology.service_queue(SERVICE), echo, prefetch=64, concurrency=4):
            ready.set()
            stop.wait()


def raw_provider(url: str, queue: str, ready: Event, stop: Event) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.basic_qos(prefetch_count=64)

    def echo(ch: object, method: object, properties: pika.BasicProperties, body: bytes) -> None:
        reply = pika.BasicProperties(correlation_id=properties.message_id, delivery_mode=2)
        channel.basic_publish("", properties.reply_to, body, reply)
        channel.basic_ack(method.delivery_tag)  # type: ignore[attr-defined]

    channel.basic_consume(queue, echo)
    ready.set()
    while not stop.is_set():
        connection.process_data_events(0.2)
    channel.queue_delete(queue)
    connection.close()


class RawClient:
    """A raw pika request/reply client: one BlockingConnection, direct reply-to, no confirms."""

    def __init__(self, url: str, queue: str) -> None:
        self.queue = queue
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.replies: set[str] = set()
        self.channel.basic_consume(
            "amq.rabbitmq.reply-to", lambda ch, m, p, b: self.replies.add(p.correlation_id), auto_ack=True
        )

    def call(self) -> None:
        message_id = uuid.uuid4().hex
        properties = pika.BasicProperties(
            reply_to="amq.rabbitmq.reply-to", message_id=message_id, delivery_mode=2
        )
        self.channel.basic_publish("", self.queue, BODY, properties)
        while message_id not in self.replies:
            self.connection.process_data_events(time_limit=None)
        self.replies.discard(message_id)


@dataclass
class Result:
    label: str
    rates: list[float] = field(default_factory=list)
    p50s: list[float] = field(default_factory=list)
    p99s: list[float] = field(default_factory=list)

    def add(self, seconds: float, latencies: list[float]) -> None:
        lat = sorted(latencies)
        self.rates.append(len(lat) / seconds)
        self.p50s.append(statistics.median(lat) * 1000)
        self.p99s.append(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000)

    def as_json(self) -> dict[str, object]:
        rate, p50, p99 = (statistics.median(x) for x in (self.rates, self.p50s, self.p99s))
        return {
            "scenario": self.label,
            "calls_per_s": round(rate, 1),
            "range": [round(min(self.rates), 1), round(max(self.rates), 1)],
            "p50_ms": round(p50, 3),
            "p99_ms": round(p99, 3),
        }

    def row(self) -> str:
        rate, p50, p99 = (statistics.median(x) for x in (self.rates, self.p50s, self.p99s))
        spread = f"{min(self.rates):.0f}-{max(self.rates):.0f}"
        return f"| {self.label:<40} | {rate:>8.0f} | {spread:>11} | {p50:>7.2f} | {p99:>7.2f} |"


HEADER = (
    f"| {'scenario':<40} | {'calls/s':>8} | {'range':>11} | {'p50 ms':>7} | {'p99 ms':>7} |\n"
    f"|{'-' * 42}|{'-' * 10}|{'-' * 13}|{'-' * 9}|{'-' * 9}|"
)


def measure(calls: list[Call], seconds: float) -> tuple[float, list[float]]:
    """Run each call in a loop on its own thread for ``seconds`` (after a warm-up); return latencies."""
    latencies: list[list[float]] = [[] for _ in calls]
    start = threading.Barrier(len(calls) + 1)
    stop_at = [float("inf")]

    def loop(index: int) -> None:
        call = calls[index]
        for _ in range(50):
            call()
        start.wait()
        mine = latencies[index]
        while time.monotonic() < stop_at[0]:
            began = time.perf_counter()
            call()
            mine.append(time.perf_counter() - began)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    stop_at[0] = began + seconds
    for thread in threads:
        thread.join()
    return time.monotonic() - began, [x for per in latencies for x in per]


def transport_calls(url: str, prefix: str, mode: str, clients: int, shared: bool) -> tuple[list[Call], Call]:
    transports = [connect(url, prefix=prefix, reply_mode=mode) for _ in range(1 if shared else clients)]

    def call_on(transport: Transport) -> Call:
        return lambda: transport.request(
            SERVICE, OutgoingMessage(BODY, message_id=uuid.uuid4().hex), timeout=30
        )

    calls = [call_on(transports[i % len(transports)]) for i in range(clients)]
    return calls, lambda: [t.close() for t in transports]  # type: ignore[func-returns-value]


def raw_calls(url: str, queue: str, clients: int) -> tuple[list[Call], Call]:
    raw = [RawClient(url, queue) for _ in range(clients)]
    return [client.call for client in raw], lambda: [client.connection.close() for client in raw]  # type: ignore[func-returns-value]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--seconds", type=float, default=3.0, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, scenarios interleaved in each")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    progress = sys.stderr if args.json else sys.stdout
    prefix = "bench" + uuid.uuid4().hex[:8]
    raw_queue = f"{prefix}.raw"
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    providers = []
    for target, target_args in (
        (transport_provider, (args.broker, prefix)),
        (raw_provider, (args.broker, raw_queue)),
    ):
        ready = context.Event()
        process = context.Process(target=target, args=(*target_args, ready, stop), daemon=True)
        process.start()
        providers.append(process)
        if not ready.wait(60):
            raise SystemExit(f"{target.__name__} did not start")

    scenarios: dict[str, Callable[[], tuple[list[Call], Call]]] = {
        "raw pika (baseline), 1 client": lambda: raw_calls(args.broker, raw_queue, 1),
        "raw pika (baseline), 4 clients, 4 conn.": lambda: raw_calls(args.broker, raw_queue, 4),
    }
    for mode in ("direct", "queue"):
        scenarios[f"{mode}, 1 client"] = lambda m=mode: transport_calls(args.broker, prefix, m, 1, False)
        scenarios[f"{mode}, 4 clients, 4 conn."] = lambda m=mode: transport_calls(
            args.broker, prefix, m, 4, False
        )
        scenarios[f"{mode}, 4 clients, 1 shared conn."] = lambda m=mode: transport_calls(
            args.broker, prefix, m, 4, True
        )
    results = {label: Result(label) for label in scenarios}
    try:
        for round_ in range(args.rounds):
            for label, setup in scenarios.items():
                calls, teardown = setup()
                try:
                    results[label].add(*measure(calls, args.seconds))
                finally:
                    teardown()
            print(f"round {round_ + 1}/{args.rounds} done", file=progress, flush=True)
    finally:
        stop.set()
        for process in providers:
            process.join(30)
        with connect(args.broker, prefix=prefix) as admin:
            admin.delete_service(SERVICE)
            admin.delete_exchanges()
    if args.json:
        scenarios_json = [result.as_json() for result in results.values()]
        print(json.dumps({"rounds": args.rounds, "seconds": args.seconds, "scenarios": scenarios_json}))
        return
    print(f"\n2 KiB persistent requests and replies, quorum service queue; medians of {args.rounds} rounds")
    print(HEADER)
    for result in results.values():
        print(result.row())


if __name__ == "__main__":
    main()
