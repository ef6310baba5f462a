"""Property tests of the provider's inbound pipeline: no delivered body, however malformed, kills the worker.

Every body ends as one log record (a fault code when refused), is dead-lettered exactly when it does not
verify, and the handler runs only for verified, admitted, schema-valid requests. Breadth comes from the
embedded broker; one smoke test runs the same bodies through a provider on RabbitMQ.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from bus.envelope import Header, MessageKind
from bus.faults import Fault, FaultCode
from bus.transport import Delivery, Message, OutgoingMessage
from bus.transport.base import Settlement
from sdk import Client, Context, Node, Provider
from sdk.contract import encode
from sdk.inbound import Inbound
from sdk.testing import TestBus
from tests.conftest import RABBITMQ_URL
from tests.faults.service import CLIENT, NOTIFIER, OUTSIDER, PROVIDER, WORK, Done, Work
from tests.faults.test_envelope_properties import DOCUMENTED, byte_mutants

SERVICE = WORK.service_of(PROVIDER)
CRASH = "handler failed; message rejected"
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Co")), min_size=1, max_size=30
)


@dataclass
class Spy:
    """Forwards to the participant's message log and keeps what was recorded."""

    inner: Any
    records: list[tuple[str, bytes, str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self,
        direction: str,
        raw: bytes,
        *,
        header: Any,
        outcome: str,
        fault_code: str | None = None,
        **details: Any,
    ) -> Any:
        with self.lock:
            self.records.append((direction, bytes(raw), outcome, fault_code))
        return self.inner.record(
            direction, raw, header=header, outcome=outcome, fault_code=fault_code, **details
        )

    def close(self) -> None:
        self.inner.close()

    def inbound(self, body: bytes) -> list[tuple[str, str | None]]:
        with self.lock:
            return [(outcome, code) for d, raw, outcome, code in self.records if d == "in" and raw == body]


class Ran:
    """The handler: counts the requests it ran."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.app = Provider(PROVIDER)
        self.app.implement(WORK)(self)

    def __call__(self, request: Work, ctx: Context) -> Done:
        self.texts.append(request.text)
        return Done(text=request.text, by=str(ctx.participant), pid=0)


def _make_bus(root: Path, broker: str | None) -> TestBus:
    bus = TestBus(root, broker=broker)
    bus.publish(WORK, provider=PROVIDER, clients=[CLIENT])
    bus.participant(NOTIFIER)
    bus.participant(OUTSIDER)
    bus.sign_catalogue()
    return bus


def _signer(node: Node) -> Any:
    def sign(text: str, kind: MessageKind = MessageKind.REQUEST) -> bytes:
        header = Header.new(kind, node.participant, SERVICE, purpose="tests")
        return node.sign(header, encode(Work(text=text), WORK.schema))

    return sign


def bodies(nodes: dict[str, Node]) -> st.SearchStrategy[bytes]:
    """Garbage, the client's valid requests, valid envelopes from anyone of any kind, byte-mutated requests."""
    signers = st.sampled_from(sorted(nodes)).map(lambda name: _signer(nodes[name]))
    valid = st.builds(lambda sign, text, kind: sign(text, kind), signers, _TEXT, st.sampled_from(MessageKind))
    return st.one_of(
        st.binary(max_size=600),
        st.builds(_signer(nodes[CLIENT]), _TEXT),
        valid,
        st.builds(lambda sign, text: sign(text), signers, _TEXT).flatmap(byte_mutants),
    )


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestBus, dict[str, Node]]]:
    bus = _make_bus(tmp_path_factory.mktemp("bus"), None)
    nodes = {name: bus.node(name) for name in (CLIENT, NOTIFIER, OUTSIDER, PROVIDER)}
    nodes[PROVIDER].recorder = Spy(nodes[PROVIDER].recorder)
    yield bus, nodes
    bus.close()


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    redelivered=st.booleans(),
    reply=st.booleans(),
    message_id=st.none() | _TEXT | st.uuids().map(str),
)
def test_any_body_gives_one_record_and_the_right_settlement(
    memory: tuple[TestBus, dict[str, Node]],
    data: st.DataObject,
    redelivered: bool,
    reply: bool,
    message_id: str | None,
) -> None:
    bus, nodes = memory
    node = nodes[PROVIDER]
    spy = node.recorder
    spy.records.clear()
    ran = Ran()
    body = data.draw(bodies({k: v for k, v in nodes.items() if k != PROVIDER}))
    settled: list[Settlement] = []
    queue = bus.transport.topology.service_queue(str(SERVICE))
    message = Message(
        body=body,
        message_id=message_id,
        correlation_id=None,
        reply_to=bus.transport.topology.reply_queue("gone") if reply else None,
        headers={},
        exchange=bus.transport.topology.requests_exchange,
        routing_key=str(SERVICE),
        redelivered=redelivered,
        delivery_count=0,
    )
    delivery = Delivery(message, queue, settled.append)
    try:
        verified = node.verifier.verify(body)
    except Fault:
        verified = None

    Inbound(node, WORK, ran, SERVICE)(delivery)  # must not raise, whatever the body

    records = spy.inbound(body)
    assert len(records) == 1, records
    outcome, code = records[0]
    event(f"{outcome} {code or ''}")
    assert code is None or FaultCode(code) in DOCUMENTED
    if verified is None:
        assert settled == [Settlement.REJECT] and outcome == "rejected" and code is not None
    else:
        assert settled == [] and outcome in ("accepted", "refused")
        admitted = verified.header.kind is MessageKind.REQUEST and str(verified.header.client) == CLIENT
        assert ran.texts == ([Work.from_xml_tree(verified.payload).text] if admitted else [])


