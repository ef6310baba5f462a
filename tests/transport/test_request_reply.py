"""Request/reply in both reply modes, timeouts and retries with the same message id."""

from __future__ import annotations

import threading
import uuid

import pytest

from bus.faults import Fault, FaultCode
from bus.transport import Delivery, OutgoingMessage, Transport
from tests.transport.conftest import SERVICE, Bus


def serve(provider: Transport, queue: str, calls: list[str] | None = None):
    def answer(delivery: Delivery) -> None:
        if calls is not None:
            calls.append(delivery.message_id or "")
        provider.reply(
            delivery, OutgoingMessage(b"<ok>" + delivery.body + b"</ok>", message_id=uuid.uuid4().hex)
        )

    return provider.consume(queue, answer)


@pytest.mark.parametrize("mode", ["direct", "queue"])
def test_request_gets_its_reply(bus: Bus, mode: str) -> None:
    provider, client = bus.connect(), bus.connect(reply_mode=mode)
    queue = bus.service(provider)
    with serve(provider, queue):
        for n in range(5):
            request = OutgoingMessage(f"<q>{n}</q>".encode(), message_id=uuid.uuid4().hex)
            reply = client.request(SERVICE, request, timeout=15)
            assert reply.body == f"<ok><q>{n}</q></ok>".encode()
            assert reply.correlation_id == request.message_id


@pytest.mark.parametrize("mode", ["direct", "queue"])
def test_concurrent_requests_on_one_transport(bus: Bus, mode: str) -> None:
    provider, client = bus.connect(), bus.connect(reply_mode=mode)
    queue = bus.service(provider)
    replies: dict[str, bytes] = {}
    errors: list[BaseException] = []

    def caller(n: int) -> None:
        try:
            for k in range(10):
                body = f"<q>{n}-{k}</q>".encode()
                replies[body.decode()] = client.request(
                    SERVICE, OutgoingMessage(body, message_id=uuid.uuid4().hex), timeout=15
                ).body
        except BaseException as error:
            errors.append(error)

    with serve(provider, queue):
        threads = [threading.Thread(target=caller, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == []
    assert len(replies) == 40
    assert all(body == f"<ok>{key}</ok>".encode() for key, body in replies.items())


def test_no_reply_raises_timeout_and_a_retry_with_the_same_id_succeeds(bus: Bus) -> None:
    provider, client = bus.connect(), bus.connect()
    queue = bus.service(provider)
    request = OutgoingMessage(b"<q/>", message_id=uuid.uuid4().hex)
    with pytest.raises(Fault) as caught:
        client.request(SERVICE, request, timeout=0.5)
    assert caught.value.code is FaultCode.TIMEOUT
    calls: list[str] = []
    with serve(provider, queue, calls):
        reply = client.request(SERVICE, request, timeout=15)
    assert reply.correlation_id == request.message_id
    # The provider saw the timed-out request and the retry: same id, answered twice; the caller got one.
    assert calls.count(request.message_id) >= 1


def test_request_to_an_unknown_service_is_unroutable(bus: Bus) -> None:
    client = bus.connect()
    bus.service(client)
    with pytest.raises(Fault) as caught:
        client.request("MA/GOV/NOBODY/x/none/v1", OutgoingMessage(b"<q/>", message_id="q-1"), timeout=15)
    assert caught.value.code is FaultCode.UNROUTABLE


def test_reply_to_a_vanished_reply_queue_is_unroutable(bus: Bus) -> None:
    provider, client = bus.connect(), bus.connect(reply_mode="queue")
    queue = bus.service(provider)
    with pytest.raises(Fault):
        client.request(SERVICE, OutgoingMessage(b"<q/>", message_id="q-2"), timeout=0.3)
    client.close()
    delivery = provider.get(queue)
    assert delivery is not None and delivery.reply_to
    with pytest.raises(Fault) as caught:
        provider.reply(delivery, OutgoingMessage(b"<late/>", message_id="r-2"))
    assert caught.value.code is FaultCode.UNROUTABLE
    delivery.ack()


def test_direct_reply_to_a_vanished_client_is_dropped_silently(bus: Bus) -> None:
    provider, client = bus.connect(), bus.connect(reply_mode="direct")
    queue = bus.service(provider)
    with pytest.raises(Fault):
        client.request(SERVICE, OutgoingMessage(b"<q/>", message_id="q-3"), timeout=0.3)
    client.close()
    delivery = provider.get(queue)
    assert delivery is not None and delivery.reply_to
    provider.reply(delivery, OutgoingMessage(b"<late/>", message_id="r-3"))  # at-most-once: no error
    delivery.ack()
    provider.publish("", queue, OutgoingMessage(b"<still-working/>", message_id="after"))
    assert provider.queue_depth(queue) == 1
