"""Signed notifications confirmed per second through govbus against raw pika windowed publishes, same run.

Baseline: one pika ``SelectConnection`` publishing persistent bodies of the signed notification's size
to a topic exchange bound to ``--subscribers`` durable quorum queues, with publisher confirms and up to
``--window`` unconfirmed publishes in flight. govbus: ``Client.notify_many`` (encode and XSD-check,
sign, log to the message log and keep the digest before publishing, windowed confirms) to the same
number of subscription quorum queues. Nobody consumes during the run; the queues are deleted after.

    python -m bench.notifications [--broker URL] [--count 20000] [--subscribers 1] [--window 256] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import pika

from bench.echo_service import SCHEMA, Ping, Pong
from bus.logging import configure_logging
from sdk import Notification
from sdk.testing import TestBus

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"
NOTIFIER = "MA/GOV/BENCH/notifier"
SUBSCRIBER = "MA/GOV/BENCH/fund{}"
NOTE = Notification("bench.note", 1, SCHEMA, notification=Ping, receipt=Pong)
TEXT = "x" * 200  # a ~1.9 KiB signed notification


@dataclass
class Measure:
    system: str
    notifications: int
    subscribers: int
    window: int
    seconds: float
    per_s: float
    size: int


def bench_raw(url: str, count: int, subscribers: int, window: int, size: int) -> Measure:
    """Windowed confirmed publishes on pika's SelectConnection (the fastest pika publisher)."""
    tag = uuid.uuid4().hex[:8]
    exchange, queues = f"bench-raw-{tag}", [f"bench-raw-{tag}-{n}" for n in range(subscribers)]
    body = b"x" * size
    state = {"sent": 0, "acked": 0, "began": 0.0, "ended": 0.0}
    connection: pika.SelectConnection

    def publish_more(channel) -> None:
        while state["sent"] < count and state["sent"] - state["acked"] < window:
            channel.basic_publish(exchange, "bench.note", body, pika.BasicProperties(delivery_mode=2))
            state["sent"] += 1

    def on_confirm(frame) -> None:
        method = frame.method
        state["acked"] = method.delivery_tag if method.multiple else state["acked"] + 1
        if state["acked"] >= count:
            state["ended"] = time.perf_counter()
            connection.close()
        else:
            publish_more(channel_holder[0])

    channel_holder: list = []

    def on_channel(channel) -> None:
        channel_holder.append(channel)
        channel.exchange_declare(exchange, "topic", durable=True)
        for queue in queues:
            channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
            channel.queue_bind(queue, exchange, "bench.note")
        channel.confirm_delivery(on_confirm, callback=lambda _frame: start(channel))

    def start(channel) -> None:
        state["began"] = time.perf_counter()
        publish_more(channel)

    connection = pika.SelectConnection(
        pika.URLParameters(url),
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_close_callback=lambda *_: connection.ioloop.stop(),
    )
    connection.ioloop.start()
    cleanup = pika.BlockingConnection(pika.URLParameters(url))
    channel = cleanup.channel()
    for queue in queues:
        channel.queue_delete(queue)
    channel.exchange_delete(exchange)
    cleanup.close()
    seconds = state["ended"] - state["began"]
    return Measure("raw pika", count, subscribers, window, seconds, count / seconds, size)


def bench_govbus(url: str, count: int, subscribers: int, window: int) -> tuple[Measure, int]:
    with tempfile.TemporaryDirectory(prefix="govbus-bench-") as root, TestBus(Path(root), broker=url) as bus:
        funds = [SUBSCRIBER.format(n) for n in range(subscribers)]
        bus.publish(NOTE, provider=NOTIFIER, clients=funds)
        bus.sign_catalogue()
        client = bus.client(NOTIFIER)
        client.notify_many(NOTE, [Ping(text=TEXT)] * 200, window=window)  # warm-up, declares the queues
        size = len(client.node.sign(*_sample(client)))
        notes = [Ping(text=TEXT)] * count
        began = time.perf_counter()
        client.notify_many(NOTE, notes, window=window)
        seconds = time.perf_counter() - began
        return Measure("govbus", count, subscribers, window, seconds, count / seconds, size), size


def _sample(client):  # type: ignore[no-untyped-def]
    from bus.envelope import Header, MessageKind
    from sdk.contract import encode

    header = Header.new(MessageKind.NOTIFICATION, client.participant, NOTE.service_of(client.participant))
    return header, encode(Ping(text=TEXT), NOTE.schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default=os.environ.get("GOVBUS_BROKER", DEFAULT_BROKER))
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--subscribers", type=int, default=1)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")
    ours, size = bench_govbus(args.broker, args.count, args.subscribers, args.window)
    raw = bench_raw(args.broker, args.count, args.subscribers, args.window, size)
    result = {
        "benchmark": "notifications",
        "raw": asdict(raw),
        "govbus": asdict(ours),
        "throughput_ratio": ours.per_s / raw.per_s,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"notifications confirmed, {args.count} x ~{size} B, {args.subscribers} quorum queue(s), "
        f"window {args.window}, broker {args.broker.split('@')[-1]}"
    )
    print("| system | notifications/s | seconds |")
    print("|---|---|---|")
    for row in (raw, ours):
        print(f"| {row.system} | {row.per_s:.0f} | {row.seconds:.2f} |")
    print(f"govbus / raw: {result['throughput_ratio']:.2f}")


if __name__ == "__main__":
    main()
