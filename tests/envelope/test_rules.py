"""Sender = signer, replay, the time window, tampering, schema; and comments that are not data."""

from __future__ import annotations

import uuid
from datetime import timedelta

import lxml.etree as etree
import pytest

from bus.envelope import VerificationPolicy
from bus.envelope.codec import build_envelope
from bus.envelope.model import utc_now
from bus.envelope.signer import sign_tree
from bus.faults import FaultCode
from bus.ids import ParticipantId
from tests.helpers.envelopes import ENV, PAYLOAD_NS, fault_of, header, payload, signed, to_bytes
from tests.helpers.pki import CLIENT, PROVIDER

ICE = f"{{{PAYLOAD_NS}}}ice"


# Sender and signer.


def test_client_is_not_the_signer(pki):
    """A valid signature by PROVIDER over a message claiming to come from CLIENT."""
    signer = pki.identity(PROVIDER)
    root = build_envelope(header(pki.identity(CLIENT)), payload())
    data = to_bytes(sign_tree(root, signer))
    assert fault_of(pki.verifier(), data) is FaultCode.SENDER_MISMATCH


def test_client_is_a_subsystem_of_the_signer(pki):
    member = pki.forge_certificate("MA/GOV/MEF")
    root = build_envelope(header(pki.identity(CLIENT)), payload())
    data = to_bytes(sign_tree(root, member))
    assert fault_of(pki.verifier(), data) is FaultCode.SENDER_MISMATCH


# Replay.


def test_replayed_message(pki):
    data = signed(pki.identity(CLIENT))
    verifier = pki.verifier()
    verifier.verify(data)
    assert fault_of(verifier, data) is FaultCode.REPLAY


def test_new_message_reusing_an_id(pki):
    identity = pki.identity(CLIENT)
    message_id = str(uuid.uuid4())
    verifier = pki.verifier()
    verifier.verify(signed(identity, head=header(identity, message_id=message_id)))
    again = signed(identity, head=header(identity, message_id=message_id), body=payload(ice="1"))
    assert fault_of(verifier, again) is FaultCode.REPLAY


def test_refused_message_does_not_burn_its_id(pki):
    identity = pki.identity(CLIENT)
    message_id = str(uuid.uuid4())
    data = signed(identity, head=header(identity, message_id=message_id))
    verifier = pki.verifier()
    assert (
        fault_of(verifier, data.replace(b"001525987000088", b"001525987000089"))
        is FaultCode.INVALID_SIGNATURE
    )
    verifier.verify(data)


# Time window.


def test_expired_message(pki):
    identity = pki.identity(CLIENT)
    stale = header(identity, now=utc_now() - timedelta(minutes=10), ttl=timedelta(seconds=60))
    assert fault_of(pki.verifier(), signed(identity, head=stale)) is FaultCode.EXPIRED


def test_expiry_within_clock_skew_is_accepted(pki):
    identity = pki.identity(CLIENT)
    recent = header(identity, now=utc_now() - timedelta(seconds=70), ttl=timedelta(seconds=60))
    assert pki.verifier().verify(signed(identity, head=recent))
    strict = pki.verifier(policy=VerificationPolicy(clock_skew=timedelta(0)))
    assert fault_of(strict, signed(identity, head=recent)) is FaultCode.EXPIRED


def test_issued_in_the_future(pki):
    identity = pki.identity(CLIENT)
    future = header(identity, now=utc_now() + timedelta(minutes=5))
    assert fault_of(pki.verifier(), signed(identity, head=future)) is FaultCode.ISSUED_IN_FUTURE


def test_issued_slightly_ahead_within_clock_skew(pki):
    identity = pki.identity(CLIENT)
    ahead = header(identity, now=utc_now() + timedelta(seconds=10))
    assert pki.verifier().verify(signed(identity, head=ahead))


def test_expires_before_issued(pki):
    identity = pki.identity(CLIENT)
    backwards = header(identity, ttl=timedelta(seconds=-1))
    data = to_bytes(sign_tree(build_envelope(backwards, payload()), identity))  # govbus refuses to sign it
    assert fault_of(pki.verifier(), data) is FaultCode.EXPIRED


def test_lifetime_longer_than_allowed(pki):
    identity = pki.identity(CLIENT)
    forever = header(identity, ttl=timedelta(days=31))
    data = to_bytes(sign_tree(build_envelope(forever, payload()), identity))  # govbus refuses to sign it
    assert fault_of(pki.verifier(), data) is FaultCode.EXPIRED
    verifier = pki.verifier(policy=VerificationPolicy(max_lifetime=timedelta(days=40)))
    assert verifier.verify(data)


