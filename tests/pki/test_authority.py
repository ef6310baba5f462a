"""The bus authority: create the CA, issue, revoke, list; files on disk and their modes."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bus.ids import ParticipantId
from bus.pki import BusHome, SigningIdentity
from bus.pki.authority import CertificateAuthority, KeyAlgorithm, PkiError
from tests.helpers.pki import CLIENT, COMMUNE, PROVIDER, build_home


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _cert(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _crl(home: BusHome) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(home.crl.read_bytes())


@pytest.mark.parametrize("algorithm", ["ec", "rsa"])
def test_init_writes_ca_files(tmp_path, algorithm):
    home = BusHome.at(tmp_path)
    authority = CertificateAuthority.init(home, algorithm=KeyAlgorithm(algorithm))
    for path in (home.ca_cert, home.ca_key, home.crl, home.registry):
        assert path.exists(), path
    assert _mode(home.ca_key) == 0o600
    cert = _cert(home.ca_cert)
    assert cert == authority.certificate
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    expected = rsa.RSAPublicKey if algorithm == "rsa" else ec.EllipticCurvePublicKey
    assert isinstance(cert.public_key(), expected)
    if algorithm == "rsa":
        assert cert.public_key().key_size == 2048
    else:
        assert isinstance(cert.public_key().curve, ec.SECP256R1)
    crl = _crl(home)
    assert crl.is_signature_valid(cert.public_key())
    assert len(crl) == 0
    assert authority.list() == []


def test_init_refuses_to_overwrite_without_force(tmp_path):
    home = BusHome.at(tmp_path)
    CertificateAuthority.init(home)
    before = home.ca_cert.read_bytes(), home.ca_key.read_bytes()
    with pytest.raises(PkiError, match="already exists"):
        CertificateAuthority.init(home)
    assert (home.ca_cert.read_bytes(), home.ca_key.read_bytes()) == before
    CertificateAuthority.init(home, force=True)
    assert home.ca_cert.read_bytes() != before[0]
    assert _mode(home.ca_key) == 0o600


def test_opening_a_home_without_ca_fails(tmp_path):
    with pytest.raises(PkiError, match="no bus CA"):
        CertificateAuthority(BusHome.at(tmp_path))


@pytest.mark.parametrize("algorithm", ["ec", "rsa"])
def test_issue_writes_private_key_0600_with_participant_cn(tmp_path, algorithm):
    home = BusHome.at(tmp_path)
    authority = CertificateAuthority.init(home, algorithm=KeyAlgorithm(algorithm))
    participant = ParticipantId.parse(PROVIDER)
    key_path, cert_path = authority.issue(participant)
    assert key_path == home.participant_key(participant)
    assert cert_path == home.participant_cert(participant)
    assert _mode(key_path) == 0o600
    assert key_path.parent.name == "MA+GOV+CNSS+attestations"
    cert = _cert(cert_path)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [n.value for n in names] == [PROVIDER]
    assert cert.issuer == authority.certificate.subject
    cert.verify_directly_issued_by(authority.certificate)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    assert not usage.value.key_cert_sign and not usage.value.crl_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert (
        ExtendedKeyUsageOID.CLIENT_AUTH
        in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    now = datetime.now(UTC)
    assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    assert cert.not_valid_after_utc - now > timedelta(days=364)
    identity = SigningIdentity.from_home(home, PROVIDER)
    assert identity.participant == participant
    assert identity.is_rsa is (algorithm == "rsa")


def test_issue_algorithm_can_differ_from_ca(tmp_path):
    authority = CertificateAuthority.init(BusHome.at(tmp_path), algorithm=KeyAlgorithm.EC)
    _, cert_path = authority.issue(ParticipantId.parse(CLIENT), algorithm=KeyAlgorithm.RSA, days=3)
    cert = _cert(cert_path)
    assert isinstance(cert.public_key(), rsa.RSAPublicKey)
    assert cert.not_valid_after_utc - datetime.now(UTC) < timedelta(days=3, minutes=1)
    assert authority.list()[0].algorithm == "rsa"


def test_issue_refuses_to_replace_a_valid_certificate_without_force(fresh_pki):
    participant = ParticipantId.parse(CLIENT)
    before = fresh_pki.home.participant_cert(participant).read_bytes()
    with pytest.raises(PkiError, match="already has a valid certificate"):
        fresh_pki.authority.issue(participant)
    assert fresh_pki.home.participant_cert(participant).read_bytes() == before
    fresh_pki.authority.issue(participant, force=True)
    assert fresh_pki.home.participant_cert(participant).read_bytes() != before


def test_issue_refuses_zero_days(fresh_pki):
    with pytest.raises(PkiError):
        fresh_pki.authority.issue(ParticipantId.parse("MA/GOV/NEW"), days=0)


def test_list_reports_every_certificate(fresh_pki):
    entries = fresh_pki.authority.list()
    assert [e.participant for e in entries] == [CLIENT, PROVIDER, COMMUNE]
    serials = {
        _cert(fresh_pki.home.participant_cert(ParticipantId.parse(p))).serial_number
        for p in (CLIENT, PROVIDER, COMMUNE)
    }
    assert {e.serial for e in entries} == serials
    assert all(e.revoked_at is None for e in entries)


def test_revoke_updates_registry_and_crl(fresh_pki):
    home, authority = fresh_pki.home, fresh_pki.authority
    serial = _cert(home.participant_cert(ParticipantId.parse(PROVIDER))).serial_number
    assert authority.revoke(ParticipantId.parse(PROVIDER)) == [serial]
    crl = _crl(home)
    assert crl.is_signature_valid(authority.certificate.public_key())
    assert crl.issuer == authority.certificate.subject
    assert [entry.serial_number for entry in crl] == [serial]
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    entries = {e.participant: e for e in authority.list()}
    assert entries[PROVIDER].revoked_at is not None
    assert entries[CLIENT].revoked_at is None
    with pytest.raises(PkiError, match="no unrevoked certificate"):
        authority.revoke(ParticipantId.parse(PROVIDER))
    authority.issue(ParticipantId.parse(PROVIDER))
    assert len(authority.list()) == 4
    authority.revoke(ParticipantId.parse(CLIENT))
    assert len(_crl(home)) == 2


def test_revoke_unknown_participant(fresh_pki):
    with pytest.raises(PkiError):
        fresh_pki.authority.revoke(ParticipantId.parse("MA/GOV/NOBODY"))


def test_refresh_crl_keeps_revocations(fresh_pki):
    fresh_pki.authority.revoke(ParticipantId.parse(COMMUNE))
    before = _crl(fresh_pki.home)
    fresh_pki.authority.refresh_crl()
    after = _crl(fresh_pki.home)
    assert [e.serial_number for e in after] == [e.serial_number for e in before]
    assert after.next_update_utc >= before.next_update_utc


def test_identity_from_home_errors(fresh_pki):
    with pytest.raises(FileNotFoundError):
        SigningIdentity.from_home(fresh_pki.home, "MA/GOV/NOBODY")
    wrong = ParticipantId.parse("MA/GOV/IMPOSTOR")
    directory = fresh_pki.home.participant_dir(wrong)
    directory.mkdir(parents=True)
    source = fresh_pki.home.participant_dir(ParticipantId.parse(CLIENT))
    for name in ("key.pem", "cert.pem"):
        (directory / name).write_bytes((source / name).read_bytes())
    with pytest.raises(ValueError, match="not MA/GOV/IMPOSTOR"):
        SigningIdentity.from_home(fresh_pki.home, wrong)


def test_home_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVBUS_HOME", str(tmp_path))
    assert BusHome.at(None).root == tmp_path.resolve()
    monkeypatch.delenv("GOVBUS_HOME")
    with pytest.raises(ValueError):
        BusHome.at(None)


def test_build_home_helper(tmp_path):
    pki = build_home(tmp_path, algorithm="rsa", participants=(CLIENT,))
    assert pki.identity(CLIENT).is_rsa
    assert [e.participant for e in pki.authority.list()] == [CLIENT]


def test_private_key_write_ignores_a_planted_temporary_file(tmp_path):
    home = BusHome.at(tmp_path / "home")
    home.ca_dir.mkdir(parents=True)
    leftover = home.ca_key.with_suffix(".pem.tmp")
    elsewhere = tmp_path / "stolen.pem"
    elsewhere.write_bytes(b"")
    leftover.symlink_to(elsewhere)
    CertificateAuthority.init(home)
    assert elsewhere.read_bytes() == b""
    assert _mode(home.ca_key) == 0o600
    assert b"PRIVATE KEY" in home.ca_key.read_bytes()
    participant = ParticipantId.parse(CLIENT)
    key_path = home.participant_key(participant)
    key_path.parent.mkdir(parents=True)
    stale = key_path.with_suffix(".pem.tmp")
    stale.write_bytes(b"old")
    stale.chmod(0o644)
    CertificateAuthority(home).issue(participant)
    assert _mode(key_path) == 0o600
    assert not stale.exists()


def test_identity_refuses_a_key_that_is_not_the_certificates(fresh_pki):
    client = fresh_pki.home.participant_dir(ParticipantId.parse(CLIENT))
    provider = fresh_pki.home.participant_dir(ParticipantId.parse(PROVIDER))
    with pytest.raises(ValueError, match="does not belong"):
        SigningIdentity.from_pem((provider / "key.pem").read_bytes(), (client / "cert.pem").read_bytes())
