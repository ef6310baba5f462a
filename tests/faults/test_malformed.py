"""A flood of malformed and hostile messages on a service queue: the worker keeps serving valid calls,
and each bad message is dead-lettered and logged with its fault code, or refused with it."""

from __future__ import annotations

import hashlib
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import lxml.etree as etree
import pytest

from bus.audit import store
from bus.audit.query import SearchFilter, search
from bus.envelope import Header, MessageKind, sign_envelope
from bus.envelope.model import utc_now
from bus.faults import FaultCode
from bus.pki.authority import KeyAlgorithm
from bus.transport import OutgoingMessage
from bus.xml import DEFAULT_MAX_BYTES
from sdk import Client, Node
from sdk.contract import encode
from sdk.fault_message import fault_from_payload
from sdk.testing import TestBus
from tests.faults.conftest import StartWorker
from tests.faults.harness import Worker, wait_for
from tests.faults.service import CLIENT, OUTSIDER, PROVIDER, WORK, Work
from tests.helpers.pki import ThrowawayPki, make_ca

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

ENV = "{urn:govbus:envelope:1}"
SERVICE = WORK.service_of(PROVIDER)


@dataclass(frozen=True)
class Bad:
    """A message to send, and the fault code the provider must log for it."""

    body: bytes
    code: FaultCode
    message_id: str | None = None  # the envelope id, for messages verified and then refused


def _signed(
    node: Node, text: str = "x", *, kind: MessageKind = MessageKind.REQUEST, **fields: object
) -> bytes:
    header = Header.new(kind, node.participant, SERVICE, purpose="tests", **fields)  # type: ignore[arg-type]
    return node.sign(header, encode(Work(text=text), WORK.schema))


def _edited(body: bytes, edit: object) -> bytes:
    root = etree.fromstring(body)
    edit(root)  # type: ignore[operator]
    return etree.tostring(root)


def _unverifiable(bus: TestBus, client: Node) -> list[Bad]:
    """Messages no verifier may accept: they are rejected to the dead-letter queue."""
    rng = random.Random(20261121)
    stranger = ThrowawayPki(bus.home, bus.authority, KeyAlgorithm.EC).forge_certificate(
        CLIENT, issuer=make_ca()
    )
    bad = [Bad(rng.randbytes(rng.randint(1, 400)), FaultCode.MALFORMED_MESSAGE) for _ in range(20)]
    bad += [
        Bad(b"   ", FaultCode.MALFORMED_MESSAGE),
        Bad(b"<Envelope xmlns='urn:other'/>", FaultCode.MALFORMED_MESSAGE),
        Bad(b"\xff\xfe<\x00E\x00", FaultCode.MALFORMED_MESSAGE),
        Bad(
            b'<!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<Envelope xmlns="urn:govbus:envelope:1">&b;</Envelope>',
            FaultCode.FORBIDDEN_XML,
        ),
        Bad(_signed(client).replace(b"<Header>", b"<Header><?evil x?>", 1), FaultCode.FORBIDDEN_XML),
        Bad(
            _edited(_signed(client), lambda root: root[0].remove(root[0].find(ENV + "kind"))),
            FaultCode.SCHEMA_VIOLATION,
        ),
        Bad(_edited(_signed(client), lambda root: root.remove(root[-1])), FaultCode.SIGNATURE_PLACEMENT),
        Bad(_signed(client, now=utc_now() - timedelta(hours=2)), FaultCode.EXPIRED),
    ]
    bad += [
        Bad(_signed(client, f"tampered {i}").replace(b">tests<", b">TESTS<", 1), FaultCode.INVALID_SIGNATURE)
        for i in range(10)
    ]
    bad += [
        Bad(
            sign_envelope(
                Header.new(MessageKind.REQUEST, stranger.participant, SERVICE),
                encode(Work(text=f"stranger {i}"), WORK.schema),
                stranger,
            ),
            FaultCode.UNTRUSTED_CERTIFICATE,
        )
        for i in range(5)
    ]
    huge = b"<Envelope>" + b"x" * (DEFAULT_MAX_BYTES - 20) + b"</Envelope>"
    bad += [Bad(huge + b" " * i, FaultCode.OVERSIZED_MESSAGE) for i in (0, 1)]
    return bad


def _refused(bus: TestBus, client: Node) -> tuple[list[Bad], bytes]:
    """Verified messages the provider must refuse (acknowledged, not dead-lettered); and an original."""
    header = Header.new(MessageKind.REQUEST, client.participant, SERVICE)
    original = client.sign(header, encode(Work(text="original"), WORK.schema))
    other = client.sign(header, encode(Work(text="same id, other content"), WORK.schema))
    outsider = bus.node(OUTSIDER)
    denied = Header.new(MessageKind.REQUEST, outsider.participant, SERVICE)
    wrong = Header.new(MessageKind.NOTIFICATION, client.participant, SERVICE)
    invalid = Header.new(MessageKind.REQUEST, client.participant, SERVICE)
    bogus = etree.fromstring(b'<f:Work xmlns:f="urn:t:faults:1"><f:bogus/></f:Work>')
    refused = [
        Bad(other, FaultCode.REPLAY, header.id),
        Bad(
            outsider.sign(denied, encode(Work(text="denied"), WORK.schema)),
            FaultCode.ACCESS_DENIED,
            denied.id,
        ),
        Bad(client.sign(wrong, encode(Work(text="wrong"), WORK.schema)), FaultCode.WRONG_RECIPIENT, wrong.id),
        Bad(client.sign(invalid, bogus), FaultCode.PAYLOAD_SCHEMA_VIOLATION, invalid.id),
    ]
    return refused, original


