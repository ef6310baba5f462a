"""A provider and forged AMQP properties (issue 12 item 4), on the embedded broker and on RabbitMQ.

A valid signed request with a header govbus reads of the wrong type is served and logged; one whose
content-encoding govbus does not read is refused with its fault code, logged and dead-lettered.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from bus.envelope import Header, MessageKind
from sdk.contract import encode
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, EchoService, Ping
from tests.transport.forge import forge


class Spy:
    """Forwards to the provider's message log and keeps (direction, raw, outcome, fault code).

    Without ``record_many`` the node records one entry at a time, each through ``record``.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.records: list[tuple[str, bytes, str, str | None]] = []
        self.lock = threading.Lock()

    def record(
        self, direction: str, raw: bytes, *, outcome: str, fault_code: str | None = None, **kw: Any
    ) -> Any:
        with self.lock:
            self.records.append((direction, bytes(raw), outcome, fault_code))
        return self.inner.record(direction, raw, outcome=outcome, fault_code=fault_code, **kw)

    def close(self) -> None:
        self.inner.close()


def _eventually(condition: Any, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def _serve(bus: Any) -> tuple[EchoService, Spy, str, bytes, Header]:
    service = EchoService()
    running = bus.start(service.app)
    spy = Spy(running.node.recorder)
    running.node.recorder = spy
    node = bus.node(CLIENT)
    header = Header.new(MessageKind.REQUEST, node.participant, ECHO.service_of(PROVIDER))
    raw = node.sign(header, encode(Ping(text="forged-properties"), ECHO.schema))
    queue = bus.transport.topology.service_queue(str(ECHO.service_of(PROVIDER)))
    return service, spy, queue, raw, header


@pytest.mark.parametrize("count", ["abc", -1, 2**62])
def test_a_request_with_a_bad_delivery_count_is_served_and_logged(bus: Any, count: object) -> None:
    service, spy, queue, raw, header = _serve(bus)
    forge(bus.transport, bus.broker, queue, raw, message_id=header.id, headers={"x-delivery-count": count})
    assert _eventually(lambda: service.seen == ["forged-properties"])
    assert _eventually(lambda: any(r[1] == raw and r[2] == "accepted" for r in spy.records))
    dead_letters = bus.transport.topology.dead_letter_queue(queue)
    assert bus.transport.queue_depth(dead_letters) == 0


def test_a_request_with_a_foreign_content_encoding_is_refused_logged_and_dead_lettered(bus: Any) -> None:
    service, spy, queue, raw, header = _serve(bus)
    forge(bus.transport, bus.broker, queue, raw, message_id=header.id, content_encoding="gzip")
    dead_letters = bus.transport.topology.dead_letter_queue(queue)
    assert _eventually(lambda: bus.transport.queue_depth(dead_letters) == 1)
    assert _eventually(lambda: ("in", raw, "rejected", "Client.MalformedMessage") in spy.records), spy.records
    assert service.seen == []


def test_an_oversized_request_is_refused_on_arrival_logged_and_dead_lettered(bus: Any) -> None:
    from bus.xml import DEFAULT_MAX_BYTES

    service, spy, queue, _raw, _header = _serve(bus)
    huge = b"<Envelope>" + b"x" * DEFAULT_MAX_BYTES + b"</Envelope>"
    forge(bus.transport, bus.broker, queue, huge, message_id="huge")
    dead_letters = bus.transport.topology.dead_letter_queue(queue)
    assert _eventually(lambda: bus.transport.queue_depth(dead_letters) == 1)
    assert _eventually(lambda: ("in", b"", "rejected", "Client.OversizedMessage") in spy.records), spy.records
    assert service.seen == []
