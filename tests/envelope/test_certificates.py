"""The signer's certificate, end to end: chains to the bus CA, valid now, digitalSignature, not revoked, not a CA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization

from bus.envelope.model import utc_now
from bus.faults import FaultCode
from bus.pki.authority import KeyAlgorithm
from tests.helpers.envelopes import fault_of, header, signed
from tests.helpers.pki import CLIENT, PROVIDER, ca_signing_identity, key_usage, make_ca


def test_certificate_from_another_ca(pki):
    rogue = pki.forge_certificate(CLIENT, issuer=make_ca(pki.algorithm))
    assert fault_of(pki.verifier(), signed(rogue)) is FaultCode.UNTRUSTED_CERTIFICATE


def test_certificate_from_another_ca_of_another_type(pki):
    other = KeyAlgorithm.RSA if pki.algorithm == "ec" else KeyAlgorithm.EC
    rogue = pki.forge_certificate(CLIENT, issuer=make_ca(other), algorithm=other)
    assert fault_of(pki.verifier(), signed(rogue)) is FaultCode.UNTRUSTED_CERTIFICATE


def test_self_signed_participant_certificate(pki):
    key, cert = make_ca(pki.algorithm, name=CLIENT)
    rogue = ca_signing_identity(key, cert, CLIENT)
    data = signed(rogue, head=header(pki.identity(CLIENT)))
    assert fault_of(pki.verifier(), data) is FaultCode.UNTRUSTED_CERTIFICATE


def test_expired_certificate(pki):
    now = datetime.now(UTC)
    old = pki.forge_certificate(
        CLIENT, not_before=now - timedelta(days=30), not_after=now - timedelta(seconds=1)
    )
    assert fault_of(pki.verifier(), signed(old)) is FaultCode.EXPIRED_CERTIFICATE


def test_not_yet_valid_certificate(pki):
    now = datetime.now(UTC)
    early = pki.forge_certificate(
        CLIENT, not_before=now + timedelta(hours=1), not_after=now + timedelta(days=30)
    )
    assert fault_of(pki.verifier(), signed(early)) is FaultCode.EXPIRED_CERTIFICATE


def test_certificate_without_digital_signature(pki):
    no_sign = pki.forge_certificate(CLIENT, usage=key_usage(digital_signature=False))
    assert fault_of(pki.verifier(), signed(no_sign)) is FaultCode.CERTIFICATE_NOT_FOR_SIGNING
    no_usage = pki.forge_certificate(CLIENT, omit_key_usage=True)
    assert fault_of(pki.verifier(), signed(no_usage)) is FaultCode.CERTIFICATE_NOT_FOR_SIGNING


def test_revoked_certificate(fresh_pki):
    identity = fresh_pki.identity(PROVIDER)
    data = signed(identity)
    fresh_pki.verifier().verify(data)
    fresh_pki.authority.revoke(identity.participant)
    assert fault_of(fresh_pki.verifier(), data) is FaultCode.REVOKED_CERTIFICATE


def test_message_signed_before_revocation_still_verifies_for_auditors(fresh_pki):
    identity = fresh_pki.identity(PROVIDER)
    issued = utc_now() - timedelta(minutes=2)
    data = signed(identity, head=header(identity, now=issued))
    fresh_pki.authority.revoke(identity.participant)
    assert fault_of(fresh_pki.verifier(), data) is FaultCode.REVOKED_CERTIFICATE
    assert fresh_pki.verifier(replay=False).verify(data, at=issued).header.issued == issued


def test_reissued_certificate_after_revocation(fresh_pki):
    identity = fresh_pki.identity(PROVIDER)
    fresh_pki.authority.revoke(identity.participant)
    renewed = fresh_pki.issue(PROVIDER)
    assert renewed.certificate.serial_number != identity.certificate.serial_number
    assert fresh_pki.verifier().verify(signed(renewed)).signer.serial == renewed.certificate.serial_number
    assert fault_of(fresh_pki.verifier(), signed(identity)) is FaultCode.REVOKED_CERTIFICATE


def test_bus_ca_certificate_used_as_signer(pki):
    data = signed(pki.ca_identity())
    assert fault_of(pki.verifier(), data) is FaultCode.UNTRUSTED_CERTIFICATE


def test_sub_ca_certificate_used_as_signer(pki):
    sub_ca = pki.forge_certificate(CLIENT, ca=True)
    assert fault_of(pki.verifier(), signed(sub_ca)) is FaultCode.UNTRUSTED_CERTIFICATE


def test_participant_signed_by_a_participant(pki):
    """A certificate issued by a participant's key (not the CA) does not chain, even with the CA's name."""
    parent = pki.identity(PROVIDER)
    parent_key = serialization.load_pem_private_key(parent.key_pem, password=None)
    child = pki.forge_certificate(CLIENT, issuer=(parent_key, pki.authority.certificate))
    assert fault_of(pki.verifier(), signed(child)) is FaultCode.UNTRUSTED_CERTIFICATE
