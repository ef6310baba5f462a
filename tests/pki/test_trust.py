"""The trust store: chain to the bus CA, validity, key usage, CA certificates, revocation, the CRL itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId
from bus.pki import TrustStore
from bus.pki import trust as trust_module
from tests.helpers.pki import CLIENT, PROVIDER, key_usage, make_ca


def _code(call) -> FaultCode:
    with pytest.raises(Fault) as caught:
        call()
    return caught.value.code


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def test_issued_certificate_is_trusted(pki):
    identity = pki.identity(CLIENT)
    signer = pki.trust().check(identity.certificate_der)
    assert signer.participant == ParticipantId.parse(CLIENT)
    assert signer.serial == identity.certificate.serial_number
    assert signer.der == identity.certificate_der


def test_certificate_from_another_ca_with_the_same_name(pki):
    rogue = pki.forge_certificate(CLIENT, issuer=make_ca(pki.algorithm))
    assert rogue.certificate.issuer == pki.authority.certificate.subject
    assert _code(lambda: pki.trust().check(rogue.certificate_der)) is FaultCode.UNTRUSTED_CERTIFICATE


def test_expired_and_not_yet_valid(pki):
    now = datetime.now(UTC)
    expired = pki.forge_certificate(
        CLIENT, not_before=now - timedelta(days=10), not_after=now - timedelta(days=1)
    )
    future = pki.forge_certificate(
        CLIENT, not_before=now + timedelta(days=1), not_after=now + timedelta(days=10)
    )
    trust = pki.trust()
    assert _code(lambda: trust.check(expired.certificate_der)) is FaultCode.EXPIRED_CERTIFICATE
    assert _code(lambda: trust.check(future.certificate_der)) is FaultCode.EXPIRED_CERTIFICATE
    later = trust.check(future.certificate_der, at=now + timedelta(days=5))
    assert later.participant == future.participant
    before_the_ca = now - timedelta(days=5)
    assert (
        _code(lambda: trust.check(expired.certificate_der, at=before_the_ca)) is FaultCode.EXPIRED_CERTIFICATE
    )


def test_validity_is_checked_on_every_call_not_cached(pki):
    identity = pki.identity(CLIENT)
    trust = pki.trust()
    trust.check(identity.certificate_der)
    later = identity.certificate.not_valid_after_utc + timedelta(seconds=1)
    assert _code(lambda: trust.check(identity.certificate_der, at=later)) is FaultCode.EXPIRED_CERTIFICATE


def test_certificate_without_digital_signature(pki):
    encipher = pki.forge_certificate(CLIENT, usage=key_usage(digital_signature=False))
    bare = pki.forge_certificate(CLIENT, omit_key_usage=True)
    trust = pki.trust()
    assert _code(lambda: trust.check(encipher.certificate_der)) is FaultCode.CERTIFICATE_NOT_FOR_SIGNING
    assert _code(lambda: trust.check(bare.certificate_der)) is FaultCode.CERTIFICATE_NOT_FOR_SIGNING


def test_ca_certificates_cannot_sign(pki):
    trust = pki.trust()
    assert _code(lambda: trust.check(_der(pki.authority.certificate))) is FaultCode.UNTRUSTED_CERTIFICATE
    sub_ca = pki.forge_certificate(PROVIDER, ca=True)
    assert _code(lambda: trust.check(sub_ca.certificate_der)) is FaultCode.UNTRUSTED_CERTIFICATE


def test_subject_must_be_a_participant_id(pki):
    ca_key, ca_cert = pki.ca_key(), pki.authority.certificate
    now = datetime.now(UTC)
    key = pki.forge_certificate(CLIENT).certificate.public_key()
    for subject in (
        x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "not an id")]),
        x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "govbus")]),
        x509.Name(
            [
                x509.NameAttribute(x509.NameOID.COMMON_NAME, CLIENT),
                x509.NameAttribute(x509.NameOID.COMMON_NAME, PROVIDER),
            ]
        ),
    ):
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(key_usage(), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        assert _code(lambda cert=cert: pki.trust().check(_der(cert))) is FaultCode.UNTRUSTED_CERTIFICATE


def test_garbage_certificate(pki):
    assert _code(lambda: pki.trust().check(b"\x30\x03junk")) is FaultCode.UNTRUSTED_CERTIFICATE


@pytest.mark.parametrize("version", [b"\x07", b"\x7f"])
def test_certificate_with_a_malformed_version_is_untrusted_not_a_crash(pki, version):
    der = pki.identity(CLIENT).certificate_der
    field = b"\xa0\x03\x02\x01\x02"  # [0] EXPLICIT INTEGER 2: X.509 v3
    assert field in der
    mutated = der.replace(field, field[:-1] + version, 1)
    assert _code(lambda: pki.trust().check(mutated)) is FaultCode.UNTRUSTED_CERTIFICATE


def test_revoked_certificate(fresh_pki):
    identity = fresh_pki.identity(PROVIDER)
    before = datetime.now(UTC) - timedelta(minutes=1)
    fresh_pki.trust().check(identity.certificate_der)
    fresh_pki.authority.revoke(identity.participant)
    trust = fresh_pki.trust()
    assert _code(lambda: trust.check(identity.certificate_der)) is FaultCode.REVOKED_CERTIFICATE
    assert trust.check(identity.certificate_der, at=before).participant == identity.participant
    assert trust.check(fresh_pki.identity(CLIENT).certificate_der).participant == ParticipantId.parse(CLIENT)


def test_running_trust_store_picks_up_a_new_crl(fresh_pki, monkeypatch):
    monkeypatch.setattr(trust_module, "CRL_RECHECK_SECONDS", 0.0)
    identity = fresh_pki.identity(PROVIDER)
    trust = fresh_pki.trust()
    trust.check(identity.certificate_der)
    fresh_pki.authority.revoke(identity.participant)
    assert _code(lambda: trust.check(identity.certificate_der)) is FaultCode.REVOKED_CERTIFICATE


def _foreign_crl(pki, revoked_serial: int) -> bytes:
    """A CRL naming the bus CA as issuer but signed by another key, un-revoking nothing and revoking one."""
    key, _ = make_ca(pki.algorithm)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.authority.certificate.subject)
        .last_update(now)
        .next_update(now + timedelta(days=1))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(revoked_serial).revocation_date(now).build()
        )
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_crl_not_signed_by_the_ca_is_refused(fresh_pki):
    fresh_pki.home.crl.write_bytes(
        _foreign_crl(fresh_pki, fresh_pki.identity(CLIENT).certificate.serial_number)
    )
    assert _code(fresh_pki.trust) is FaultCode.UNTRUSTED_CERTIFICATE


def test_replaced_crl_not_signed_by_the_ca_is_ignored(fresh_pki, monkeypatch):
    monkeypatch.setattr(trust_module, "CRL_RECHECK_SECONDS", 0.0)
    revoked = fresh_pki.identity(PROVIDER)
    fresh_pki.authority.revoke(revoked.participant)
    trust = fresh_pki.trust()
    good = fresh_pki.identity(CLIENT)
    fresh_pki.home.crl.write_bytes(_foreign_crl(fresh_pki, good.certificate.serial_number))
    assert trust.check(good.certificate_der).participant == good.participant
    assert _code(lambda: trust.check(revoked.certificate_der)) is FaultCode.REVOKED_CERTIFICATE


@pytest.mark.parametrize(
    "content", [b"", b"-----BEGIN X509 CRL-----\ngarbage\n-----END X509 CRL-----\n", b"\x00\x01"]
)
def test_unreadable_crl_at_start_is_a_fault(fresh_pki, content):
    fresh_pki.home.crl.write_bytes(content)
    assert _code(fresh_pki.trust) is FaultCode.UNTRUSTED_CERTIFICATE


def test_unreadable_crl_later_keeps_the_last_good_one(fresh_pki, monkeypatch):
    monkeypatch.setattr(trust_module, "CRL_RECHECK_SECONDS", 0.0)
    revoked = fresh_pki.identity(PROVIDER)
    fresh_pki.authority.revoke(revoked.participant)
    trust = fresh_pki.trust()
    fresh_pki.home.crl.write_bytes(b"-----BEGIN X509 CRL-----\ntruncated")
    assert _code(lambda: trust.check(revoked.certificate_der)) is FaultCode.REVOKED_CERTIFICATE
    assert trust.check(fresh_pki.identity(CLIENT).certificate_der).participant == ParticipantId.parse(CLIENT)


def test_missing_crl_is_refused(fresh_pki):
    fresh_pki.home.crl.unlink()
    assert _code(fresh_pki.trust) is FaultCode.UNTRUSTED_CERTIFICATE


def test_missing_ca_certificate_is_refused(fresh_pki):
    fresh_pki.home.ca_cert.unlink()
    assert _code(fresh_pki.trust) is FaultCode.UNTRUSTED_CERTIFICATE


def test_trust_store_without_crl_path_checks_no_revocation(fresh_pki):
    identity = fresh_pki.identity(PROVIDER)
    fresh_pki.authority.revoke(identity.participant)
    trust = TrustStore(fresh_pki.authority.certificate)
    assert trust.check(identity.certificate_der).participant == identity.participant


def test_older_crl_cannot_roll_back_a_revocation(fresh_pki, monkeypatch):
    monkeypatch.setattr(trust_module, "CRL_RECHECK_SECONDS", 0.0)
    revoked = fresh_pki.identity(PROVIDER)
    fresh_pki.authority.revoke(revoked.participant)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    old_crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(fresh_pki.authority.certificate.subject)
        .last_update(an_hour_ago)
        .next_update(an_hour_ago + timedelta(days=30))
        .sign(fresh_pki.ca_key(), hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    trust = fresh_pki.trust()
    fresh_pki.home.crl.write_bytes(old_crl)
    assert _code(lambda: trust.check(revoked.certificate_der)) is FaultCode.REVOKED_CERTIFICATE


def test_certificate_outlives_an_expired_ca(fresh_pki):
    """A participant certificate is not valid beyond the CA certificate it chains to."""
    ca = fresh_pki.authority.certificate
    now = datetime.now(UTC)
    expired_ca = (
        x509.CertificateBuilder()
        .subject_name(ca.subject)
        .issuer_name(ca.subject)
        .public_key(ca.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=10))
        .not_valid_after(now - timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(digital_signature=False, cert_sign=True), critical=True)
        .sign(fresh_pki.ca_key(), hashes.SHA256())
    )
    identity = fresh_pki.identity(CLIENT)
    assert fresh_pki.trust().check(identity.certificate_der).participant == identity.participant
    trust = TrustStore(expired_ca, fresh_pki.home.crl)
    assert _code(lambda: trust.check(identity.certificate_der)) is FaultCode.EXPIRED_CERTIFICATE


def _crl_due(pki, next_update: datetime) -> bytes:
    """A CRL signed by the bus CA, issued 30 days before ``next_update``."""
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.authority.certificate.subject)
        .last_update(next_update - timedelta(days=30))
        .next_update(next_update)
        .sign(pki.ca_key(), hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )


def test_a_crl_past_its_next_update_fails_closed_after_the_grace_period(fresh_pki, monkeypatch):
    monkeypatch.setattr(trust_module, "CRL_RECHECK_SECONDS", 0.0)
    identity = fresh_pki.identity(CLIENT)
    now = datetime.now(UTC)
    fresh_pki.home.crl.write_bytes(_crl_due(fresh_pki, now - trust_module.CRL_GRACE + timedelta(hours=1)))
    assert fresh_pki.trust().check(identity.certificate_der).participant == identity.participant
    fresh_pki.home.crl.write_bytes(_crl_due(fresh_pki, now - timedelta(days=10)))
    trust = fresh_pki.trust()
    assert _code(lambda: trust.check(identity.certificate_der)) is FaultCode.REVOCATION_LIST_EXPIRED
    # A fresh CRL (picked up by the running trust store) ends the refusal.
    fresh_pki.authority.refresh_crl()
    assert trust.check(identity.certificate_der).participant == identity.participant


def test_the_grace_period_is_a_trust_store_setting(fresh_pki):
    identity = fresh_pki.identity(CLIENT)
    fresh_pki.home.crl.write_bytes(_crl_due(fresh_pki, datetime.now(UTC) - timedelta(hours=1)))
    strict = TrustStore(fresh_pki.authority.certificate, fresh_pki.home.crl, crl_grace=timedelta(0))
    assert _code(lambda: strict.check(identity.certificate_der)) is FaultCode.REVOCATION_LIST_EXPIRED
    lenient = TrustStore(fresh_pki.authority.certificate, fresh_pki.home.crl, crl_grace=timedelta(days=1))
    assert lenient.check(identity.certificate_der).participant == identity.participant
