"""``reply_to`` may name only the reply addresses the topology defines (issue 12, item 3).

Before: a provider published its signed answer into whatever queue a request's ``reply_to`` named,
e.g. another participant's inbox. Now such a request gets no answer anywhere, a warning, a ``rejected``
record with ``Client.InvalidReplyAddress`` and the dead-letter queue; the handler never runs.
"""

from __future__ import annotations

import pytest

from bus.envelope import Header, MessageKind
from bus.faults import FaultCode
from bus.transport import OutgoingMessage
from bus.transport.topology import DIRECT_REPLY_TO, Topology
from sdk.contract import encode
from tests.attacks.conftest import log_records, wait_until
from tests.sdk.echo import CLIENT, ECHO, FUNDS, PROVIDER, EchoService, Ping


def _signed_request(bus, text: str) -> tuple[Header, bytes]:
    node = bus.node(CLIENT)
    header = Header.new(MessageKind.REQUEST, node.participant, ECHO.service_of(PROVIDER))
    return header, node.sign(header, encode(Ping(text=text), ECHO.schema))


def test_a_reply_to_naming_another_participants_inbox_gets_nothing_published_there(bus) -> None:
    echo = EchoService()
    bus.start(echo.app)
    topology = bus.transport.topology
    bus.transport.declare_inbox(FUNDS[0])
    inbox = topology.inbox_queue(FUNDS[0])
    service = str(ECHO.service_of(PROVIDER))
    header, raw = _signed_request(bus, "redirected")
    bus.transport.publish(
        topology.requests_exchange, service, OutgoingMessage(raw, message_id=header.id, reply_to=inbox)
    )
    refused = wait_until(
        lambda: [
            r for r in log_records(bus, PROVIDER) if r.fault_code == str(FaultCode.INVALID_REPLY_ADDRESS)
        ],
        20,
        "the refusal in the provider's log",
    )
    assert refused[0].direction == "in" and refused[0].outcome == "rejected"
    dead_letters = topology.dead_letter_queue(topology.service_queue(service))
    wait_until(lambda: bus.transport.queue_depth(dead_letters) == 1, 20, "the dead-lettered request")
    assert bus.transport.queue_depth(inbox) == 0
    assert echo.seen == []
    # The same signed request with a proper reply address is answered (and the handler runs once).
    reply = bus.transport.request(service, OutgoingMessage(raw, message_id=header.id), timeout=20)
    assert bus.node(CLIENT).answer_verifier.verify(reply.body).header.correlation_id == header.id
    assert echo.seen == ["redirected"]


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        (f"{DIRECT_REPLY_TO}.g1h2AA5yZXBseUA2NTQ3MzE0MwAAAAAAAAAC", True),
        ("govbus.reply." + "0123456789abcdef" * 2, True),
        (DIRECT_REPLY_TO, False),
        (DIRECT_REPLY_TO + ".", False),
        ("govbus.reply.gone", True),
        ("govbus.reply.", False),
        ("other.reply." + "0123456789abcdef" * 2, False),
        ("govbus.inbox.MA/GOV/CMR/pensions", False),
        ("govbus.svc.MA/GOV/ECHO/svc/echo/v1", False),
        ("govbus.dlq.svc.MA/GOV/ECHO/svc/echo/v1", False),
        ("", False),
    ],
)
def test_reply_addresses_are_the_ones_the_topology_defines(address: str, allowed: bool) -> None:
    assert Topology().is_reply_address(address) is allowed
