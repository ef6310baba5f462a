"""The authority console's dead-letter operations on both brokers (the embedded one and RabbitMQ): a
message rejected by its consumer is dead-lettered by the broker, listed with its reason, shown (its
envelope verified, here refused), and replayed to its queue; looking never takes a message away."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bus.pki.authority import CertificateAuthority
from bus.pki.home import BusHome
from bus.transport import OutgoingMessage, Transport, connect
from web.workspace.authority import deadletters

from ..conftest import wait_until
from .consoles_support import TEST_SERVICE


@pytest.fixture
def transport(broker_url: str | None) -> Iterator[Transport]:
    url = broker_url or f"memory://consoles-{uuid.uuid4().hex}"
    with connect(url, prefix=f"t{uuid.uuid4().hex[:10]}") as opened:
        opened.declare_exchanges()
        opened.declare_service(TEST_SERVICE)
        try:
            yield opened
        finally:
            opened.delete_service(TEST_SERVICE)
            opened.delete_exchanges()


def test_list_show_and_replay_a_dead_letter(transport: Transport, tmp_path: Path) -> None:
    home = BusHome.at(tmp_path)
    CertificateAuthority.init(home)
    queue = transport.topology.service_queue(TEST_SERVICE)
    dead = transport.topology.dead_letter_queue(queue)
    message_id = str(uuid.uuid4())
    transport.publish(
        "", queue, OutgoingMessage(b"<pas-une-enveloppe/>", message_id, headers={"origin": "\x1b[31m"})
    )
    delivery = wait_until(lambda: transport.get(queue))
    delivery.reject()
    wait_until(lambda: transport.queue_depth(dead) == 1)

    letters = deadletters.dead_letters(transport, TEST_SERVICE, None)
    assert [letter.message_id for letter in letters] == [message_id]
    assert letters[0].reason == "rejected"
    wait_until(lambda: transport.queue_depth(dead) == 1, what="the dead letter back")  # looking keeps it

    shown = deadletters.show(transport, home, TEST_SERVICE, None, message_id)
    assert shown is not None
    letter, verification = shown
    assert letter.body == b"<pas-une-enveloppe/>" and not verification.ok
    assert deadletters.show(transport, home, TEST_SERVICE, None, "absent") is None
    wait_until(lambda: transport.queue_depth(dead) == 1, what="the dead letter back")

    assert deadletters.replay(transport, TEST_SERVICE, None, "absent") is None
    assert deadletters.replay(transport, TEST_SERVICE, None, message_id) == queue
    wait_until(lambda: transport.queue_depth(queue) == 1)
    wait_until(lambda: transport.queue_depth(dead) == 0, what="the dead letter gone")
    replayed = wait_until(lambda: transport.get(queue))
    assert replayed.message_id == message_id and replayed.body == b"<pas-une-enveloppe/>"
    replayed.ack()
