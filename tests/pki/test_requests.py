"""Keys stay with their owner: the participant makes its keys and CSRs, the authority issues from CSRs.

The participant and the authority each have their own home here; only CSRs and certificates travel
between them, so a test can check that no private key ever reached the authority's machine.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from bus.cli.main import cli
from bus.envelope import EnvelopeVerifier, Header, MessageKind, sign_envelope
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.pki import BusHome, SigningIdentity, TrustStore
from bus.pki.authority import CertificateAuthority
from bus.pki.keyfile import PASSPHRASE_ENV, PASSPHRASE_FILE_ENV
from bus.pki.keyring import EncryptionKeys
from bus.pki.request import make_request
from tests.helpers.envelopes import payload

CNSS = ParticipantId.parse("MA/GOV/CNSS/attestations")
MEF = ParticipantId.parse("MA/GOV/MEF/tresorerie")
PASSPHRASE = b"correct horse battery staple"


@pytest.fixture
def homes(tmp_path: Path) -> tuple[BusHome, BusHome, CertificateAuthority]:
    """(participant's home, authority's home, the authority); the participant has the CA certificate."""
    authority_home, participant_home = BusHome.at(tmp_path / "authority"), BusHome.at(tmp_path / "cnss")
    authority = CertificateAuthority.init(authority_home)
    participant_home.ca_dir.mkdir(parents=True)
    shutil.copy(authority_home.ca_cert, participant_home.ca_cert)
    return participant_home, authority_home, authority


def _deliver(authority_home: BusHome, participant_home: BusHome, participant: ParticipantId) -> None:
    """What travels back: the certificates and the CRL."""
    for name in ("cert.pem", "enc-cert.pem"):
        shutil.copy(
            authority_home.participant_dir(participant) / name, participant_home.participant_dir(participant)
        )
    shutil.copy(authority_home.crl, participant_home.crl)


def test_the_authority_issues_from_csrs_and_never_holds_a_private_key(homes, monkeypatch):
    participant_home, authority_home, authority = homes
    files = make_request(participant_home, CNSS, passphrase=PASSPHRASE)
    assert files.key.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert files.key.stat().st_mode & 0o777 == 0o600
    signing = authority.issue_from_csr(CNSS, files.csr.read_bytes())
    encryption = authority.issue_from_csr(CNSS, files.encryption_csr.read_bytes(), encryption=True)
    _deliver(authority_home, participant_home, CNSS)
    assert sorted(p.name for p in authority_home.participant_dir(CNSS).iterdir()) == [
        "cert.pem",
        "enc-cert.pem",
    ]
    assert not any(
        b"PRIVATE KEY" in p.read_bytes()
        for p in authority_home.root.rglob("*")
        if p.is_file() and p.name != "ca-key.pem"
    )
    assert signing.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert encryption.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment
    assert [e.usage for e in authority.list()] == ["signing", "encryption"]

    identity = SigningIdentity.from_home(participant_home, CNSS, passphrase=PASSPHRASE)
    header = Header.new(MessageKind.REQUEST, CNSS, ServiceId.parse("MA/GOV/MEF/tresorerie/x/v1"))
    signed = sign_envelope(header, payload(), identity)
    assert EnvelopeVerifier(TrustStore.from_home(authority_home)).verify(signed).header.client == CNSS
    trust = TrustStore.from_home(participant_home)
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE.decode())
    keys = EncryptionKeys(participant_home, CNSS, trust)
    assert keys.own_key() is not None and keys.recipient(CNSS).participant == str(CNSS)


def test_a_csr_asking_for_another_participants_identifier_is_refused(homes):
    participant_home, authority_home, authority = homes
    files = make_request(participant_home, CNSS)
    with pytest.raises(Fault) as refused:
        authority.issue_from_csr(MEF, files.csr.read_bytes())
    assert refused.value.code is FaultCode.CERTIFICATE_REQUEST_REFUSED
    assert "asks for 'MA/GOV/CNSS/attestations', not for MA/GOV/MEF/tresorerie" in refused.value.reason
    assert not authority_home.participant_cert(MEF).exists() and authority.list() == []


def _csr(key, name: str, *, ca: bool = False) -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_extensions_a_csr_asks_for_are_ignored(homes):
    _, _, authority = homes
    cert = authority.issue_from_csr(CNSS, _csr(ec.generate_private_key(ec.SECP256R1()), str(CNSS), ca=True))
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


@pytest.mark.parametrize(
    ("make", "encryption", "why"),
    [
        (lambda: _csr(ec.generate_private_key(ec.SECP256R1()), str(CNSS)), True, "needs an RSA key"),
        (
            lambda: _csr(rsa.generate_private_key(public_exponent=65537, key_size=1024), str(CNSS)),
            False,
            "too small",
        ),
        (lambda: _csr(ec.generate_private_key(ec.SECP384R1()), str(CNSS)), False, "ECDSA P-256 or RSA"),
        (lambda: _forged_signature(), False, "does not verify"),
        (
            lambda: b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            False,
            "not a certificate",
        ),
    ],
)
def test_a_csr_the_authority_cannot_issue_for_is_refused(homes, make, encryption, why):
    _, _, authority = homes
    with pytest.raises(Fault) as refused:
        authority.issue_from_csr(CNSS, make(), encryption=encryption)
    assert refused.value.code is FaultCode.CERTIFICATE_REQUEST_REFUSED and why in refused.value.reason


def _forged_signature() -> bytes:
    """A CSR for CNSS's name whose signature (its last DER bytes) was changed: no proof of possession."""
    der = x509.load_pem_x509_csr(_csr(ec.generate_private_key(ec.SECP256R1()), str(CNSS))).public_bytes(
        serialization.Encoding.DER
    )
    changed = der[:-1] + bytes([der[-1] ^ 0x01])
    body = base64.encodebytes(changed)
    return b"-----BEGIN CERTIFICATE REQUEST-----\n" + body + b"-----END CERTIFICATE REQUEST-----\n"


