"""``govbus broker``: topology setup, dead-letter listing and replay, on both brokers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import lxml.etree as etree
import pytest
from click.testing import CliRunner

from bus.cli.broker import broker
from bus.envelope import Header, MessageKind, sign_envelope
from bus.ids import ServiceId
from bus.transport import OutgoingMessage
from tests.helpers.fixtures import fresh_pki
from tests.helpers.pki import CLIENT
from tests.transport.conftest import NOTICE, SERVICE, Bus, wait_for
from tests.transport.forge import forge

__all__ = ["fresh_pki"]


def run(bus: Bus, *args: str) -> str:
    result = CliRunner().invoke(broker, [*args, "--broker", bus.url, "--prefix", bus.prefix])
    assert result.exit_code == 0, result.output
    return result.output


def test_setup_declares_the_topology_idempotently(bus: Bus) -> None:
    args = [
        "--service",
        SERVICE,
        "--subscriber",
        f"MA/GOV/CMR/pensions:{NOTICE}",
        "--inbox",
        "MA/COM/RABAT/etat-civil",
    ]
    output = run(bus, "setup", *args)
    transport = bus.connect()
    queue = bus.service(transport)
    subscription = bus.subscription(transport, "MA/GOV/CMR/pensions")
    inbox = bus.inbox(transport, "MA/COM/RABAT/etat-civil")
    for name in (queue, subscription, inbox, transport.topology.dead_letter_queue(queue)):
        assert name in output
    assert f"exchange: {bus.prefix}.notifications (topic)" in output
    assert run(bus, "setup", *args) == output


def test_dead_letters_are_listed_and_replayed(bus: Bus) -> None:
    run(bus, "setup", "--service", SERVICE)
    transport = bus.connect()
    queue = bus.service(transport)
    dead_letters = transport.topology.dead_letter_queue(queue)
    for n in range(3):
        transport.publish("", queue, OutgoingMessage(b"<x/>" * (n + 1), message_id=f"dead-{n}"))
        delivery = transport.get(queue)
        assert delivery is not None
        delivery.reject()
    wait_for(lambda: transport.queue_depth(dead_letters) == 3, what="three dead letters")

    listing = run(bus, "dlq", "list", SERVICE).splitlines()
    assert listing[0].split()[:3] == ["MESSAGE", "ID", "REASON"]
    rows = [line.split() for line in listing[1:4]]
    assert [row[:4] for row in rows] == [[f"dead-{n}", "rejected", "1", str(4 * (n + 1))] for n in range(3)]
    assert listing[4] == f"3 message(s) in {dead_letters}"
    wait_for(lambda: transport.queue_depth(dead_letters) == 3, what="the listed messages back in the DLQ")

    def depths() -> tuple[int, int]:
        return transport.queue_depth(queue), transport.queue_depth(dead_letters)

    assert "1 message(s) moved" in run(bus, "dlq", "replay", SERVICE, "--id", "dead-1")
    wait_for(lambda: depths() == (1, 2), what="one message replayed, two kept")
    assert "2 message(s) moved" in run(bus, "dlq", "replay", SERVICE)
    wait_for(lambda: depths() == (3, 0), what="all messages replayed")
    replayed = sorted(transport.get(queue).message_id for _ in range(3))  # type: ignore[union-attr]
    assert replayed == ["dead-0", "dead-1", "dead-2"]
    assert run(bus, "dlq", "list", SERVICE).splitlines()[-1] == f"0 message(s) in {dead_letters}"


def test_replay_of_an_unknown_id_fails(bus: Bus) -> None:
    run(bus, "setup", "--service", SERVICE)
    bus.service(bus.connect())
    args = ["dlq", "replay", "--broker", bus.url, "--prefix", bus.prefix, SERVICE, "--id", "nope"]
    result = CliRunner().invoke(broker, args)
    assert result.exit_code == 1
    assert "not found: nope" in result.output


def _dead_letter(bus: Bus, message: OutgoingMessage) -> str:
    """Publish ``message`` to the service queue and reject it into the dead-letter queue; return that queue."""
    run(bus, "setup", "--service", SERVICE)
    transport = bus.connect()
    queue = bus.service(transport)
    dead_letters = transport.topology.dead_letter_queue(queue)
    transport.publish("", queue, message)
    delivery = transport.get(queue)
    assert delivery is not None
    delivery.reject()
    wait_for(lambda: transport.queue_depth(dead_letters) == 1, what="the dead letter")
    return dead_letters


EVIL = "evil\x1b]0;pwned\x07\x1b[2J\u202e\r\n"


def test_listing_and_showing_never_print_control_characters_from_message_properties(bus: Bus) -> None:
    """Ids with control characters are dropped on receipt (bus.transport.properties); every other property
    and header is printed escaped."""
    _dead_letter(bus, OutgoingMessage(b"<x/>", message_id="evil-1", headers={"x-note": EVIL, EVIL: "key"}))
    listing = run(bus, "dlq", "list", SERVICE)
    shown = run(bus, "dlq", "show", SERVICE, "evil-1")
    for output in (listing, shown):
        assert not any(ord(char) < 0x20 and char != "\n" for char in output), output
        assert "\x7f" not in output and "\u202e" not in output
    escaped = "evil\\x1b]0;pwned\\x07\\x1b[2J\\u202e\\x0d\\x0a"
    assert f"x-note = {escaped}" in shown and f"{escaped} = key" in shown


def test_show_prints_one_dead_letter_and_its_verified_header_and_keeps_it(bus: Bus, fresh_pki) -> None:
    identity = fresh_pki.identity(CLIENT)
    header = Header.new(
        MessageKind.REQUEST, identity.participant, ServiceId.parse(SERVICE), ttl=timedelta(minutes=5)
    )
    body = sign_envelope(header, etree.fromstring(b'<p:x xmlns:p="urn:t">hi</p:x>'), identity)
    dead_letters = _dead_letter(bus, OutgoingMessage(body, message_id=header.id, correlation_id="corr-1"))

    output = run(bus, "dlq", "show", SERVICE, header.id, "--home", str(fresh_pki.home.root))
    assert f"message id:     {header.id}" in output and "correlation id: corr-1" in output
    assert "dead-lettered:  rejected, 1 time(s)" in output
    assert "envelope:       verified at " in output and f"signed by {CLIENT}" in output
    assert f'"id": "{header.id}"' in output and f'"service": "{SERVICE}"' in output
    unverified = run(bus, "dlq", "show", SERVICE, header.id)
    assert "envelope:       NOT verified" in unverified
    transport = bus.connect()
    wait_for(lambda: transport.queue_depth(dead_letters) == 1, what="the dead letter still there")

    missing = CliRunner().invoke(
        broker, ["dlq", "show", SERVICE, "nope", "--broker", bus.url, "--prefix", bus.prefix]
    )
    assert missing.exit_code == 1 and "not found: no dead letter nope" in missing.stderr


def test_purge_asks_for_yes_then_empties_the_dead_letter_queue(bus: Bus) -> None:
    dead_letters = _dead_letter(bus, OutgoingMessage(b"<x/>", message_id="poison"))
    args = ["dlq", "purge", SERVICE, "--broker", bus.url, "--prefix", bus.prefix]
    refused = CliRunner().invoke(broker, args)
    assert (
        refused.exit_code == 2
        and f"this deletes the 1 message(s) in {dead_letters}: add --yes" in refused.stderr
    )
    transport = bus.connect()
    assert transport.queue_depth(dead_letters) == 1
    assert f"1 message(s) deleted from {dead_letters}" in run(bus, "dlq", "purge", SERVICE, "--yes")
    wait_for(lambda: transport.queue_depth(dead_letters) == 0, what="an empty dead-letter queue")


@pytest.mark.parametrize("command", ["list", "show", "replay", "purge"])
def test_a_wrong_prefix_is_a_clear_error(bus: Bus, command: str) -> None:
    run(bus, "setup", "--service", SERVICE)
    bus.service(bus.connect())
    extra = ["some-id"] if command == "show" else []
    args = ["dlq", command, SERVICE, *extra, "--broker", bus.url, "--prefix", "wrongprefix"]
    result = CliRunner().invoke(broker, args)
    assert result.exit_code == 1, result.output
    assert (
        result.stderr.startswith("govbus: no queue wrongprefix.")
        and "check --prefix (now wrongprefix)" in result.stderr
    )
    assert "internal error" not in result.stderr and "TopologyError" not in result.stderr


def test_dead_letters_with_forged_headers_and_ids_are_listed_safely(bus: Bus) -> None:
    """A dead-letter queue is readable whatever a publisher put in the headers govbus reads."""
    run(bus, "setup", "--service", SERVICE)
    transport = bus.connect()
    queue = bus.service(transport)
    dead_letters = transport.topology.dead_letter_queue(queue)
    forged: list[dict[str, Any]] = [
        {"message_id": "f-1", "headers": {"x-death": "abc", "x-first-death-reason": 7}},
        {"message_id": "f-2", "headers": {"x-death": [{"count": "many", "queue": dead_letters}]}},
        {"message_id": "\x1b[2J\x1b]0;owned\x07", "headers": {"x-first-death-queue": ["q"]}},
    ]
    for properties in forged:
        forge(transport, bus.url, dead_letters, b"<x/>", **properties)
    wait_for(lambda: transport.queue_depth(dead_letters) == 3, what="three forged dead letters")
    listing = run(bus, "dlq", "list", SERVICE)
    assert "\x1b" not in listing and "\x07" not in listing
    lines = [line for line in listing.splitlines() if "malformed properties" not in line]  # the log lines
    rows = [line.split() for line in lines[1:4]]
    assert [row[:3] for row in rows] == [["f-1", "?", "1"], ["f-2", "?", "1"], ["-", "?", "1"]]
