"""Notifications: fan-out to every granted subscriber, signed receipts back, nothing lost while one is down."""

from __future__ import annotations

import time
import uuid

from bus.envelope import Header, MessageKind
from bus.ids import ParticipantId
from bus.transport.base import OutgoingMessage
from sdk.contract import encode
from tests.sdk.echo import FUNDS, NOTE, NOTIFIER, OUTSIDER, Ping, Pong, fund


def test_notify_reaches_three_subscribers_and_returns_their_signed_receipts(bus):
    handled = {}
    for participant in FUNDS:
        app, seen = fund(participant)
        handled[participant] = seen
        bus.start(app)
    result = bus.client(NOTIFIER).notify(NOTE, Ping(text="deceased AB123456"), timeout=15)
    assert result.missing == []
    assert sorted(str(r.subscriber) for r in result.receipts) == sorted(FUNDS)
    for receipt in result.receipts:
        assert receipt.payload == Pong(text="deceased AB123456", by=str(receipt.subscriber))
        assert receipt.header.kind is MessageKind.RECEIPT
        assert receipt.header.correlation_id == result.notification_id
    assert all(seen == ["deceased AB123456"] for seen in handled.values())


def test_a_subscriber_that_is_down_gets_the_notification_when_it_starts(bus):
    received = []
    bus.start(fund(FUNDS[0])[0])
    bus.start(fund(FUNDS[1])[0])
    late_app, late_seen = fund(FUNDS[2])
    notifier = bus.client(NOTIFIER)
    notifier.node.inbox().register(NOTE, lambda receipt, ctx: received.append(receipt))
    result = notifier.notify(NOTE, Ping(text="while down"), timeout=5)
    assert result.missing == [ParticipantId.parse(FUNDS[2])]
    bus.start(late_app)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and str(FUNDS[2]) not in {str(r.subscriber) for r in received}:
        time.sleep(0.05)
    assert late_seen == ["while down"]
    assert str(FUNDS[2]) in {str(r.subscriber) for r in received}


def test_a_notification_from_a_participant_that_does_not_provide_the_service_is_refused(bus):
    app, seen = fund(FUNDS[0])
    bus.start(app)
    impostor = bus.node(OUTSIDER)
    header = Header.new(MessageKind.NOTIFICATION, impostor.participant, NOTE.service_of(NOTIFIER))
    raw = impostor.sign(header, encode(Ping(text="fake death"), NOTE.schema))
    bus.transport.notify(str(NOTE.service_of(NOTIFIER)), OutgoingMessage(raw, message_id=str(uuid.uuid4())))
    genuine = bus.client(NOTIFIER).notify(NOTE, Ping(text="real"), timeout=10)
    assert [str(r.subscriber) for r in genuine.receipts] == [FUNDS[0]]
    assert seen == ["real"]


def test_a_redelivered_notification_takes_effect_once(bus):
    app, seen = fund(FUNDS[0])
    bus.start(app)
    node = bus.node(NOTIFIER)
    header = Header.new(MessageKind.NOTIFICATION, node.participant, NOTE.service_of(NOTIFIER))
    raw = node.sign(header, encode(Ping(text="once"), NOTE.schema))
    for _ in range(3):
        bus.transport.notify(str(NOTE.service_of(NOTIFIER)), OutgoingMessage(raw, message_id=header.id))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not seen:
        time.sleep(0.05)
    time.sleep(0.5)
    assert seen == ["once"]


def test_notify_many_publishes_signed_logged_notifications_whose_receipts_reach_the_inbox(bus):
    received = []
    apps = [fund(participant) for participant in FUNDS]
    for app, _ in apps:
        bus.start(app)
    notifier = bus.client(NOTIFIER)
    notifier.node.inbox().register(NOTE, lambda receipt, ctx: received.append(receipt))
    texts = [f"deceased {n}" for n in range(5)]
    logged_before = notifier.node.recorder.head()[0]
    ids = notifier.notify_many(NOTE, [Ping(text=t) for t in texts], window=2, chunk=2)
    assert len(set(ids)) == 5
    assert notifier.node.recorder.head()[0] >= logged_before + 5  # logged before publishing
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(received) < 5 * len(FUNDS):
        time.sleep(0.05)
    assert sorted((str(r.subscriber), r.header.correlation_id) for r in received) == sorted(
        (fund_id, message_id) for fund_id in FUNDS for message_id in ids
    )
    assert all(sorted(seen) == sorted(texts) for _, seen in apps)