def test_auditor_judges_at_another_moment(pki):
    identity = pki.identity(CLIENT)
    data = signed(identity)
    assert fault_of(pki.verifier(), data, at=utc_now() + timedelta(hours=1)) is FaultCode.EXPIRED
    assert fault_of(pki.verifier(), data, at=utc_now() - timedelta(hours=1)) is FaultCode.EXPIRED_CERTIFICATE


# Tampering after signing.


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("service", "MA/GOV/CNSS/attestations/cnss.attestation/v2"),
        ("purpose", "marketing"),
        ("kind", "notification"),
        ("id", "00000000-0000-4000-8000-000000000000"),
        ("client", PROVIDER),
    ],
)
def test_tampered_header_value(pki, field, value):
    identity = pki.identity(CLIENT)
    root = etree.fromstring(signed(identity))
    root[0].find(ENV + field).text = value
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_SIGNATURE


def test_added_optional_header_field(pki):
    root = etree.fromstring(signed(pki.identity(CLIENT)))
    root[0].find(ENV + "expires").addnext(etree.Element(ENV + "correlationId"))
    root[0].find(ENV + "correlationId").text = str(uuid.uuid4())
    root[0].find(ENV + "purpose").addprevious(etree.Element(ENV + "userId"))
    root[0].find(ENV + "userId").text = "someone-else"
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_SIGNATURE


def test_tampered_payload(pki):
    data = signed(pki.identity(CLIENT))
    assert (
        fault_of(pki.verifier(), data.replace(b"Atlas Travaux", b"Atlas Travaus"))
        is FaultCode.INVALID_SIGNATURE
    )


def test_added_payload_attribute_and_namespace(pki):
    root = etree.fromstring(signed(pki.identity(CLIENT)))
    root[1][0].set("status", "approved")
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_SIGNATURE


def test_whitespace_added_inside_signed_text(pki):
    data = signed(pki.identity(CLIENT))
    assert fault_of(pki.verifier(), data.replace(b"<Body>", b"<Body>\n  ")) is FaultCode.INVALID_SIGNATURE


# Comments are not data: removed from the tree, ignored by exc-C14N.


def test_comment_inserted_in_client_after_signing(pki):
    """``MA/GOV/A<!---->B`` still verifies, and the client read is the whole text MA/GOV/AB."""
    identity = pki.forge_certificate("MA/GOV/AB")
    data = signed(identity).replace(b"<client>MA/GOV/AB</client>", b"<client>MA/GOV/A<!---->B</client>")
    assert b"MA/GOV/A<!---->B" in data
    assert etree.fromstring(data)[0].find(ENV + "client").text == "MA/GOV/A"
    verified = pki.verifier().verify(data)
    assert verified.header.client == ParticipantId.parse("MA/GOV/AB")
    assert verified.root[0].find(ENV + "client").text == "MA/GOV/AB"


def test_comment_cannot_make_the_client_someone_else(pki):
    """A signer MA/GOV/A cannot hide a B behind a comment to pose as MA/GOV/AB, nor the reverse."""
    signer = pki.forge_certificate("MA/GOV/A")
    other = pki.forge_certificate("MA/GOV/AB")
    root = build_envelope(header(other), payload())
    root[0].find(ENV + "client").text = "MA/GOV/A"
    root[0].find(ENV + "client").append(etree.Comment(""))
    root[0].find(ENV + "client")[0].tail = "B"
    signed_data = to_bytes(sign_tree(root, signer))
    assert b"<client>MA/GOV/A<!---->B</client>" in signed_data
    assert fault_of(pki.verifier(), signed_data) is FaultCode.SENDER_MISMATCH


def test_comment_inserted_in_payload_after_signing(pki):
    data = signed(pki.identity(CLIENT)).replace(b"001525987000088", b"0015259<!-- -->87000088")
    assert b"<!-- -->" in data
    verified = pki.verifier().verify(data)
    assert verified.payload.find(ICE).text == "001525987000088"
    assert verified.payload.findtext(ICE) == "001525987000088"


def test_comments_between_elements_and_outside_the_root(pki):
    data = signed(pki.identity(CLIENT))
    data = b"<!-- before -->" + data.replace(b"</Header>", b"<!-- note --></Header>") + b"<!-- after -->"
    verified = pki.verifier().verify(data)
    assert verified.root.getprevious() is None and verified.root.getnext() is None
    assert [etree.QName(e).localname for e in verified.root] == ["Header", "Body", "Signature"]