def test_an_encrypted_key_needs_its_passphrase(homes, monkeypatch, tmp_path):
    participant_home, authority_home, authority = homes
    files = make_request(participant_home, CNSS, passphrase=PASSPHRASE)
    authority.issue_from_csr(CNSS, files.csr.read_bytes())
    authority.issue_from_csr(CNSS, files.encryption_csr.read_bytes(), encryption=True)
    _deliver(authority_home, participant_home, CNSS)
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.delenv(PASSPHRASE_FILE_ENV, raising=False)
    with pytest.raises(ValueError, match="is encrypted: give its passphrase"):
        SigningIdentity.from_home(participant_home, CNSS)
    with pytest.raises(ValueError, match="wrong passphrase"):
        SigningIdentity.from_home(participant_home, CNSS, passphrase=b"guess")
    secret = tmp_path / "passphrase"
    secret.write_bytes(PASSPHRASE + b"\n")
    monkeypatch.setenv(PASSPHRASE_FILE_ENV, str(secret))
    assert SigningIdentity.from_home(participant_home, CNSS).participant == CNSS
    keys = EncryptionKeys(participant_home, CNSS, TrustStore.from_home(participant_home))
    assert keys.own_key() is not None
    monkeypatch.setenv(PASSPHRASE_FILE_ENV, str(tmp_path / "missing"))
    with pytest.raises(Fault) as refused:
        EncryptionKeys(participant_home, CNSS, TrustStore.from_home(participant_home)).own_key()
    assert refused.value.code is FaultCode.DECRYPTION_FAILED


def test_the_cli_requests_at_the_participant_and_issues_at_the_authority(homes, tmp_path, monkeypatch):
    participant_home, authority_home, _ = homes
    for name in ("GOVBUS_HOME", "GOVBUS_CONFIG", PASSPHRASE_ENV, PASSPHRASE_FILE_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    secret = tmp_path / "passphrase"
    secret.write_bytes(PASSPHRASE + b"\n")
    run = CliRunner().invoke
    made = run(
        cli,
        ["pki", "request", str(CNSS), "--home", str(participant_home.root), "--passphrase-file", str(secret)],
    )
    assert made.exit_code == 0, made.output
    assert "key: " in made.output and "(encrypted)" in made.output
    csr = participant_home.participant_dir(CNSS) / "signing-csr.pem"
    out = tmp_path / "cnss-cert.pem"
    issued = run(
        cli,
        ["pki", "issue", str(CNSS), "--home", str(authority_home.root), "--csr", str(csr), "--out", str(out)],
    )
    assert issued.exit_code == 0, issued.output
    assert (
        x509.load_pem_x509_certificate(out.read_bytes())
        .subject.rfc4514_string()
        .startswith("O=govbus,CN=MA/GOV/CNSS")
    )
    stolen = run(cli, ["pki", "issue", str(MEF), "--home", str(authority_home.root), "--csr", str(csr)])
    assert stolen.exit_code == 1
    assert "Client.CertificateRequestRefused: the CSR asks for 'MA/GOV/CNSS/attestations'" in stolen.output
    again = run(cli, ["pki", "request", str(CNSS), "--home", str(participant_home.root)])
    assert again.exit_code == 1 and "use --force" in again.output