def _deliver_and_check(bus: TestBus, running_node: Node, spy: Spy, bodies_: list[bytes]) -> None:
    transport = bus.transport
    dead_letters = transport.topology.dead_letter_queue(transport.topology.service_queue(str(SERVICE)))
    rejected_before = transport.queue_depth(dead_letters)
    with capture_logs() as logs:
        for body in bodies_:
            transport.publish(
                transport.topology.requests_exchange,
                str(SERVICE),
                OutgoingMessage(body, message_id=str(uuid.uuid4())),
            )
        answer = Client(node=bus.node(CLIENT)).call(PROVIDER, WORK, Work(text="still serving"), timeout=30)
        assert answer.text == "still serving"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(spy.inbound(body) for body in bodies_):
            if any(entry["event"] == CRASH for entry in logs):
                break
            time.sleep(0.02)
    assert all(spy.inbound(body) for body in bodies_), "a body left no record: the pipeline crashed on it"
    assert [entry for entry in logs if entry["event"] == CRASH] == []
    rejected = 0
    for body in set(bodies_):
        try:
            running_node.verifier.verify(body)
        except Fault:
            rejected += bodies_.count(body)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and transport.queue_depth(dead_letters) != rejected_before + rejected:
        time.sleep(0.05)
    assert transport.queue_depth(dead_letters) == rejected_before + rejected


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestBus, dict[str, Node], Node, Spy]]:
    bus = _make_bus(tmp_path_factory.mktemp("served"), None)
    nodes = {name: bus.node(name) for name in (CLIENT, NOTIFIER, OUTSIDER)}
    running = bus.start(Ran().app)
    spy = running.node.recorder = Spy(running.node.recorder)
    yield bus, nodes, running.node, spy
    bus.close()


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_provider_on_the_embedded_broker_survives_any_bodies(
    serving: tuple[TestBus, dict[str, Node], Node, Spy], data: st.DataObject
) -> None:
    bus, nodes, node, spy = serving
    _deliver_and_check(bus, node, spy, data.draw(st.lists(bodies(nodes), min_size=1, max_size=12)))


@pytest.mark.rabbitmq
def test_a_provider_on_rabbitmq_survives_garbage_and_mutants(tmp_path: Path) -> None:
    rng = random.Random(7)
    with _make_bus(tmp_path / "bus", RABBITMQ_URL) as bus:
        running = bus.start(Ran().app)
        spy = running.node.recorder = Spy(running.node.recorder)
        sign = _signer(bus.node(CLIENT))
        bodies_ = [rng.randbytes(rng.randint(0, 300)) for _ in range(10)]
        for i in range(20):
            raw = bytearray(sign(f"mutant {i}"))
            at = rng.randrange(len(raw))
            raw[at] = (raw[at] + rng.randint(1, 255)) % 256
            bodies_.append(bytes(raw))
        bodies_ += [
            sign("valid"),
            sign("notice", MessageKind.NOTIFICATION),
            _signer(bus.node(OUTSIDER))("outsider"),
        ]
        _deliver_and_check(bus, running.node, spy, bodies_)
