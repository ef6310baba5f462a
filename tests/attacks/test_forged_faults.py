"""A provider signs no refusal tied to an id a message merely claims (issue 12, item 2).

Before: publishing ``x`` with the victim's request id as ``message_id`` and the victim's reply address
as ``reply_to`` made the provider sign a ``Client.MalformedMessage`` fault whose ``correlationId`` was
the victim's id, and the victim's ``Client.call`` took it as its answer. Now a fault about a message
that could not be verified names no id and carries the hash of the bytes received; the client checks
every reply's ``requestHash`` against its own request, logs the forged one as rejected and retries.
"""

from __future__ import annotations

import threading
from typing import Any

import pika
import pytest

from bus.faults import FaultCode
from sdk.testing import TestBus
from tests.attacks.conftest import log_records, wait_until
from tests.conftest import RABBITMQ_URL
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, EchoService, Ping

pytestmark = pytest.mark.rabbitmq


def test_garbage_claiming_the_victims_id_does_not_answer_the_victims_call(tmp_path) -> None:
    with TestBus(tmp_path / "bus", broker=RABBITMQ_URL) as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        service = str(ECHO.service_of(PROVIDER))
        topology = bus.transport.topology
        bus.transport.declare_service(service)
        victim = bus.client(CLIENT)
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                outcome["pong"] = victim.call(PROVIDER, ECHO, Ping(text="victim"), timeout=30, retries=2)
            except Exception as error:
                outcome["error"] = error

        caller = threading.Thread(target=call, daemon=True)
        caller.start()
        attacker = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
        try:
            channel = attacker.channel()

            def victims_request() -> Any:
                method, properties, _ = channel.basic_get(topology.service_queue(service), auto_ack=False)
                return (method, properties) if method is not None else None

            # The attacker learns the victim's id and reply address, holds the request back, and sends `x`.
            method, properties = wait_until(victims_request, 10, "the victim's request")
            channel.basic_publish(
                topology.requests_exchange,
                service,
                b"x",
                pika.BasicProperties(
                    message_id=properties.message_id, reply_to=properties.reply_to, delivery_mode=2
                ),
            )
            bus.start(EchoService().app, concurrency=1)
            forged = wait_until(
                lambda: [
                    r for r in log_records(bus, PROVIDER) if r.direction == "out" and r.outcome == "fault"
                ],
                20,
                "the provider's fault about x",
            )
            wait_until(
                lambda: (
                    not caller.is_alive() or any(r.outcome == "rejected" for r in log_records(bus, CLIENT))
                ),
                20,
                "the fault about x to reach the victim",
            )
            channel.basic_nack(method.delivery_tag, requeue=True)  # the victim's request goes on
        finally:
            attacker.close()
        caller.join(40)
        assert "error" not in outcome, outcome
        assert outcome["pong"].text == "victim"
        # The provider's fault names no id; the victim logged it as not its answer.
        assert forged[0].correlation_id is None and forged[0].fault_code == str(FaultCode.MALFORMED_MESSAGE)
        refused = [r for r in log_records(bus, CLIENT) if r.direction == "in" and r.outcome == "rejected"]
        assert [r.fault_code for r in refused] == [str(FaultCode.RESPONSE_MISMATCH)]
