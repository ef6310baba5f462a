"""Signed request/reply through govbus against raw pika request/reply, same broker, payload size and run.

Baseline: pika BlockingConnection clients (one connection per client thread) publishing persistent 2 KiB
requests to a quorum queue and waiting on direct reply-to; a single-threaded pika server process replies.
govbus: the same number of client threads, each a ``Client`` (own connection) making signed calls
(sign, publish with confirm, verify the signed response, check requestHash, log) to an echo provider run
by ``govbus run`` in its own process (verify, authorise, deduplicate, sign, log, reply).

    python -m bench.request_reply [--broker URL] [--seconds 5] [--clients 1,4] [--json]
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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.synchronize import Event
from pathlib import Path

import pika

from bench.echo_service import ECHO, PROVIDER, Ping
from bus.logging import configure_logging
from sdk import Client
from sdk.testing import TestBus

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"
CLIENT = "MA/GOV/BENCH/client"
TEXT = "x" * 1400  # a ~2 KiB signed request envelope, a 2 KiB raw body
RAW_BODY = b"x" * 2048


@dataclass
class Measure:
    system: str
    clients: int
    calls: int
    seconds: float
    calls_per_s: float
    p50_ms: float
    p99_ms: float


def _measure(
    system: str, clients: int, seconds: float, make_call: Callable[[], Callable[[], None]]
) -> Measure:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = [0.0]

    def worker(index: int) -> None:
        call = make_call()
        for _ in range(20):  # warm-up
            call()
        start.wait()
        own = latencies[index]
        while time.perf_counter() < stop_at[0]:
            began = time.perf_counter()
            call()
            own.append(time.perf_counter() - began)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(x for own in latencies for x in own)
    return Measure(
        system,
        clients,
        len(every),
        elapsed,
        len(every) / elapsed,
        statistics.median(every) * 1000,
        every[int(len(every) * 0.99)] * 1000,
    )


def _process_worker(
    factory: Callable[..., Callable[[], None]],
    args: tuple[object, ...],
    start: object,
    seconds: float,
    results: object,
) -> None:
    """One client in its own process (as separate agencies are): warm up, meet the others, call."""
    configure_logging("WARNING")
    call = factory(*args)
    for _ in range(20):
        call()
    start.wait()  # type: ignore[attr-defined]
    stop_at = time.perf_counter() + seconds
    own: list[float] = []
    while time.perf_counter() < stop_at:
        began = time.perf_counter()
        call()
        own.append(time.perf_counter() - began)
    results.put(own)  # type: ignore[attr-defined]


def _measure_processes(
    system: str,
    clients: int,
    seconds: float,
    factory: Callable[..., Callable[[], None]],
    args: tuple[object, ...],
) -> Measure:
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(clients + 1), context.Queue()
    workers = [
        context.Process(target=_process_worker, args=(factory, args, start, seconds, results))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    latencies = [results.get(timeout=seconds + 120) for _ in workers]
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join(30)
    every = sorted(x for own in latencies for x in own)
    return Measure(
        f"{system} (client processes)",
        clients,
        len(every),
        elapsed,
        len(every) / elapsed,
        statistics.median(every) * 1000,
        every[int(len(every) * 0.99)] * 1000,
    )


def _govbus_client(root: str, url: str, prefix: str) -> Callable[[], None]:
    client = Client(CLIENT, home=root, broker=url, prefix=prefix)
    request = Ping(text=TEXT)
    return lambda: client.call(PROVIDER, ECHO, request) and None


def _raw_server(url: str, queue: str, ready: Event, stop: Event) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.basic_qos(prefetch_count=64)

    def on_request(ch, method, properties, body) -> None:
        ch.basic_publish(
            "",
            properties.reply_to,
            body,
            pika.BasicProperties(correlation_id=properties.correlation_id, delivery_mode=2),
        )
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume(queue, on_request)
    ready.set()
    while not stop.is_set():
        connection.process_data_events(time_limit=0.2)
    channel.queue_delete(queue)
    connection.close()


def _raw_client(url: str, queue: str) -> Callable[[], None]:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    answers: dict[str, bytes] = {}

    def on_reply(ch, method, properties, body) -> None:
        answers[properties.correlation_id] = body

    channel.basic_consume("amq.rabbitmq.reply-to", on_reply, auto_ack=True)

    def call() -> None:
        correlation = uuid.uuid4().hex
        channel.basic_publish(
            "",
            queue,
            RAW_BODY,
            pika.BasicProperties(
                reply_to="amq.rabbitmq.reply-to", correlation_id=correlation, delivery_mode=2
            ),
        )
        while correlation not in answers:
            connection.process_data_events(time_limit=1)
        del answers[correlation]

    return call


def bench_raw(
    url: str, clients: int, seconds: float, *, servers: int = 1, processes: bool = False
) -> Measure:
    """``servers`` pika server processes consume the request queue (the fair match of ``--workers``)."""
    queue = f"bench-raw-{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    ready, stop = [context.Event() for _ in range(servers)], context.Event()
    running = [context.Process(target=_raw_server, args=(url, queue, r, stop)) for r in ready]
    for server in running:
        server.start()
    try:
        for r in ready:
            r.wait(30)
        if processes:
            return _measure_processes("raw pika", clients, seconds, _raw_client, (url, queue))
        return _measure("raw pika", clients, seconds, lambda: _raw_client(url, queue))
    finally:
        stop.set()
        for server in running:
            server.join(30)


def bench_govbus(
    url: str, clients: int, seconds: float, *, workers: int = 1, processes: bool = False
) -> Measure:
    """The provider runs ``govbus run --threads 4`` with ``--workers N`` processes."""
    with tempfile.TemporaryDirectory(prefix="govbus-bench-") as root, TestBus(Path(root), broker=url) as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        bus.sign_catalogue()
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bus.cli",
                "run",
                "bench.echo_service:app",
                "--home",
                root,
                "--broker",
                url,
                "--prefix",
                bus.prefix,
                "--threads",
                "4",
                "--workers",
                str(workers),
                "--log-level",
                "WARNING",
            ],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        try:
            probe = bus.client(CLIENT)
            deadline = time.monotonic() + 60
            while True:
                try:
                    probe.call(PROVIDER, ECHO, Ping(text="ready?"), timeout=2, retries=0)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)

            if processes:
                return _measure_processes("govbus", clients, seconds, _govbus_client, (root, url, bus.prefix))

            def make_call() -> Callable[[], None]:
                client = bus.client(CLIENT)
                request = Ping(text=TEXT)
                return lambda: client.call(PROVIDER, ECHO, request)

            return _measure("govbus", clients, seconds, make_call)
        finally:
            worker.terminate()
            worker.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default=os.environ.get("GOVBUS_BROKER", DEFAULT_BROKER))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,4")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--client-processes",
        action="store_true",
        help="each client in its own process (separate agencies) instead of threads sharing one GIL",
    )
    parser.add_argument(
        "--provider-workers",
        type=int,
        default=1,
        help="govbus run --workers N for the provider, and N raw pika server processes",
    )
    args = parser.parse_args()
    configure_logging("WARNING")
    rows = []
    for clients in (int(c) for c in args.clients.split(",")):
        raw = bench_raw(
            args.broker,
            clients,
            args.seconds,
            servers=args.provider_workers,
            processes=args.client_processes,
        )
        ours = bench_govbus(
            args.broker,
            clients,
            args.seconds,
            workers=args.provider_workers,
            processes=args.client_processes,
        )
        rows.append(
            {
                "clients": clients,
                "raw": asdict(raw),
                "govbus": asdict(ours),
                "throughput_ratio": ours.calls_per_s / raw.calls_per_s,
                "added_p50_ms": ours.p50_ms - raw.p50_ms,
            }
        )
    if args.json:
        mode = {"client_processes": args.client_processes, "provider_workers": args.provider_workers}
        print(json.dumps({"benchmark": "request_reply", **mode, "rows": rows}, indent=2))
        return
    print(
        f"request/reply, {args.seconds:g} s per cell, broker {args.broker.split('@')[-1]}, clients as "
        f"{'processes' if args.client_processes else 'threads of one process'}, "
        f"{args.provider_workers} provider/server process(es)"
    )
    print(
        "| clients | raw pika calls/s | govbus calls/s | ratio | raw p50 ms | govbus p50 ms | added p50 ms | govbus p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        raw, ours = row["raw"], row["govbus"]
        print(
            f"| {row['clients']} | {raw['calls_per_s']:.0f} | {ours['calls_per_s']:.0f} | {row['throughput_ratio']:.2f} "
            f"| {raw['p50_ms']:.2f} | {ours['p50_ms']:.2f} | {row['added_p50_ms']:.2f} | {ours['p99_ms']:.2f} |"
        )


if __name__ == "__main__":
    main()
