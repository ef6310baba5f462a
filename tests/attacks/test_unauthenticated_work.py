"""Unauthenticated input reaching expensive work (issue 12, "attack it again").

Certificates are public (every envelope carries its signer's), so an outsider can send a large envelope
with a trusted certificate and a signature value nobody made. libxmlsec canonicalises and digests the
whole document before it compares the signature value; above ``SIGNED_INFO_FIRST_BYTES`` govbus first
checks the signature value over SignedInfo (a few hundred bytes), so such an envelope costs its parse
and never reaches the document's canonicalisation.
"""

from __future__ import annotations

import lxml.etree as etree
import pytest

from bus.envelope import verifier as verifier_module
from bus.envelope.verifier import SIGNED_INFO_FIRST_BYTES
from bus.faults import FaultCode
from tests.helpers.envelopes import DS, PAYLOAD_NS, fault_of, payload, signed
from tests.helpers.pki import CLIENT


def _large(identity, text: str = "x") -> bytes:
    body = payload()
    for _ in range(4):
        etree.SubElement(body, f"{{{PAYLOAD_NS}}}name").text = text * (SIGNED_INFO_FIRST_BYTES // 2)
    return signed(identity, body=body)


def _with_signature_value_of(data: bytes, other: bytes) -> bytes:
    """``data`` carrying the (genuine, well-formed) SignatureValue of another envelope."""
    value = etree.fromstring(other).find(f"{DS}Signature/{DS}SignatureValue").text
    root = etree.fromstring(data)
    root.find(f"{DS}Signature/{DS}SignatureValue").text = value
    return etree.tostring(root)


@pytest.fixture
def digests(monkeypatch) -> list[int]:
    """Counts the calls of libxmlsec's full check (digest of the whole document, then the value)."""
    calls: list[int] = []
    original = verifier_module.verify_signature_value

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(verifier_module, "verify_signature_value", counting)
    return calls


def test_a_large_envelope_with_a_signature_nobody_made_is_refused_before_its_digest(pki, digests):
    identity = pki.identity(CLIENT)
    forged = _with_signature_value_of(_large(identity, "y"), signed(identity))
    assert len(forged) > SIGNED_INFO_FIRST_BYTES
    assert fault_of(pki.verifier(), forged) is FaultCode.INVALID_SIGNATURE
    assert digests == []


def test_a_large_genuine_envelope_verifies_through_both_checks(pki, digests):
    data = _large(pki.identity(CLIENT))
    assert pki.verifier().verify(data).payload.findtext(f"{{{PAYLOAD_NS}}}ice") == "001525987000088"
    assert digests == [1]


def test_a_large_envelope_whose_body_was_changed_is_refused_by_the_digest(pki, digests):
    data = _large(pki.identity(CLIENT))
    changed = data.replace(b"xxxx", b"xxxy", 1)
    assert fault_of(pki.verifier(), changed) is FaultCode.INVALID_SIGNATURE
    assert digests == [1]


def test_a_signature_value_that_is_not_base64_is_refused(pki):
    data = _large(pki.identity(CLIENT))
    root = etree.fromstring(data)
    root.find(f"{DS}Signature/{DS}SignatureValue").text = "%%%"
    assert fault_of(pki.verifier(), etree.tostring(root)) is FaultCode.INVALID_SIGNATURE
