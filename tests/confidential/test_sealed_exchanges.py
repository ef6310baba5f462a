"""Confidential services end to end: every payload on the wire is encrypted, every party reads its own."""

from __future__ import annotations

import sqlite3

import pytest

from bus.envelope.encryption import recipients_of
from bus.faults import FaultCode
from bus.ids import ParticipantId
from bus.pki.keyfile import PASSPHRASE_ENV
from bus.pki.request import make_request
from bus.xml import parse_untrusted
from sdk.errors import CallFailed
from tests.sdk.echo import CLIENT, ECHO, FUNDS, NOTE, NOTIFIER, PROVIDER, EchoService, Ping, Pong, fund

CIN = "AB123456"


def _logged(bus, participant: str) -> list[bytes]:
    path = bus.home.participant_dir(ParticipantId.parse(participant)) / "messages.sqlite"
    with sqlite3.connect(path) as db:
        return [bytes(row[0]) for row in db.execute("SELECT raw FROM records WHERE raw IS NOT NULL")]


def test_a_confidential_call_is_answered_and_neither_message_carries_the_plaintext(bus):
    service = EchoService()
    bus.start(service.app)
    with bus.client(CLIENT) as client:
        answer = client.call(PROVIDER, ECHO, Ping(text=f"death of {CIN}"), purpose="test", timeout=15)
    assert answer == Pong(text=f"death of {CIN}", by=f"{PROVIDER} for {CLIENT} (test)")
    assert service.seen == [f"death of {CIN}"]
    for participant in (CLIENT, PROVIDER):
        records = _logged(bus, participant)
        assert len(records) >= 2
        assert all(b"EncryptedData" in record and CIN.encode() not in record for record in records)


def test_a_confidential_notification_is_sealed_once_for_every_subscriber_and_the_sender(bus):
    seen = {}
    for participant in FUNDS:
        app, seen[participant] = fund(participant)
        bus.start(app)
    notifier = bus.client(NOTIFIER)
    result = notifier.notify(NOTE, Ping(text=f"deceased {CIN}"), timeout=15)
    assert result.missing == []
    assert sorted(str(r.subscriber) for r in result.receipts) == sorted(FUNDS)
    assert all(r.payload == Pong(text=f"deceased {CIN}", by=str(r.subscriber)) for r in result.receipts)
    assert all(values == [f"deceased {CIN}"] for values in seen.values())
    sent = [r for r in _logged(bus, NOTIFIER) if b"<kind>notification</kind>" in r]
    assert len(sent) == 1 and CIN.encode() not in sent[0]
    body = parse_untrusted(sent[0])[1][0]
    assert sorted(recipients_of(body)) == sorted([*FUNDS, NOTIFIER])


def test_a_caller_whose_keys_it_made_itself_and_encrypted_at_rest_calls_a_confidential_service(
    bus, monkeypatch
):
    client_id = ParticipantId.parse(CLIENT)
    files = make_request(bus.home, client_id, passphrase=b"at rest", force=True)
    bus.authority.issue_from_csr(client_id, files.csr.read_bytes(), force=True)
    bus.authority.issue_from_csr(client_id, files.encryption_csr.read_bytes(), encryption=True)
    monkeypatch.setenv(PASSPHRASE_ENV, "at rest")
    bus.start(EchoService().app)
    with bus.client(CLIENT) as client:
        answer = client.call(PROVIDER, ECHO, Ping(text="own keys"), purpose="test", timeout=15)
    assert answer.text == "own keys"


def test_nothing_is_sealed_for_a_subscriber_whose_encryption_certificate_was_revoked(bus):
    bus.authority.revoke(ParticipantId.parse(FUNDS[0]))
    notifier = bus.client(NOTIFIER)
    with pytest.raises(CallFailed) as refused:
        notifier.notify(NOTE, Ping(text=f"deceased {CIN}"), timeout=2)
    assert refused.value.code is FaultCode.REVOKED_CERTIFICATE
    assert not [r for r in _logged(bus, NOTIFIER) if b"<kind>notification</kind>" in r]


def test_a_subscriber_without_an_encryption_certificate_stops_a_notification_before_it_is_signed(bus):
    bus.home.participant_encryption_cert(ParticipantId.parse(FUNDS[1])).unlink()
    with pytest.raises(CallFailed) as refused:
        bus.client(NOTIFIER).notify_many(NOTE, [Ping(text=f"deceased {CIN}")])
    assert refused.value.code is FaultCode.NO_ENCRYPTION_CERTIFICATE
