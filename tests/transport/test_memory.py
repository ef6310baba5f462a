"""What only the embedded broker has: process-wide named brokers and its topic matcher."""

from __future__ import annotations

import uuid

import pytest

from bus.transport import OutgoingMessage, TopologyError, connect
from bus.transport.memory import topic_matches
from tests.transport.conftest import SERVICE


def test_named_brokers_are_shared_and_a_new_name_is_a_new_broker() -> None:
    name = f"memory://shared-{uuid.uuid4().hex}"
    with connect(name) as provider, connect(name) as client, connect(f"{name}-other") as stranger:
        queue = provider.declare_service(SERVICE)[0]
        client.publish(client.topology.requests_exchange, SERVICE, OutgoingMessage(b"<x/>", message_id="m"))
        assert provider.queue_depth(queue) == 1
        with pytest.raises(TopologyError):
            stranger.queue_depth(queue)


def test_topic_matching_follows_amqp() -> None:
    assert topic_matches(SERVICE, SERVICE)
    assert topic_matches("MA/GOV/CNSS/attestations/cnss.#", SERVICE)
    assert topic_matches("#", "anything.at.all")
    assert topic_matches("a.*.c", "a.b.c")
    assert not topic_matches("a.*.c", "a.c")
    assert topic_matches("a.#.c", "a.c")
    assert not topic_matches(SERVICE, SERVICE.replace("v1", "v2"))