def test_comment_inside_the_signature(pki):
    data = signed(pki.identity(CLIENT))
    data = data.replace(b"<ds:SignedInfo>", b"<ds:SignedInfo><!-- x -->").replace(
        b"</ds:DigestValue>", b"<!---->" + b"</ds:DigestValue>"
    )
    assert pki.verifier().verify(data)


def test_processing_instruction_signed_in_the_payload(pki):
    """A signer's PI would split the text other readers see: refused even though the signature covers it."""
    identity = pki.identity(CLIENT)
    body = payload()
    body.find(ICE).text = "1"
    body.find(ICE).append(etree.ProcessingInstruction("x"))
    body.find(ICE)[0].tail = "000000"
    data = signed(identity, body=body)
    assert b"<?x" in data
    assert fault_of(pki.verifier(), data) is FaultCode.FORBIDDEN_XML


def test_processing_instruction_inserted_after_signing(pki):
    data = signed(pki.identity(CLIENT)).replace(b"<Body>", b"<Body><?x y?>")
    assert fault_of(pki.verifier(), data) is FaultCode.FORBIDDEN_XML


# Schema: properly signed envelopes whose content breaks the XSD.


def _signed_after(pki, change) -> bytes:
    identity = pki.identity(CLIENT)
    root = build_envelope(header(identity), payload())
    change(root)
    return to_bytes(sign_tree(root, identity))


def _set(name: str, value: str):
    def change(root):
        root[0].find(ENV + name).text = value

    return change


def _remove(name: str):
    def change(root):
        root[0].remove(root[0].find(ENV + name))

    return change


SCHEMA_VIOLATIONS = {
    "missing id": _remove("id"),
    "missing kind": _remove("kind"),
    "missing client": _remove("client"),
    "missing service": _remove("service"),
    "missing issued": _remove("issued"),
    "missing expires": _remove("expires"),
    "missing protocolVersion": _remove("protocolVersion"),
    "bad UUID": _set("id", "not-a-uuid"),
    "upper-case UUID": _set("id", str(uuid.uuid4()).upper()),
    "unknown kind": _set("kind", "command"),
    "kind with spaces": _set("kind", " request"),
    "bad client": _set("client", "ma/gov/x"),
    "service without version": _set("service", "MA/GOV/CNSS/cert"),
    "timestamp without Z": _set("issued", "2026-11-21T10:15:30.123"),
    "timestamp with offset": _set("issued", "2026-11-21T10:15:30.123+01:00"),
    "timestamp without millis": _set("issued", "2026-11-21T10:15:30Z"),
    "impossible date": _set("issued", "2026-13-45T10:15:30.123Z"),
    "non-ASCII digits": _set("issued", "٢٠٢٦-11-21T10:15:30.123Z"),
    "protocol 2.0": _set("protocolVersion", "2.0"),
    "empty purpose": _set("purpose", ""),
    "long purpose": _set("purpose", "x" * 257),
    "fields out of order": lambda root: root[0].append(root[0].find(ENV + "id")),
    "unknown header field": lambda root: etree.SubElement(root[0], ENV + "priority").__setattr__("text", "1"),
    "foreign header field": lambda root: etree.SubElement(root[0], "{urn:x}extra"),
    "request hash not hex": lambda root: (
        root[0]
        .find(ENV + "protocolVersion")
        .addprevious(etree.Element(ENV + "requestHash", algorithm="sha256"))
    ),
    "two payloads": lambda root: root[1].append(payload()),
    "empty body": lambda root: root[1].remove(root[1][0]),
    "payload in the envelope namespace": lambda root: root[1][0].__setattr__("tag", ENV + "Payload"),
    "payload without namespace": lambda root: root[1][0].__setattr__("tag", "payload"),
    "text in body": lambda root: setattr(root[1], "text", "loose text"),
    "attribute on envelope": lambda root: root.set("Id", "e"),
    "missing body": lambda root: root.remove(root[1]),
    "missing header": lambda root: root.remove(root[0]),
}


@pytest.mark.parametrize("change", SCHEMA_VIOLATIONS.values(), ids=SCHEMA_VIOLATIONS.keys())
def test_schema_violation(pki, change):
    assert fault_of(pki.verifier(), _signed_after(pki, change)) is FaultCode.SCHEMA_VIOLATION


def test_whitespace_around_timestamp_is_refused(pki):
    """xs:dateTime collapses whitespace, the wire format does not: a padded time is a schema violation."""
    identity = pki.identity(CLIENT)
    root = build_envelope(header(identity), payload())
    issued = root[0].find(ENV + "issued")
    issued.text = f" {issued.text}\n"
    assert fault_of(pki.verifier(), to_bytes(sign_tree(root, identity))) is FaultCode.SCHEMA_VIOLATION
