"""CPU per stage of one signed call, client and provider, single thread, no broker; bare xmlsec beside.

Where a call's CPU goes outside the transport: each stage of ``sdk.exchange`` (client) and
``sdk.inbound`` (provider) timed alone on the request/reply benchmark's documents (a 1,400-character
payload: ~3.3 KiB envelopes) with ``time.process_time`` (other programs on the machine do not count),
best of ``--repeat`` runs of ``--messages`` each; against bare python-xmlsec signing and verifying the
baseline's documents of the same size, and against the floor of a storage transaction: a bare SQLite
``BEGIN IMMEDIATE; INSERT; COMMIT`` of a request's log row (same table, indexes, WAL and
synchronous=NORMAL as the message log; no hash chain, no Python around it). What the request/reply
benchmark measures per call beyond the sum of these stages is the transport: pika, its I/O thread and the
hand-overs between threads.

    python -m bench.call_stages [--messages 300] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import baseline
from bench.echo_service import ECHO, PROVIDER, Ping, Pong
from bus.audit import store
from bus.audit.record import HASHED_FIELDS, header_fields
from bus.envelope import EnvelopeVerifier, Header, MessageKind, VerifiedEnvelope
from bus.envelope.binding import check_answer
from bus.envelope.replay import MemoryReplayCache
from bus.logging import configure_logging
from sdk.contract import decode, encode, payload_models
from sdk.journal import LogEntry
from sdk.testing import TestBus

CLIENT = "MA/GOV/BENCH/client"
TEXT = "x" * 1400


def _timer(messages: int, repeat: int) -> Callable[[Callable[[int], object]], float]:
    def best(function: Callable[[int], object]) -> float:
        fastest = float("inf")
        for _ in range(repeat):
            began = time.process_time()
            for index in range(messages):
                function(index)
            fastest = min(fastest, (time.process_time() - began) / messages * 1e6)
        return round(fastest, 1)

    return best


def bare_sqlite(conn: sqlite3.Connection, header: Header, raw: bytes) -> Callable[[int], object]:
    """One bare SQLite transaction per call: a log row of ``raw`` into ``conn``'s (new) records table."""
    for statement in store.SCHEMA:
        conn.execute(statement)
    values: dict[str, object] = {
        **header_fields(header),
        "recorded_at": "2026-01-01T00:00:00.000Z",
        "direction": "out",
        "outcome": "sent",
        "fault_code": None,
        "fault_reason": None,
        "mode": "full",
        "header_origin": "envelope",
        "size": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "stored_size": len(raw),
        "stored_sha256": hashlib.sha256(raw).hexdigest(),
    }
    row = (*(values.get(name) for name in HASHED_FIELDS), raw, "0" * 64)  # seq None: SQLite numbers it

    def insert(index: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(store.INSERT_RECORD, row)
        conn.execute("COMMIT")

    return insert


def measure(messages: int, repeat: int) -> dict[str, Any]:
    timed = _timer(messages, repeat)
    total = messages * repeat
    with tempfile.TemporaryDirectory(prefix="govbus-bench-") as root, TestBus(Path(root)) as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        bus.sign_catalogue()
        client, provider = bus.node(CLIENT), bus.node(PROVIDER)
        service = ECHO.service_of(PROVIDER)
        request = Ping(text=TEXT)
        payload = encode(request, ECHO.schema)
        headers = [
            Header.new(MessageKind.REQUEST, client.participant, service, ttl=timedelta(seconds=60))
            for _ in range(total)
        ]
        raws = [client.sign(h, payload) for h in headers]
        verifiers: list[EnvelopeVerifier] = []

        def verify_request(i: int) -> VerifiedEnvelope:
            if i == 0:  # a fresh replay cache per run: every id is new to it
                verifiers.append(EnvelopeVerifier(provider.trust, replay_cache=MemoryReplayCache()))
            return verifiers[-1].verify(raws[i])

        verified = [EnvelopeVerifier(provider.trust).verify(raw) for raw in raws]
        inbound, _ = payload_models(ECHO)
        response = Pong(text=TEXT, by=CLIENT)
        answer_payload = encode(response, ECHO.schema)
        answers = [provider.answer(MessageKind.RESPONSE, v, answer_payload) for v in verified]
        claims = iter(f"{CLIENT} {uuid.uuid4()}" for _ in range(total * 2))
        begun: list[str] = []

        def begin(i: int) -> None:
            claim = next(claims)
            begun.append(claim)
            provider.handled.begin(
                claim, verified[i].digest, redelivered=False, keep_until=time.time() + 3600
            )

        finishing = iter(begun)
        replies: list[EnvelopeVerifier] = []

        def verify_reply(i: int) -> None:
            if i == 0:
                replies.append(EnvelopeVerifier(client.trust, replay_cache=MemoryReplayCache()))
            reply = replies[-1].verify(answers[i][1])
            check_answer(headers[i], raws[i], reply.header, service.provider)

        replied = [EnvelopeVerifier(client.trust).verify(a[1]) for a in answers]
        stages = {
            "client": {
                "encode + XSD": timed(lambda i: encode(request, ECHO.schema)),
                "header": timed(
                    lambda i: Header.new(
                        MessageKind.REQUEST, client.participant, service, ttl=timedelta(seconds=60)
                    )
                ),
                "sign": timed(lambda i: client.sign(headers[i], payload)),
                "log the request (1 transaction)": timed(
                    lambda i: client.record("out", raws[i], header=headers[i], outcome="sent")
                ),
                "verify the reply (all rules) + binding": timed(verify_reply),
                "log the reply (1 transaction)": timed(
                    lambda i: client.record("in", answers[i][1], header=replied[i].header, outcome="accepted")
                ),
                "decode + XSD": timed(lambda i: decode(replied[i].payload, ECHO.response, ECHO.schema)),
            },
            "provider": {
                "verify (all rules)": timed(verify_request),
                "idempotency claim (1 transaction)": timed(begin),
                "decode + XSD": timed(lambda i: decode(verified[i].payload, inbound, ECHO.schema)),
                "encode + XSD": timed(lambda i: encode(response, ECHO.schema)),
                "answer: header + sign": timed(
                    lambda i: provider.answer(MessageKind.RESPONSE, verified[i], answer_payload)
                ),
                "log request and answer (1 transaction)": timed(
                    lambda i: provider.record_many(
                        [
                            LogEntry("in", raws[i], verified[i].header, "accepted"),
                            LogEntry("out", answers[i][1], answers[i][0], "sent"),
                        ]
                    )
                ),
                "idempotency answer (1 transaction)": timed(
                    lambda i: provider.handled.finish(next(finishing), answers[i][1])
                ),
            },
        }
    with tempfile.TemporaryDirectory(prefix="govbus-bench-") as folder:
        mine = baseline.make_identity(Path(folder), baseline.CLIENT)
        theirs = baseline.make_identity(Path(folder), baseline.PROVIDER)
    signer, peer = baseline.Signer(mine, theirs["spki"]), baseline.Signer(theirs, mine["spki"])
    document = baseline.ping(TEXT)
    bare_docs = [
        signer.sign(baseline.header("request", baseline.CLIENT, str(uuid.uuid4())), document)
        for _ in range(messages)
    ]
    bare = {
        "sign": timed(
            lambda i: signer.sign(baseline.header("request", baseline.CLIENT, str(uuid.uuid4())), document)
        ),
        "verify": timed(lambda i: peer.verify(bare_docs[i])),
    }
    with (
        tempfile.TemporaryDirectory(prefix="govbus-bench-") as folder,
        contextlib.closing(store.connect(Path(folder) / "bare.sqlite")) as conn,
    ):
        bare_transaction = timed(bare_sqlite(conn, headers[0], raws[0]))
    totals = {side: round(sum(figures.values()), 1) for side, figures in stages.items()}
    return {
        "benchmark": "call_stages",
        "messages": messages,
        "repeat": repeat,
        "request_bytes": len(raws[0]),
        "stages_us": stages,
        "totals_us": totals,
        "bare_us": bare,
        "bare_per_side_us": round(bare["sign"] + bare["verify"], 1),
        "bare_sqlite_transaction_us": bare_transaction,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")
    result = measure(args.messages, args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"CPU µs per stage of one signed call ({result['request_bytes']} B request), best of {args.repeat}")
    for side, figures in result["stages_us"].items():
        for stage, value in figures.items():
            print(f"| {side} | {stage} | {value:.0f} |")
        print(f"| {side} | **total** | {result['totals_us'][side]:.0f} |")
    print(f"| bare xmlsec | sign + verify, per side | {result['bare_per_side_us']:.0f} |")
    print(f"| bare SQLite | one log-row transaction | {result['bare_sqlite_transaction_us']:.0f} |")


if __name__ == "__main__":
    main()
