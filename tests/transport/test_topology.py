"""Names and arguments: one place, prefixed, idempotent declarations, conflicts detected."""

from __future__ import annotations

import pytest

from bus.faults import Fault
from bus.transport import Topology, TopologyError
from tests.transport.conftest import NOTICE, SERVICE, Bus


def test_names_follow_the_prefix_and_identifiers() -> None:
    topology = Topology(prefix="acme")
    assert topology.requests_exchange == "acme.calls"
    assert topology.inbox_exchange == "acme.receipts"
    assert topology.replies_exchange == "acme.replies"
    assert topology.service_queue(SERVICE) == f"acme.svc.{SERVICE}"
    assert (
        topology.subscription_queue("MA/GOV/CMR/pensions", NOTICE) == f"acme.sub.MA/GOV/CMR/pensions:{NOTICE}"
    )
    assert topology.inbox_queue("MA/COM/RABAT/etat-civil") == "acme.inbox.MA/COM/RABAT/etat-civil"
    assert topology.dead_letter_queue(topology.service_queue(SERVICE)) == f"acme.dlq.svc.{SERVICE}"
    queue, dead_letters = topology.service(SERVICE)
    assert queue.bindings == (("acme.calls", SERVICE),)
    assert queue.arguments["x-queue-type"] == "quorum"
    assert queue.arguments["x-delivery-limit"] == 5
    assert queue.arguments["x-dead-letter-exchange"] == "acme.dead-letter"
    assert queue.arguments["x-dead-letter-routing-key"] == queue.name
    assert dead_letters.bindings == (("acme.dead-letter", queue.name),)


def test_reply_queues_of_a_participant_name_their_owner() -> None:
    topology = Topology(prefix="acme")
    token = "0123456789abcdef0123456789abcdef"
    name = topology.reply_queue(token, "MA/GOV/CMR/pensions")
    assert name == f"acme.reply.MA/GOV/CMR/pensions.{token}"
    assert topology.reply_owner(name) == "MA/GOV/CMR/pensions"
    assert topology.is_reply_address(name)
    assert topology.reply_owner(topology.reply_queue(token)) is None  # a shared login's reply queue
    assert topology.reply_owner(f"acme.reply.MA/GOV.{token}") is None  # not a participant id
    assert topology.reply_owner(f"other.reply.MA/GOV/CMR/pensions.{token}") is None
    with pytest.raises(ValueError):
        topology.reply_queue("not-hex", "MA/GOV/CMR/pensions")


def test_long_names_fit_amqp_limits() -> None:
    longest = f"MA/GOV/{'M' * 64}/{'s' * 64}"
    service = f"{longest}/{'c' * 64}/v999999"
    name = Topology().subscription_queue(longest, service)
    assert len(name.encode()) <= 255
    assert name != Topology().subscription_queue(longest, service.replace("v999999", "v999998"))


def test_invalid_names_are_refused() -> None:
    with pytest.raises(ValueError):
        Topology(prefix="has.dot")
    with pytest.raises(ValueError):
        Topology(delivery_limit=-1)
    with pytest.raises(Fault):
        Topology().service_queue("not-a-service")


def test_declarations_are_idempotent_and_conflicts_detected(bus: Bus) -> None:
    transport = bus.connect()
    names = transport.declare_service(SERVICE)
    assert transport.declare_service(SERVICE) == names
    assert bus.service(transport) == names[0]
    with pytest.raises(TopologyError):
        bus.connect(delivery_limit=3).declare_service(SERVICE)