def _log_records(worker: Worker) -> list:
    conn = store.connect(worker.data_dir / "messages.sqlite", readonly=True)
    try:
        return list(search(conn, SearchFilter()))
    finally:
        conn.close()


def _records_once(worker: Worker, rejections: int) -> list | None:
    records = _log_records(worker)
    return records if sum(r.outcome == "rejected" for r in records) >= rejections else None


def test_a_flood_of_bad_messages_does_not_stop_the_worker(fault_bus: TestBus, workers: StartWorker) -> None:
    provider = workers("provider")
    client_node = fault_bus.node(CLIENT)
    unverifiable = _unverifiable(fault_bus, client_node)
    refused, original = _refused(fault_bus, client_node)
    transport = fault_bus.transport
    exchange, key = transport.topology.requests_exchange, str(SERVICE)

    answered: list[str] = []
    failures: list[BaseException] = []

    def valid_calls() -> None:
        client = Client(node=client_node)
        try:
            for n in range(60):
                answered.append(client.call(PROVIDER, WORK, Work(text=f"valid {n}"), timeout=60).text)
        except BaseException as error:
            failures.append(error)

    caller = threading.Thread(target=valid_calls, daemon=True)
    caller.start()
    transport.publish(exchange, key, OutgoingMessage(original, message_id=str(uuid.uuid4())))
    for bad in [*unverifiable, *refused]:
        transport.publish(exchange, key, OutgoingMessage(bad.body, message_id=str(uuid.uuid4())))
    transport.publish(exchange, key, OutgoingMessage(original, message_id=str(uuid.uuid4())))  # exact replay

    # A requester that gave a reply address gets a signed fault naming the code, even for garbage.
    for bad in (unverifiable[0], unverifiable[-3]):
        reply = transport.request(key, OutgoingMessage(bad.body, message_id=str(uuid.uuid4())), timeout=60)
        fault = client_node.answer_verifier.verify(reply.body)
        assert fault.header.kind is MessageKind.FAULT
        assert fault_from_payload(fault.payload).code is bad.code
    caller.join(180)
    assert not caller.is_alive() and failures == []
    assert answered == [f"valid {n}" for n in range(60)]

    dead_letters = transport.topology.dead_letter_queue(transport.topology.service_queue(key))
    wait_for(lambda: transport.queue_depth(dead_letters) == len(unverifiable) + 2, 60, "the dead letters")

    # Each unverifiable message: one 'rejected' record with its code and digest, and one JSON log line.
    # An over-size body is dropped on arrival (its dead letter keeps it), so its record holds no bytes.
    def recorded(b: Bad) -> tuple[str, str]:
        kept = b"" if b.code is FaultCode.OVERSIZED_MESSAGE else b.body
        return hashlib.sha256(kept).hexdigest(), str(b.code)

    expected = Counter(recorded(b) for b in unverifiable)
    expected.update(recorded(b) for b in (unverifiable[0], unverifiable[-3]))
    records = wait_for(
        lambda: _records_once(provider, sum(expected.values())), 60, "the rejections in the message log"
    )
    rejected = Counter(
        (r.sha256, r.fault_code) for r in records if r.direction == "in" and r.outcome == "rejected"
    )
    assert rejected == expected
    lines = Counter(
        (line["sha256"], line["fault"])
        for line in provider.lines()
        if line.get("event") == "message" and line.get("outcome") == "rejected"
    )
    assert lines == expected

    # Each verified-then-refused message: acknowledged, logged with its code, the handler never ran.
    refusals = {
        (r.message_id, r.fault_code) for r in records if r.direction == "in" and r.outcome == "refused"
    }
    assert refusals == {(bad.message_id, str(bad.code)) for bad in refused[:3]}
    faults_out = {
        r.correlation_id: r.fault_code for r in records if r.direction == "out" and r.outcome == "fault"
    }
    assert faults_out[refused[3].message_id] == str(FaultCode.PAYLOAD_SCHEMA_VIOLATION)
    outcomes = sorted(
        r.outcome for r in records if r.direction == "in" and r.message_id == refused[0].message_id
    )
    assert outcomes in (["accepted", "duplicate", "refused"], ["accepted", "duplicate-in-flight", "refused"])

    texts = Counter(e.text for e in provider.effects().values())
    assert texts == Counter([f"valid {n}" for n in range(60)] + ["original"])
    assert provider.alive and provider.errors() == []
