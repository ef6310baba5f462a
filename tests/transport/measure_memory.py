"""Measure what one consumer buffers: N messages of SIZE MiB on a RabbitMQ queue, a handler that holds.

    python -m tests.transport.measure_memory [--count 4] [--mib 40] [--prefetch 32] [--code-root DIR]

Each run is a fresh process (``--code-root`` puts another checkout's ``bus`` first on the path, to
measure the code before a change). It connects, publishes the messages with raw pika, consumes them with
a handler that blocks until every message has arrived, and prints the consumer's resident memory before
and after (VmRSS) and its peak (VmHWM), in MiB. Uses $GOVBUS_TEST_BROKER; deletes what it declared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

CHILD = r"""
import json, os, sys, threading, time
root = os.environ.get("GOVBUS_CODE_ROOT")
if root:  # this checkout's bus, not the editable install's
    sys.meta_path = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
    sys.path.insert(0, root)
import bus
from bus.transport import connect

url, prefix, queue, count, prefetch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return -1.0

transport = connect(url, prefix=prefix)
before = status("VmRSS")
arrived, release = [], threading.Event()
def handler(delivery):
    arrived.append(len(delivery.body))
    release.wait(120)
    delivery.requeue()
consumer = transport.consume(queue, handler, prefetch=prefetch, concurrency=count)
deadline = time.monotonic() + 120
while len(arrived) < count and time.monotonic() < deadline:
    time.sleep(0.1)
time.sleep(1.0)
after, peak = status("VmRSS"), status("VmHWM")
release.set()
consumer.cancel()
transport.close()
print(json.dumps({"code": os.path.dirname(bus.__file__), "delivered": len(arrived), "rss_before": round(before, 1), "rss_after": round(after, 1), "peak": round(peak, 1)}))
"""


def measure(url: str, count: int, mib: int, prefetch: int, code_root: Path | None) -> dict[str, Any]:
    """Publish from this process, consume in a fresh one; the consumer's figures."""
    import uuid

    import pika

    from bus.transport import connect

    prefix = "mem" + uuid.uuid4().hex[:10]
    service = "MA/GOV/TEST/memory/measure/v1"
    with connect(url, prefix=prefix) as transport:
        transport.declare_service(service)
        queue = transport.topology.service_queue(service)
        try:
            publisher = pika.BlockingConnection(pika.URLParameters(url))
            channel = publisher.channel()
            channel.confirm_delivery()
            body = b"x" * (mib << 20)
            for n in range(count):
                channel.basic_publish(
                    "", queue, body, pika.BasicProperties(message_id=f"m{n}", delivery_mode=2)
                )
            publisher.close()
            env = dict(os.environ)
            env.pop("GOVBUS_CODE_ROOT", None)
            if code_root is not None:
                env["GOVBUS_CODE_ROOT"] = str(code_root)
            result = subprocess.run(
                [sys.executable, "-c", CHILD, url, prefix, queue, str(count), str(prefetch)],
                capture_output=True,
                text=True,
                timeout=300,
                env=env,
                check=True,
            )
        finally:
            transport.delete_service(service)
            transport.delete_exchanges()
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--broker", default=os.environ.get("GOVBUS_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672/")
    )
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--mib", type=int, default=40)
    parser.add_argument("--prefetch", type=int, default=32)
    parser.add_argument("--code-root", type=Path, default=None)
    args = parser.parse_args()
    print(json.dumps(measure(args.broker, args.count, args.mib, args.prefetch, args.code_root)))


if __name__ == "__main__":
    main()
