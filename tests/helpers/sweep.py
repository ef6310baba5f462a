"""Delete queues and exchanges that interrupted test runs left on the broker (``python -m tests.helpers.sweep``).

Test buses name everything with a random prefix: ``t`` or ``ex`` followed by hex digits. ``./dev test``
runs this under CI only, where nothing else uses the broker: hundreds of stale quorum queues slow
RabbitMQ down for every later run.
"""

from __future__ import annotations

import os
import re
import subprocess

import pika

TEST_NAME = re.compile(r"^(t|ex)[0-9a-f]{8,16}\.")


def stale(kind: str) -> list[str]:
    listing = subprocess.run(
        ["rabbitmqctl", "-q", f"list_{kind}", "name", "--no-table-headers"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [name for name in listing.stdout.splitlines() if TEST_NAME.match(name)]


def main() -> None:
    url = os.environ.get("GOVBUS_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672/")
    queues, exchanges = stale("queues"), stale("exchanges")
    if not queues and not exchanges:
        return
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    for queue in queues:
        channel.queue_delete(queue)
    for exchange in exchanges:
        channel.exchange_delete(exchange)
    connection.close()
    print(f"swept {len(queues)} stale test queues and {len(exchanges)} exchanges")


if __name__ == "__main__":
    main()
