"""The signed dataSubject header field: carried, validated, and bound by the signature."""

from __future__ import annotations

import pytest

from bus.envelope import DataSubject, Header, MessageKind, SubjectKind
from bus.envelope.codec import header_xml
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId
from tests.helpers.envelopes import SERVICE, fault_of, header, signed
from tests.helpers.pki import CLIENT

ICE = "ICE:001525987000088"


def test_the_subject_round_trips(pki):
    identity = pki.identity(CLIENT)
    head = header(identity, data_subject=ICE)
    verified = pki.verifier().verify(signed(identity, head=head))
    assert verified.header.data_subject == ICE
    assert verified.header.as_json()["dataSubject"] == ICE


def test_an_envelope_without_the_field_still_verifies(pki):
    identity = pki.identity(CLIENT)
    data = signed(identity)
    assert b"dataSubject" not in data
    assert pki.verifier().verify(data).header.data_subject is None


def test_a_forged_subject_breaks_the_signature(pki):
    data = signed(pki.identity(CLIENT), head=header(pki.identity(CLIENT), data_subject=ICE))
    forged = data.replace(b"ICE:001525987000088", b"ICE:001525987000099")
    assert forged != data
    assert fault_of(pki.verifier(), forged) is FaultCode.INVALID_SIGNATURE


def test_a_removed_subject_breaks_the_signature(pki):
    data = signed(pki.identity(CLIENT), head=header(pki.identity(CLIENT), data_subject=ICE))
    removed = data.replace(f"<dataSubject>{ICE}</dataSubject>".encode(), b"")
    assert removed != data
    assert fault_of(pki.verifier(), removed) is FaultCode.INVALID_SIGNATURE


def test_an_added_subject_breaks_the_signature(pki):
    data = signed(pki.identity(CLIENT))
    added = data.replace(b"</purpose>", f"</purpose><dataSubject>{ICE}</dataSubject>".encode())
    assert added != data
    assert fault_of(pki.verifier(), added) is FaultCode.INVALID_SIGNATURE


def test_a_malformed_subject_breaks_the_schema(pki):
    identity = pki.identity(CLIENT)
    data = signed(identity, head=header(identity, data_subject="PASSPORT:X1"))
    assert fault_of(pki.verifier(), data) is FaultCode.SCHEMA_VIOLATION


def test_the_field_sits_after_purpose():
    head = Header.new(
        MessageKind.REQUEST, ParticipantId.parse(CLIENT), SERVICE, purpose="p", data_subject=ICE
    )
    text = header_xml(head)
    assert text.index("<purpose>") < text.index("<dataSubject>") < text.index("<issued>")


@pytest.mark.parametrize(
    ("text", "kind", "identifier"),
    [("CIN:AB123456", SubjectKind.CIN, "AB123456"), (ICE, SubjectKind.ICE, "001525987000088")],
)
def test_parse(text, kind, identifier):
    subject = DataSubject.parse(text)
    assert (subject.kind, subject.identifier, str(subject)) == (kind, identifier, text)


@pytest.mark.parametrize("text", ["AB123456", "CIN:", "CIN:ab1", "ICE:12345", "NIF:123", "CIN:AB12345678"])
def test_parse_refuses(text):
    with pytest.raises(Fault) as refused:
        DataSubject.parse(text)
    assert refused.value.code is FaultCode.INVALID_IDENTIFIER
