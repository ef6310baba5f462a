"""Sign then verify: every algorithm, every header field, payload text exactly as sent."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone

import lxml.etree as etree
import pytest

from bus.envelope import EnvelopeVerifier, Header, MessageKind, sign_envelope
from bus.envelope.codec import payload_of
from bus.envelope.model import format_timestamp, parse_timestamp, utc_now
from bus.envelope.signer import sign_tree
from bus.ids import ParticipantId
from tests.helpers.envelopes import PAYLOAD_NS, SERVICE, header, payload, signed
from tests.helpers.pki import CLIENT, PROVIDER


def test_round_trip(pki):
    identity = pki.identity(CLIENT)
    head = header(identity, user_id="agent-42", correlation_id=str(uuid.uuid4()), request_hash="ab" * 32)
    data = signed(identity, head=head)
    verified = pki.verifier().verify(data)
    assert verified.header == head
    assert verified.signer.participant == ParticipantId.parse(CLIENT)
    assert verified.raw == data
    assert verified.digest == hashlib.sha256(data).hexdigest()
    assert etree.QName(verified.payload).localname == "AttestationRequest"
    assert verified.payload.findtext(f"{{{PAYLOAD_NS}}}ice") == "001525987000088"


def test_signature_algorithm_follows_the_key(pki):
    method = "rsa-sha256" if pki.algorithm == "rsa" else "ecdsa-sha256"
    assert f"xmldsig-more#{method}".encode() in signed(pki.identity(PROVIDER))


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind(pki, kind):
    identity = pki.identity(PROVIDER)
    head = header(identity, kind=kind)
    assert pki.verifier().verify(signed(identity, head=head)).header.kind is kind


def test_payload_text_survives_exactly(pki):
    identity = pki.identity(CLIENT)
    text = "A & B < C > D \"quoted\" 'single' شركة الأطلس ]]> \t tab"
    data = signed(identity, body=payload(name=text))
    verified = pki.verifier().verify(data)
    assert verified.payload.findtext(f"{{{PAYLOAD_NS}}}name") == text


def test_a_payload_already_in_a_tree_is_copied(pki):
    identity = pki.identity(CLIENT)
    holder = etree.Element("holder")
    holder.append(payload())
    data = signed(identity, body=holder[0])
    assert len(holder) == 1
    assert pki.verifier().verify(data).payload.findtext(f"{{{PAYLOAD_NS}}}ice") == "001525987000088"


def test_signer_refuses_to_sign_for_someone_else(pki):
    with pytest.raises(ValueError):
        sign_envelope(header(pki.identity(CLIENT)), payload(), pki.identity(PROVIDER))


def test_auditor_mode_skips_replay_and_judges_time_at_a_moment(pki):
    identity = pki.identity(CLIENT)
    issued = utc_now() - timedelta(minutes=3)
    data = signed(identity, head=header(identity, now=issued))
    verifier = pki.verifier(replay=False)
    for _ in range(2):
        assert verifier.verify(data, at=issued + timedelta(seconds=1)).header.issued == issued
    replaying = pki.verifier()
    replaying.verify(data, at=issued)
    replaying.verify(data, at=issued)


def test_verifier_without_replay_cache_accepts_a_repeat(pki):
    data = signed(pki.identity(CLIENT))
    verifier = EnvelopeVerifier(pki.trust())
    verifier.verify(data)
    verifier.verify(data)


def test_timestamps_round_trip():
    moment = datetime(2026, 11, 21, 10, 15, 30, 123000, tzinfo=UTC)
    assert format_timestamp(moment) == "2026-11-21T10:15:30.123Z"
    assert parse_timestamp("2026-11-21T10:15:30.123Z") == moment
    assert format_timestamp(moment.replace(microsecond=123999)) == "2026-11-21T10:15:30.123Z"
    assert format_timestamp(moment.astimezone(timezone(timedelta(hours=1)))) == "2026-11-21T10:15:30.123Z"
    assert format_timestamp(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02T00:00:00.000Z"
    assert utc_now().microsecond % 1000 == 0


def test_header_json():
    head = Header.new(MessageKind.REQUEST, ParticipantId.parse(CLIENT), SERVICE, message_id="x")
    data = head.as_json()
    assert data["client"] == CLIENT and data["service"] == str(SERVICE) and "userId" not in data


def test_sign_tree_returns_the_signed_tree(pki):
    identity = pki.identity(CLIENT)
    from bus.envelope.codec import build_envelope

    root = sign_tree(build_envelope(header(identity), payload()), identity)
    assert etree.QName(root[-1]).localname == "Signature"
    assert etree.QName(payload_of(root)).localname == "AttestationRequest"


def test_header_text_survives_exactly(pki):
    identity = pki.identity(CLIENT)
    purpose = "loi 09-08 & art. 4 <a> ]]> \"q\" 'a' \r\n\ttab \u0645\u063a\u0631\u0628"
    head = header(identity, purpose=purpose, user_id="agent&<>")
    verified = pki.verifier().verify(signed(identity, head=head))
    assert verified.header.purpose == purpose
    assert verified.header.user_id == "agent&<>"


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\ufffe", "a\x0bb"])
def test_header_text_that_xml_cannot_carry(pki, bad):
    identity = pki.identity(CLIENT)
    with pytest.raises(ValueError):
        sign_envelope(header(identity, purpose=bad), payload(), identity)


def test_signing_leaves_the_callers_payload_alone(pki):
    identity = pki.identity(CLIENT)
    body = payload()
    first = signed(identity, body=body)
    assert body.getparent() is None
    holder = etree.Element("holder")
    holder.append(body)
    body.tail = "tail text"
    second = signed(identity, body=body)
    assert body.getparent() is holder and body.tail == "tail text"
    for data in (first, second):
        assert pki.verifier().verify(data).payload.tail is None
