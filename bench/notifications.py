"""Signed notifications through govbus against raw pika + bare python-xmlsec, publisher and subscriber.

Baseline (bench/baseline.py): one pika ``SelectConnection`` signing each notification (govbus's
envelope layout and size, ECDSA P-256) and publishing it persistent to a topic exchange bound to a
durable quorum queue, with publisher confirms and up to ``--window`` unconfirmed; a single-threaded
subscriber process verifies each one, signs a receipt bound to it, publishes the receipt and acks; a
thread of the notifier verifies the receipts.
govbus: ``Client.notify_many`` (encode and XSD-check, sign, log and keep the digest before publishing,
windowed confirms) to the subscription queue of the ``bench.echo_service:fund`` subscriber run by
``govbus run`` (verify, admit, deduplicate, sign the receipt, log, publish it to the notifier's inbox,
ack); the notifier's inbox consumer verifies the receipts meanwhile.

Two figures per system, paired round by round: notifications confirmed per second at the notifier
(publishing only), and notifications handled per second end to end (from the first publish until the
subscription queue is empty, to within the subscriber's prefetch); plus CPU µs per notification of the
notifier process, the subscriber process and RabbitMQ over the end-to-end run.

    python -m bench.notifications [--broker URL] [--count 3000] [--window 256] [--rounds 3] [--threads N] [--json]
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
from pathlib import Path
from typing import Any

import pika

from bench import baseline, cpu
from bench.echo_service import FUND, NOTE, NOTIFIER, Ping
from bench.request_reply import ROOT, _broker_role, _default_threads
from bus.logging import configure_logging
from sdk.testing import TestBus

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"
TEXT = "x" * 1400  # the request/reply benchmark's payload: a ~3.3 KiB signed notification


def _queue_depth(channel: Any, queue: str) -> int:
    return int(channel.queue_declare(queue, passive=True).method.message_count)


def _wait_drained(url: str, queue: str, timeout: float = 600) -> float:
    """Poll until ``queue`` holds no ready message; return the moment (perf_counter) it was seen empty."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        deadline = time.monotonic() + timeout
        while _queue_depth(channel, queue) > 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{queue} was not drained within {timeout:g} s")
            time.sleep(0.01)
        return time.perf_counter()
    finally:
        connection.close()


def _wait_consumers(url: str, queue: str, count: int) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        deadline = time.monotonic() + 60
        while channel.queue_declare(queue, passive=True).method.consumer_count < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nobody consumes {queue}")
            time.sleep(0.1)
    finally:
        connection.close()


def _result(
    count: int, publish_s: float, total_s: float, before: Any, after: Any, size: int
) -> dict[str, Any]:
    return {
        "notifications": count,
        "size": size,
        "publish_seconds": round(publish_s, 3),
        "per_s": round(count / publish_s, 1),
        "end_to_end_seconds": round(total_s, 3),
        "handled_per_s": round(count / total_s, 1),
        "cpu_us_per_notification": cpu.per_call(before, after, count),
    }


def bench_baseline(url: str, count: int, window: int, folder: Path) -> dict[str, Any]:
    notifier_id = baseline.make_identity(folder, baseline.PROVIDER)
    fund_id = baseline.make_identity(folder, baseline.CLIENT)
    tag = uuid.uuid4().hex[:8]
    exchange, queue, receipts = f"bench-note-{tag}", f"bench-note-{tag}-fund", f"bench-note-{tag}-receipts"
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.exchange_declare(exchange, "topic", durable=True)
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_declare(receipts, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue, exchange, "bench.note")
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    process = context.Process(
        target=baseline.subscriber,
        args=(url, queue, receipts, fund_id, notifier_id["spki"], ready, stop),
        daemon=True,
    )
    process.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("the baseline subscriber did not start")
        signer = baseline.Signer(notifier_id, fund_id["spki"])
        checking = threading.Event()
        checker = threading.Thread(
            target=baseline.receipt_checker, args=(url, receipts, signer, checking), daemon=True
        )
        checker.start()
        pids = {"notifier": [os.getpid()], "subscriber": [process.pid or 0], **_broker_role()}
        before = cpu.snapshot(pids)
        began = time.perf_counter()
        publish_s, size = baseline.notify(url, exchange, signer, TEXT, count, window)
        ended = _wait_drained(url, queue)
        after = cpu.snapshot(pids)
        checking.set()
        checker.join(30)
        return _result(count, publish_s, ended - began, before, after, size)
    finally:
        stop.set()
        process.join(30)
        for name in (queue, receipts):
            channel.queue_delete(name)
        channel.exchange_delete(exchange)
        connection.close()


