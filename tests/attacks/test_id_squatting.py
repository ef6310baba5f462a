"""A participant cannot make another participant refuse a third one's message by reusing its id.

Found attacking again (issue 12): a provider's idempotency store (``state.sqlite``, shared by all the
services of a participant) was keyed by message id alone. A co-subscriber that received a notification
(so it knows its id) could send the late subscriber a signed request under that id first; the late
subscriber's store then held the id with other content, and the genuine notification was refused as
``Client.Replay``: the pension fund never suspended the pension. The store is now keyed by sender and id,
so ids chosen by one participant cannot collide with another's.
"""

from __future__ import annotations

from bus.envelope import Header, MessageKind
from bus.ids import ParticipantId
from bus.transport import OutgoingMessage
from sdk.contract import encode
from sdk.testing import TestBus
from tests.attacks.conftest import wait_until
from tests.sdk.echo import ECHO, FUNDS, NOTE, NOTIFIER, EchoService, Ping, fund

ATTACKER, LATE = FUNDS[0], FUNDS[1]


def test_a_co_subscriber_cannot_squat_a_notifications_id_at_another_subscriber(tmp_path, broker_url) -> None:
    with TestBus(tmp_path / "bus", broker=broker_url) as bus:
        bus.publish(NOTE, provider=NOTIFIER, clients=[ATTACKER, LATE])
        bus.publish(ECHO, provider=LATE, clients=[ATTACKER])
        bus.start(fund(ATTACKER)[0])
        bus.start(EchoService(LATE).app)  # the late subscriber's teleservice runs; its subscriber is down
        late_app, late_seen = fund(LATE)
        notified = bus.client(NOTIFIER).notify(NOTE, Ping(text="deceased AB123456"), timeout=5)
        assert notified.missing == [ParticipantId.parse(LATE)]

        attacker = bus.node(ATTACKER)
        squat = Header.new(
            MessageKind.REQUEST,
            attacker.participant,
            ECHO.service_of(LATE),
            message_id=notified.notification_id,
        )
        raw = attacker.sign(squat, encode(Ping(text="squat"), ECHO.schema))
        reply = bus.transport.request(
            str(ECHO.service_of(LATE)), OutgoingMessage(raw, message_id=squat.id), timeout=20
        )
        assert attacker.answer_verifier.verify(reply.body).header.kind is MessageKind.RESPONSE

        bus.start(late_app)
        wait_until(lambda: late_seen, 20, "the late subscriber to handle the notification")
        assert late_seen == ["deceased AB123456"]
