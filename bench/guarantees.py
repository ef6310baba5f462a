"""What each of govbus's guarantees costs on top of the physical limit of a signed call.

The raw pika + bare python-xmlsec exchange of ``bench/baseline.py`` is rebuilt with govbus's guarantees
added one at a time, cumulatively, each layer using govbus's own code for it:

1. ``raw``: the baseline itself;
2. ``+confirms``: the client publishes in confirm mode, mandatory (an unroutable or refused request is
   reported, not lost);
3. ``+log``: each side writes govbus's hash-chained ``MessageLog`` (SQLite, WAL, synchronous=NORMAL) before
   it acts: the client its request before publishing and the reply once verified, the server the request
   and its answer in one transaction before acking;
4. ``+idempotency``: the server claims each message id in govbus's ``SqliteIdempotencyStore`` before its
   handler and stores the answer after (a duplicate is answered from the store, never run twice);
5. ``+xsd``: both sides validate the envelope against govbus's envelope schema.

Then govbus itself (``govbus run`` and ``Client``), which adds to layer 5 the certificate chain and CRL,
the payload models and schemas, the sender and rights checks, replay and time rules, metrics, log lines,
and its worker model. Every system runs at once on its own queue; cells alternate between systems in
each round (paired, same run); the ratio of each is the median over rounds of its throughput over the
raw baseline's in the same round. CPU µs per call of the client process / the server process(es) /
RabbitMQ show where each layer's price is paid.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import lxml.etree as etree
import pika

from bench import baseline, cpu
from bench.request_reply import TEXT, GovbusSystem, measure
from bus.audit import MessageLog
from bus.audit.log import RecordEntry
from bus.envelope import Header, MessageKind
from bus.envelope.codec import envelope_schema
from bus.ids import ParticipantId, ServiceId
from bus.logging import configure_logging
from sdk.idempotency import SqliteIdempotencyStore

LAYERS = ("raw", "+confirms", "+log", "+idempotency", "+xsd")
URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
_CLIENT, _PROVIDER = ParticipantId.parse(baseline.CLIENT), ParticipantId.parse(baseline.PROVIDER)
_SERVICE = ServiceId.parse(baseline.SERVICE)


def _has(layer: str, wanted: str) -> bool:
    """Layers are cumulative: ``layer`` includes ``wanted`` when it comes at or after it."""
    return LAYERS.index(layer) >= LAYERS.index(wanted)


def _header(kind: MessageKind, client: ParticipantId, message_id: str, **extra: Any) -> Header:
    now = datetime.now(UTC)
    return Header(
        id=message_id,
        kind=kind,
        client=client,
        service=_SERVICE,
        issued=now,
        expires=now + timedelta(seconds=40),
        **extra,
    )


def _valid(root: etree._Element) -> None:
    if not envelope_schema().validate(root):
        raise RuntimeError(f"not a valid envelope: {envelope_schema().error_log.last_error}")  # type: ignore[attr-defined]


def server(
    url: str,
    queue: str,
    own: baseline.Identity,
    peer_spki: bytes,
    ready: Event,
    stop: Event,
    layer: str,
    folder: str,
) -> None:
    """``baseline.server`` with the guarantees of ``layer``: one process, single-threaded."""
    signer = baseline.Signer(own, peer_spki)
    log = (
        MessageLog.open(Path(folder) / f"server-{os.getpid()}.sqlite", identity=None, participant=_PROVIDER)
        if _has(layer, "+log")
        else None
    )
    store = (
        SqliteIdempotencyStore(Path(folder) / "server-state.sqlite") if _has(layer, "+idempotency") else None
    )
    xsd = _has(layer, "+xsd")
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.basic_qos(prefetch_count=64)

    def on_request(ch: Any, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
        root = signer.verify(body)
        if xsd:
            _valid(root)
        request_id = baseline.field(root, "id") or ""
        key = f"{baseline.CLIENT} {request_id}"
        if store is not None:
            begin = store.begin(
                key,
                hashlib.sha256(body).hexdigest(),
                redelivered=method.redelivered,
                keep_until=time.time() + 60,
            )
            if begin.response is not None:  # a duplicate: answered from the store
                ch.basic_publish(
                    "",
                    properties.reply_to,
                    begin.response,
                    pika.BasicProperties(correlation_id=properties.correlation_id, delivery_mode=2),
                )
                ch.basic_ack(method.delivery_tag)
                return
        request_hash = hashlib.sha256(body).hexdigest()
        answer_id = str(uuid.uuid4())
        extra = (
            f"<correlationId>{request_id}</correlationId>"
            f'<requestHash algorithm="sha256">{request_hash}</requestHash>'
        )
        text = root[1][0][0].text or ""
        answer = signer.sign(
            baseline.header("response", baseline.PROVIDER, answer_id, extra),
            f'<e:Pong xmlns:e="{baseline.ECHO_NS}"><e:text>{text}</e:text><e:by>{baseline.field(root, "client")}</e:by></e:Pong>',
        )
        if log is not None:
            log.record_many(
                [
                    RecordEntry("in", body, _header(MessageKind.REQUEST, _CLIENT, request_id), "accepted"),
                    RecordEntry(
                        "out",
                        answer,
                        _header(
                            MessageKind.RESPONSE,
                            _PROVIDER,
                            answer_id,
                            correlation_id=request_id,
                            request_hash=request_hash,
                        ),
                        "sent",
                    ),
                ]
            )
        if store is not None:
            store.finish(key, answer)
        ch.basic_publish(
            "",
            properties.reply_to,
            answer,
            pika.BasicProperties(correlation_id=properties.correlation_id, delivery_mode=2),
        )
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume(queue, on_request)
    ready.set()
    while not stop.is_set():
        connection.process_data_events(time_limit=0.2)
    connection.close()
    if log is not None:
        log.close()


def client(
    url: str, queue: str, signer: baseline.Signer, layer: str, log: MessageLog | None
) -> Callable[[], None]:
    """``baseline.client`` with the guarantees of ``layer`` (``log`` shared by the process's clients)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    confirms, xsd = _has(layer, "+confirms"), _has(layer, "+xsd")
    if confirms:
        channel.confirm_delivery()
    answers: dict[str, bytes] = {}

    def on_reply(ch: Any, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
        answers[str(properties.correlation_id)] = body

    channel.basic_consume("amq.rabbitmq.reply-to", on_reply, auto_ack=True)
    document = baseline.ping(TEXT)

    def call() -> None:
        message_id = str(uuid.uuid4())
        request = signer.sign(baseline.header("request", baseline.CLIENT, message_id), document)
        if log is not None:
            log.record(
                "out", request, header=_header(MessageKind.REQUEST, _CLIENT, message_id), outcome="sent"
            )
        properties = pika.BasicProperties(
            reply_to="amq.rabbitmq.reply-to",
            correlation_id=message_id,
            message_id=message_id,
            delivery_mode=2,
        )
        channel.basic_publish("", queue, request, properties, mandatory=confirms)
        while message_id not in answers:
            connection.process_data_events(time_limit=1)
        reply = answers.pop(message_id)
        root = signer.verify(reply)
        if xsd:
            _valid(root)
        request_hash = hashlib.sha256(request).hexdigest()
        if (
            baseline.field(root, "correlationId") != message_id
            or baseline.field(root, "requestHash") != request_hash
        ):
            raise RuntimeError("the reply does not answer this request")
        if log is not None:
            answer_id = baseline.field(root, "id") or ""
            head = _header(
                MessageKind.RESPONSE,
                _PROVIDER,
                answer_id,
                correlation_id=message_id,
                request_hash=request_hash,
            )
            log.record("in", reply, header=head, outcome="accepted")

    return call


class LayerSystem:
    """One layer: its server process and ``clients`` client connections."""

    def __init__(
        self,
        layer: str,
        url: str,
        clients: int,
        folder: Path,
        ids: tuple[baseline.Identity, baseline.Identity],
    ) -> None:
        client_id, server_id = ids
        self.queue = f"bench-guarantees-{uuid.uuid4().hex[:8]}"
        self.url = url
        home = folder / layer.strip("+")
        home.mkdir()
        context = multiprocessing.get_context("spawn")
        ready, self.stop = context.Event(), context.Event()
        self.process = context.Process(
            target=server,
            args=(url, self.queue, server_id, client_id["spki"], ready, self.stop, layer, str(home)),
            daemon=True,
        )
        self.process.start()
        if not ready.wait(60):
            raise RuntimeError(f"the {layer} server did not start")
        signer = baseline.Signer(client_id, server_id["spki"])
        self.log = (
            MessageLog.open(home / "client.sqlite", identity=None, participant=_CLIENT)
            if _has(layer, "+log")
            else None
        )
        self.calls = [client(url, self.queue, signer, layer, self.log) for _ in range(clients)]

    def pids(self) -> dict[str, list[int]]:
        broker = cpu.broker_pid()
        return {
            "client": [os.getpid()],
            "provider": [self.process.pid or 0],
            **({"rabbitmq": [broker]} if broker else {}),
        }

    def close(self) -> None:
        self.stop.set()
        self.process.join(30)
        if self.log is not None:
            self.log.close()
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        connection.channel().queue_delete(self.queue)
        connection.close()


@contextlib.contextmanager
def systems(url: str, clients: int, threads: int) -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="govbus-guarantees-") as root, contextlib.ExitStack() as stack:
        folder = Path(root)
        ids = (
            baseline.make_identity(folder, baseline.CLIENT),
            baseline.make_identity(folder, baseline.PROVIDER),
        )
        found: dict[str, Any] = {}
        for layer in LAYERS:
            system = LayerSystem(layer, url, clients, folder, ids)
            stack.callback(system.close)
            found[layer] = system
        ours = GovbusSystem(url, 1, clients, threads, str(folder / "govbus"))
        stack.callback(ours.close)
        found["govbus"] = ours
        yield found


def run(url: str, client_counts: list[int], rounds: int, seconds: float, threads: int) -> dict[str, Any]:
    rows = []
    for clients in client_counts:
        cells: dict[str, list[dict[str, Any]]] = {}
        with systems(url, clients, threads) as found:
            for system in found.values():  # warm up every system before the first cell
                for call in system.calls[:clients]:
                    for _ in range(20):
                        call()
            for index in range(rounds):
                for name, system in found.items():
                    result = measure(system.calls[:clients], seconds, system.pids())
                    cells.setdefault(name, []).append(result)
                    print(
                        f"[guarantees] round {index} clients {clients} {name}: {result['calls_per_s']}/s",
                        file=sys.stderr,
                    )
        raw = cells["raw"]
        for name, results in cells.items():
            ratios = [r["calls_per_s"] / b["calls_per_s"] for r, b in zip(results, raw, strict=True)]
            rows.append(
                {
                    "clients": clients,
                    "system": name,
                    "calls_per_s": round(statistics.median(r["calls_per_s"] for r in results), 1),
                    "ratio": round(statistics.median(ratios), 3),
                    "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
                    "p50_ms": round(statistics.median(r["p50_ms"] for r in results), 3),
                    "cpu_us_per_call": {
                        role: round(
                            statistics.median(r["cpu_us_per_call"].get(role, 0.0) for r in results), 1
                        )
                        for role in ("client", "provider", "rabbitmq")
                    },
                }
            )
    return {"benchmark": "guarantees", "rounds": rounds, "seconds": seconds, "threads": threads, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default=os.environ.get("GOVBUS_BENCH_BROKER", URL))
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per cell")
    parser.add_argument("--clients", default="1,4", help="client threads per cell")
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds")
    parser.add_argument("--threads", type=int, default=4, help="govbus run --threads")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")
    result = run(
        args.broker, [int(c) for c in args.clients.split(",")], args.rounds, args.seconds, args.threads
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for row in result["rows"]:
        cpu_text = " / ".join(f"{row['cpu_us_per_call'][r]:,.0f}" for r in ("client", "provider", "rabbitmq"))
        print(
            f"{row['clients']} {row['system']:14} {row['calls_per_s']:8.1f}/s ratio {row['ratio']:.2f} p50 {row['p50_ms']:.2f} ms cpu {cpu_text}"
        )


if __name__ == "__main__":
    main()
