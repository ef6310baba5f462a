"""``govbus broker``: topology setup, dead-letter listing and replay, on both brokers."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from bus.cli.broker import broker
from bus.transport import OutgoingMessage
from tests.transport.conftest import NOTICE, SERVICE, Bus, wait_for
from tests.transport.forge import forge


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
