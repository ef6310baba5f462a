"""Request/reply through the SDK, on the embedded broker and on RabbitMQ."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import pytest

from bus.envelope import Header, MessageKind
from bus.faults import FaultCode
from bus.transport.base import OutgoingMessage
from sdk import CallFailed, Payload, element
from sdk.contract import encode
from tests.sdk.echo import CLIENT, ECHO, NS, OUTSIDER, PROVIDER, EchoService, Ping, Pong


def test_call_returns_the_typed_verified_response(bus):
    service = EchoService()
    bus.start(service.app)
    with bus.client(CLIENT) as client:
        pong = client.call(PROVIDER, ECHO, Ping(text="hello"), purpose="tests")
    assert pong == Pong(text="hello", by=f"{PROVIDER} for {CLIENT} (tests)")
    assert service.seen == ["hello"]


def test_a_client_without_a_grant_is_denied_before_the_handler_runs(bus):
    service = EchoService()
    bus.start(service.app)
    with pytest.raises(CallFailed) as failure:
        bus.client(OUTSIDER).call(PROVIDER, ECHO, Ping(text="secret"))
    assert failure.value.code is FaultCode.ACCESS_DENIED
    assert service.seen == []


def test_revoking_a_grant_takes_effect_without_restarting_the_provider(bus, monkeypatch):
    monkeypatch.setattr("bus.registry.store.RELOAD_CHECK_SECONDS", 0.0)
    service = EchoService()
    bus.start(service.app)
    client = bus.client(CLIENT)
    client.call(PROVIDER, ECHO, Ping(text="before"))
    bus.revoke_grant(ECHO, provider=PROVIDER, client=CLIENT)
    with pytest.raises(CallFailed) as failure:
        client.call(PROVIDER, ECHO, Ping(text="after"))
    assert failure.value.code is FaultCode.ACCESS_DENIED


def test_an_unknown_service_is_refused_by_name(bus):
    with pytest.raises(CallFailed) as failure:
        bus.client(CLIENT).call("MA/GOV/NOBODY/x", ECHO, Ping(text="?"))
    assert failure.value.code is FaultCode.UNKNOWN_SERVICE


def test_a_known_service_whose_provider_never_started_is_unroutable(bus):
    with pytest.raises(CallFailed) as failure:
        bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="anyone?"), timeout=3)
    assert failure.value.code is FaultCode.UNROUTABLE


def test_no_reply_in_time_is_a_timeout(bus):
    bus.start(EchoService().app)
    with pytest.raises(CallFailed) as failure:
        bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="sleep:2.5"), timeout=1.0, retries=0)
    assert failure.value.code is FaultCode.TIMEOUT


def test_a_handler_exception_becomes_a_fault_and_the_worker_lives_on(bus):
    service = EchoService()
    bus.start(service.app)
    client = bus.client(CLIENT)
    with pytest.raises(CallFailed) as failure:
        client.call(PROVIDER, ECHO, Ping(text="fail"))
    assert failure.value.code is FaultCode.HANDLER_ERROR
    assert "handler bug" not in failure.value.reason  # internals stay with the provider
    with pytest.raises(CallFailed) as refused:
        client.call(PROVIDER, ECHO, Ping(text="refuse"))
    assert refused.value.code is FaultCode.HANDLER_ERROR
    assert refused.value.reason == "cannot serve this request"
    assert refused.value.service_code == "Echo.Refused"
    assert client.call(PROVIDER, ECHO, Ping(text="still alive")).text == "still alive"


def test_a_response_that_breaks_the_contract_is_a_fault_not_garbage(bus):
    bus.start(EchoService().app)
    with pytest.raises(CallFailed) as failure:
        bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="bad-response"))
    assert failure.value.code is FaultCode.HANDLER_ERROR


def _signed_request(bus, text: str, *, client: str = CLIENT) -> tuple[Header, bytes]:
    node = bus.node(client)
    header = Header.new(MessageKind.REQUEST, node.participant, ECHO.service_of(PROVIDER))
    return header, node.sign(header, encode(Ping(text=text), ECHO.schema))


def test_a_duplicate_request_id_runs_the_handler_once_and_gets_the_same_answer(bus):
    service = EchoService()
    bus.start(service.app)
    header, raw = _signed_request(bus, "once")
    transport = bus.transport
    message = OutgoingMessage(raw, message_id=header.id)
    first = transport.request(str(ECHO.service_of(PROVIDER)), message, timeout=10)
    second = transport.request(str(ECHO.service_of(PROVIDER)), message, timeout=10)
    assert service.seen == ["once"]
    assert first.body == second.body


def test_the_same_id_with_other_content_is_a_replay(bus):
    service = EchoService()
    bus.start(service.app)
    header, raw = _signed_request(bus, "original")
    node = bus.node(CLIENT)
    other = node.sign(replace(header), encode(Ping(text="other"), ECHO.schema))
    target = str(ECHO.service_of(PROVIDER))
    bus.transport.request(target, OutgoingMessage(raw, message_id=header.id), timeout=10)
    reply = bus.transport.request(target, OutgoingMessage(other, message_id=header.id), timeout=10)
    verified = node.answer_verifier.verify(reply.body)
    assert verified.header.kind is MessageKind.FAULT
    assert b"Client.Replay" in reply.body
    assert service.seen == ["original"]


def test_garbage_on_a_service_queue_is_dead_lettered_and_the_worker_serves_on(bus):
    bus.start(EchoService().app)
    transport = bus.transport
    service = str(ECHO.service_of(PROVIDER))
    for body in (b"not xml", b"<Envelope/>", b"\x00\xff" * 100):
        transport.publish(
            transport.topology.requests_exchange, service, OutgoingMessage(body, message_id=str(uuid.uuid4()))
        )
    assert bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="valid")).text == "valid"
    dead_letters = transport.topology.dead_letter_queue(transport.topology.service_queue(service))
    assert _eventually(lambda: transport.queue_depth(dead_letters) == 3)


def test_two_workers_share_one_queue(bus):
    first, second = EchoService(), EchoService()
    bus.start(first.app, concurrency=1, prefetch=1)
    bus.start(second.app, concurrency=1, prefetch=1)
    client = bus.client(CLIENT)
    for index in range(40):
        client.call(PROVIDER, ECHO, Ping(text=str(index)))
    assert first.seen and second.seen
    assert sorted(first.seen + second.seen, key=int) == [str(i) for i in range(40)]


def _eventually(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_response_that_violates_the_xsd_is_the_providers_fault(bus):
    from tests.sdk.echo import Pong as PongModel

    service = EchoService()
    service.app.implementations[ECHO] = lambda request, ctx: PongModel(
        text="x", by=""
    )  # an empty required element
    bus.start(service.app)
    with pytest.raises(CallFailed) as failure:
        bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="hello"))
    assert failure.value.code is FaultCode.HANDLER_ERROR


def test_a_timed_out_call_leaves_one_dead_letter(bus):
    transport = bus.transport
    service = str(ECHO.service_of(PROVIDER))
    queue, dead_letters = transport.declare_service(service)  # the provider is down: nobody consumes
    bus.sign_catalogue()
    started = time.monotonic()
    with pytest.raises(CallFailed) as failure:
        bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="anyone?"), timeout=1.5, retries=2)
    assert failure.value.code is FaultCode.TIMEOUT
    assert time.monotonic() - started >= 1.4
    assert _eventually(lambda: transport.queue_depth(dead_letters) >= 1)
    time.sleep(1.0)  # any further copy would have expired by now too
    assert transport.queue_depth(dead_letters) == 1
    assert transport.queue_depth(queue) == 0


class Stray(Payload, tag="Stray", ns="e", nsmap={"e": NS}):
    """An element the echo XSD does not declare."""

    text: str = element()


def test_a_request_that_breaks_the_xsd_is_a_call_failure_and_nothing_is_sent(bus):
    service = EchoService()
    bus.start(service.app)
    with pytest.raises(CallFailed) as failure:
        bus.client(CLIENT).call(PROVIDER, ECHO, Stray(text="x"))  # type: ignore[arg-type]
    assert failure.value.code is FaultCode.PAYLOAD_SCHEMA_VIOLATION
    assert "outgoing payload violates" in failure.value.reason
    with pytest.raises(CallFailed) as failure:
        bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="a\x00b"))
    assert failure.value.code is FaultCode.PAYLOAD_SCHEMA_VIOLATION
    assert service.seen == []
