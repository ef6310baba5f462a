"""A throwaway bus PKI: a bus home in a temporary directory with a CA and a few participants.

``build_home(tmp_path)`` is all most tests need; ``forge_certificate`` makes the certificates the
authority never issues (expired, not yet valid, no digitalSignature, CA, from another CA).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from bus.envelope import EnvelopeVerifier, VerificationPolicy
from bus.envelope.replay import MemoryReplayCache
from bus.ids import ParticipantId
from bus.pki import BusHome, SigningIdentity, TrustStore
from bus.pki.authority import CertificateAuthority, KeyAlgorithm, PrivateKey, generate_key

CLIENT = "MA/GOV/MEF/tresorerie"
PROVIDER = "MA/GOV/CNSS/attestations"
COMMUNE = "MA/COM/RABAT/etat-civil"
DEFAULT_PARTICIPANTS = (CLIENT, PROVIDER, COMMUNE)


def pem_key(key: PrivateKey) -> bytes:
    """PKCS#8 PEM of a private key."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def pem_cert(cert: x509.Certificate) -> bytes:
    """PEM of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def key_usage(*, digital_signature: bool = True, cert_sign: bool = False) -> x509.KeyUsage:
    """A KeyUsage extension with only the given bits."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=not digital_signature and not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_ca(
    algorithm: KeyAlgorithm = KeyAlgorithm.EC, *, name: str = "govbus CA"
) -> tuple[PrivateKey, x509.Certificate]:
    """A self-signed CA outside any bus home (by default with the same name as the bus CA)."""
    key = generate_key(algorithm)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "govbus"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(digital_signature=False, cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return key, cert


@dataclass
class ThrowawayPki:
    """A bus home with its authority; identities are loaded once and cached."""

    home: BusHome
    authority: CertificateAuthority
    algorithm: KeyAlgorithm
    _identities: dict[str, SigningIdentity] = field(default_factory=dict)

    def identity(self, participant: str) -> SigningIdentity:
        """The signing identity of an issued participant."""
        if participant not in self._identities:
            self._identities[participant] = SigningIdentity.from_home(self.home, participant)
        return self._identities[participant]

    def issue(self, participant: str, **options: object) -> SigningIdentity:
        """Issue (or re-issue with ``force=True``) a participant's certificate and return its identity."""
        self.authority.issue(ParticipantId.parse(participant), **options)  # type: ignore[arg-type]
        self._identities.pop(participant, None)
        return self.identity(participant)

    def trust(self) -> TrustStore:
        """A fresh trust store reading this home's CA certificate and CRL."""
        return TrustStore.from_home(self.home)

    def verifier(self, *, replay: bool = True, policy: VerificationPolicy | None = None) -> EnvelopeVerifier:
        """A fresh verifier for this home, with its own replay cache unless ``replay=False``."""
        return EnvelopeVerifier(
            self.trust(), replay_cache=MemoryReplayCache() if replay else None, policy=policy
        )

    def ca_key(self) -> PrivateKey:
        """The CA private key, read from the home."""
        return serialization.load_pem_private_key(self.home.ca_key.read_bytes(), password=None)  # type: ignore[return-value]

    def forge_certificate(
        self,
        participant: str,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        usage: x509.KeyUsage | None = None,
        omit_key_usage: bool = False,
        ca: bool = False,
        issuer: tuple[PrivateKey, x509.Certificate] | None = None,
        algorithm: KeyAlgorithm | None = None,
    ) -> SigningIdentity:
        """A signing identity with a certificate the authority would not issue (nothing is written).

        Defaults match an issued certificate: signed by this CA, valid now, digitalSignature only.
        ``usage`` replaces the KeyUsage extension; ``omit_key_usage`` leaves it out altogether.
        """
        issuer_key, issuer_cert = issuer or (self.ca_key(), self.authority.certificate)
        key = generate_key(algorithm or self.algorithm)
        now = datetime.now(UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, participant),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "govbus"),
            ]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(minutes=5))
            .not_valid_after(not_after or now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not omit_key_usage:
            builder = builder.add_extension(usage or key_usage(cert_sign=ca), critical=True)
        cert = builder.sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
        return SigningIdentity.from_pem(pem_key(key), pem_cert(cert))

    def ca_identity(self) -> SigningIdentity:
        """The bus CA itself as a would-be message signer."""
        return ca_signing_identity(self.ca_key(), self.authority.certificate)


def ca_signing_identity(
    key: PrivateKey, cert: x509.Certificate, participant: str = "MA/GOV/CA"
) -> SigningIdentity:
    """A SigningIdentity for any key and certificate (such as a CA's, whose CN is no participant id)."""
    key_pem = pem_key(key)
    xkey = xmlsec.Key.from_memory(key_pem, xmlsec.KeyFormat.PEM)
    return SigningIdentity(
        participant=ParticipantId.parse(participant),
        key_pem=key_pem,
        certificate=cert,
        certificate_der=cert.public_bytes(serialization.Encoding.DER),
        xmlsec_key=xkey,
    )


def build_home(
    root: Path,
    *,
    algorithm: KeyAlgorithm | str = KeyAlgorithm.EC,
    participants: tuple[str, ...] = DEFAULT_PARTICIPANTS,
) -> ThrowawayPki:
    """A bus home at ``root`` with a CA of ``algorithm`` and a certificate for each participant."""
    algorithm = KeyAlgorithm(algorithm)
    home = BusHome.at(root)
    authority = CertificateAuthority.init(home, algorithm=algorithm)
    for participant in participants:
        authority.issue(ParticipantId.parse(participant))
    return ThrowawayPki(home=home, authority=authority, algorithm=algorithm)