def bench_govbus(url: str, count: int, window: int, threads: int, root: str) -> dict[str, Any]:
    with TestBus(Path(root), broker=url) as bus:
        bus.publish(NOTE, provider=NOTIFIER, clients=[FUND])
        bus.sign_catalogue()
        service = NOTE.service_of(NOTIFIER)
        queue = bus.transport.declare_subscription(FUND, str(service))[0]
        subscriber = subprocess.Popen(
            [sys.executable, "-m", "bus.cli", "run", "bench.echo_service:fund", "--home", root,
             "--broker", url, "--prefix", bus.prefix, "--threads", str(threads), "--log-level", "WARNING"],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )  # fmt: skip
        try:
            _wait_consumers(url, queue, 1)
            client = bus.client(NOTIFIER)
            client.notify_many(NOTE, [Ping(text=TEXT)] * 50, window=window)  # warm-up
            _wait_drained(url, queue)
            size = _signed_size(client)
            notes = [Ping(text=TEXT)] * count
            pids = {
                "notifier": [os.getpid()],
                "subscriber": cpu.descendants(subscriber.pid),
                **_broker_role(),
            }
            before = cpu.snapshot(pids)
            began = time.perf_counter()
            client.notify_many(NOTE, notes, window=window)
            published = time.perf_counter()
            ended = _wait_drained(url, queue)
            after = cpu.snapshot(pids)
            return _result(count, published - began, ended - began, before, after, size)
        finally:
            subscriber.terminate()
            subscriber.wait(30)


def _signed_size(client: Any) -> int:
    from bus.envelope import Header, MessageKind
    from sdk.contract import encode

    header = Header.new(MessageKind.NOTIFICATION, client.participant, NOTE.service_of(client.participant))
    return len(client.node.sign(header, encode(Ping(text=TEXT), NOTE.schema)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default=os.environ.get("GOVBUS_BROKER", DEFAULT_BROKER))
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="govbus run --threads of the subscriber")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")
    threads = args.threads if args.threads is not None else _default_threads()
    rounds = []
    for round_ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="govbus-bench-") as root:
            raw = bench_baseline(args.broker, args.count, args.window, Path(root))
            ours = bench_govbus(args.broker, args.count, args.window, threads, root)
        rounds.append(
            {
                "round": round_,
                "baseline": raw,
                "govbus": ours,
                "publish_ratio": round(ours["per_s"] / raw["per_s"], 3),
                "end_to_end_ratio": round(ours["handled_per_s"] / raw["handled_per_s"], 3),
            }
        )
        print(f"[notifications] {rounds[-1]}", file=sys.stderr, flush=True)

    def median(system: str, key: str) -> float:
        return round(statistics.median(r[system][key] for r in rounds), 1)

    def median_cpu(system: str) -> dict[str, float | None]:
        roles = rounds[0][system]["cpu_us_per_notification"]
        return {
            role: None
            if any(r[system]["cpu_us_per_notification"][role] is None for r in rounds)
            else round(statistics.median(r[system]["cpu_us_per_notification"][role] for r in rounds), 1)
            for role in roles
        }

    summary = {
        system: {
            "per_s": median(system, "per_s"),
            "handled_per_s": median(system, "handled_per_s"),
            "size": rounds[-1][system]["size"],
            "notifications": args.count,
            "window": args.window,
            "cpu_us_per_notification": median_cpu(system),
        }
        for system in ("baseline", "govbus")
    }
    result = {
        "benchmark": "notifications",
        "rounds": rounds,
        "threads": threads,
        "baseline": summary["baseline"],
        "govbus": summary["govbus"],
        "publish_ratio": round(statistics.median(r["publish_ratio"] for r in rounds), 3),
        "end_to_end_ratio": round(statistics.median(r["end_to_end_ratio"] for r in rounds), 3),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"notifications, {args.count} x ~{summary['govbus']['size']} B, window {args.window}, medians of "
        f"{args.rounds} paired round(s), subscriber govbus run --threads {threads}"
    )
    print(
        "| system | confirmed/s (notifier) | handled/s (end to end) | CPU µs/notification (notifier/subscriber/mq) |"
    )
    print("|---|---|---|---|")
    for name in ("baseline", "govbus"):
        row = summary[name]
        figures = "/".join("?" if v is None else f"{v:.0f}" for v in row["cpu_us_per_notification"].values())
        print(f"| {name} | {row['per_s']:.0f} | {row['handled_per_s']:.0f} | {figures} |")
    print(
        f"govbus / baseline: publish {result['publish_ratio']:.2f}, end to end {result['end_to_end_ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
