"""The bus authority's side of the PKI: create the CA, issue, revoke and list participant certificates.

Each participant holds two certificates: a signing one (the CA's key type, digitalSignature) and an
RSA encryption one (keyEncipherment only) that senders of confidential services wrap content keys for.
"""

from __future__ import annotations

import builtins
import ipaddress
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId
from bus.pki.home import BusHome, write_private, write_public

CA_VALIDITY = timedelta(days=3650)
CRL_VALIDITY = timedelta(days=30)
DEFAULT_CERT_DAYS = 365
ENCRYPTION_KEY_BITS = 3072
"""RSA size of participants' encryption keys (RSA-OAEP key transport; the bus's libxmlsec has no ECDH-ES)."""
ORGANISATION = "govbus"


class KeyAlgorithm(StrEnum):
    """Signing key types the bus issues: ECDSA P-256 (default) or RSA-2048."""

    EC = "ec"
    RSA = "rsa"


PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class PkiError(Exception):
    """A PKI operation that cannot be done as asked (existing CA, unknown participant, ...)."""


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """One entry of the authority's registry of issued certificates."""

    serial: int
    participant: str
    not_before: str
    not_after: str
    algorithm: str
    revoked_at: str | None = None
    usage: str = "signing"  # or "encryption"; registries written before encryption certificates: signing


def generate_key(algorithm: KeyAlgorithm) -> PrivateKey:
    """A new private key of the given type."""
    if algorithm is KeyAlgorithm.RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def key_algorithm(key: PrivateKey | x509.Certificate) -> KeyAlgorithm:
    public = key.public_key()
    return KeyAlgorithm.RSA if isinstance(public, rsa.RSAPublicKey) else KeyAlgorithm.EC


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _key_usage(*allowed: str) -> x509.KeyUsage:
    """A KeyUsage extension that allows exactly ``allowed`` (its argument names) and nothing else."""
    flags = (
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    )  # fmt: skip
    return x509.KeyUsage(**{flag: flag in allowed for flag in flags})


_SIGNING_USAGE = _key_usage("digital_signature", "content_commitment")
_ENCRYPTION_USAGE = _key_usage("key_encipherment")
_CA_USAGE = _key_usage("key_cert_sign", "crl_sign")


def _checked_csr(
    participant: ParticipantId, csr_pem: bytes, encryption: bool
) -> x509.CertificateSigningRequest:
    """The CSR if it may be issued for ``participant``, else ``Client.CertificateRequestRefused``."""

    def refuse(reason: str) -> Fault:
        return Fault(FaultCode.CERTIFICATE_REQUEST_REFUSED, reason)

    try:
        csr = x509.load_pem_x509_csr(csr_pem)
        signed = csr.is_signature_valid
        names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        public = csr.public_key()
    except (ValueError, TypeError, x509.UnsupportedGeneralNameType) as error:
        raise refuse(f"not a certificate signing request: {error}") from None
    if not signed:
        raise refuse("the CSR's signature does not verify: it does not prove possession of its key")
    asked = str(names[0].value) if len(names) == 1 else None
    if asked != str(participant):
        raise refuse(f"the CSR asks for {asked!r}, not for {participant}: a participant asks only for itself")
    if isinstance(public, rsa.RSAPublicKey):
        if public.key_size < 2048:
            raise refuse(f"an RSA key of {public.key_size} bits is too small (2048 at least)")
    elif encryption:
        raise refuse("an encryption certificate needs an RSA key (RSA-OAEP key transport)")
    elif not (isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1)):
        raise refuse("a signing key must be ECDSA P-256 or RSA")
    return csr


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class CertificateAuthority:
    """The bus CA stored in a home; every method persists its result before returning."""

    def __init__(self, home: BusHome) -> None:
        self.home = home
        if not home.ca_key.exists() or not home.ca_cert.exists():
            raise PkiError(f"no bus CA in {home.root}: run 'govbus pki init --home {home.root}' first")
        self._key = serialization.load_pem_private_key(home.ca_key.read_bytes(), password=None)
        self.certificate = x509.load_pem_x509_certificate(home.ca_cert.read_bytes())

    @classmethod
    def init(
        cls, home: BusHome, *, algorithm: KeyAlgorithm = KeyAlgorithm.EC, force: bool = False
    ) -> CertificateAuthority:
        """Create the CA key, self-signed certificate, empty registry and empty CRL."""
        if home.ca_cert.exists() and not force:
            raise PkiError(f"a bus CA already exists in {home.ca_dir}; use --force to replace it")
        key = generate_key(algorithm)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "govbus CA"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            ]
        )
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_CA_USAGE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        write_private(home.ca_key, _pem_key(key))
        write_public(home.ca_cert, cert.public_bytes(serialization.Encoding.PEM))
        write_public(home.registry, b"[]\n")
        authority = cls(home)
        authority._write_crl([])
        return authority

    def issue(
        self,
        participant: ParticipantId,
        *,
        days: int = DEFAULT_CERT_DAYS,
        algorithm: KeyAlgorithm | None = None,
        force: bool = False,
    ) -> tuple[Path, Path]:
        """Issue a signing key and certificate for ``participant``; return (key path, cert path).

        The subject's common name is the participant id; key usage is digitalSignature only.
        Refuses to replace a participant's current valid certificate unless ``force``.
        """
        if days < 1:
            raise PkiError("--days must be at least 1")
        registry = self._registry()
        current = [
            entry
            for entry in registry
            if entry.participant == str(participant) and entry.revoked_at is None and entry.usage == "signing"
        ]
        now = _now()
        if not force and any(datetime.fromisoformat(e.not_after) > now for e in current):
            raise PkiError(
                f"{participant} already has a valid certificate; revoke it first or use --force to re-issue"
            )
        key = generate_key(algorithm or key_algorithm(self.certificate))
        cert = self._sign_participant(participant, key.public_key(), now, days)
        key_path = self.home.participant_key(participant)
        cert_path = self.home.participant_cert(participant)
        write_private(key_path, _pem_key(key))
        write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        registry.append(
            IssuedCertificate(
                serial=cert.serial_number,
                participant=str(participant),
                not_before=cert.not_valid_before_utc.isoformat(),
                not_after=cert.not_valid_after_utc.isoformat(),
                algorithm=str(key_algorithm(key)),
            )
        )
        self._save_registry(registry)
        return key_path, cert_path

    def issue_broker(self, hosts: builtins.list[str], *, days: int = DEFAULT_CERT_DAYS) -> tuple[Path, Path]:
        """Issue the broker's TLS server key and certificate; return (key path, cert path).

        ``hosts`` (DNS names or IP addresses clients connect to) become the subject alternative names
        that clients check; the extended key usage is serverAuth only, so the certificate cannot log in
        as a participant. Re-issuing replaces the previous pair.
        """
        if days < 1:
            raise PkiError("--days must be at least 1")
        if not hosts:
            raise PkiError("give at least one host name or address of the broker")
        names: builtins.list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        key = generate_key(key_algorithm(self.certificate))
        now = _now()
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, f"govbus broker {hosts[0]}"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.certificate.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
            .sign(self._key, hashes.SHA256())  # type: ignore[arg-type]
        )
        write_private(self.home.broker_key, _pem_key(key))
        write_public(self.home.broker_cert, cert.public_bytes(serialization.Encoding.PEM))
        return self.home.broker_key, self.home.broker_cert

    def issue_encryption(
        self, participant: ParticipantId, *, days: int = DEFAULT_CERT_DAYS
    ) -> tuple[Path, Path]:
        """Issue an RSA encryption key and certificate (keyEncipherment only); return (key, cert) paths.

        Replaces the participant's previous encryption pair in its directory; the old certificate stays
        valid until revoked, so messages already sealed for it can still be opened with an archived key.
        """
        if days < 1:
            raise PkiError("--days must be at least 1")
        if not self.home.participant_cert(participant).exists():
            raise PkiError(f"{participant} has no signing certificate: issue it first")
        key = rsa.generate_private_key(public_exponent=65537, key_size=ENCRYPTION_KEY_BITS)
        cert = self._sign_participant(participant, key.public_key(), _now(), days, usage=_ENCRYPTION_USAGE)
        key_path = self.home.participant_encryption_key(participant)
        cert_path = self.home.participant_encryption_cert(participant)
        write_private(key_path, _pem_key(key))
        write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        registry = self._registry()
        registry.append(
            IssuedCertificate(
                serial=cert.serial_number,
                participant=str(participant),
                not_before=cert.not_valid_before_utc.isoformat(),
                not_after=cert.not_valid_after_utc.isoformat(),
                algorithm=str(KeyAlgorithm.RSA),
                usage="encryption",
            )
        )
        self._save_registry(registry)
        return key_path, cert_path

    def issue_from_csr(
        self,
        participant: ParticipantId,
        csr_pem: bytes,
        *,
        encryption: bool = False,
        days: int = DEFAULT_CERT_DAYS,
        force: bool = False,
    ) -> x509.Certificate:
        """Issue ``participant``'s signing (or ``encryption``) certificate for the key of a CSR it made.

        The authority never sees the private key: the CSR's signature proves the requester holds it.
        Refused (``Client.CertificateRequestRefused``): a CSR that does not parse or whose signature does
        not verify, whose subject is not exactly ``participant`` (a participant asking for another's
        identifier), or whose key is not allowed (signing: ECDSA P-256 or RSA of 2048 bits or more;
        encryption: RSA of 2048 bits or more). Requested extensions are ignored: the authority sets its
        own (never a CA, the key usage of the certificate's purpose). A signing certificate replaces a
        valid one only with ``force``. Writes the certificate into the participant's directory.
        """
        if days < 1:
            raise PkiError("--days must be at least 1")
        csr = _checked_csr(participant, csr_pem, encryption)
        public = csr.public_key()
        registry = self._registry()
        now = _now()
        usage = "encryption" if encryption else "signing"
        current = [
            e
            for e in registry
            if e.participant == str(participant) and e.revoked_at is None and e.usage == usage
        ]
        if not encryption and not force and any(datetime.fromisoformat(e.not_after) > now for e in current):
            raise PkiError(
                f"{participant} already has a valid certificate; revoke it first or use --force to re-issue"
            )
        assert isinstance(public, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey))  # _checked_csr made sure
        cert = self._sign_participant(
            participant, public, now, days, usage=_ENCRYPTION_USAGE if encryption else None
        )
        path = (
            self.home.participant_encryption_cert(participant)
            if encryption
            else self.home.participant_cert(participant)
        )
        write_public(path, cert.public_bytes(serialization.Encoding.PEM))
        registry.append(
            IssuedCertificate(
                serial=cert.serial_number,
                participant=str(participant),
                not_before=cert.not_valid_before_utc.isoformat(),
                not_after=cert.not_valid_after_utc.isoformat(),
                algorithm=str(key_algorithm(cert)),
                usage=usage,
            )
        )
        self._save_registry(registry)
        return cert

    def _sign_participant(
        self,
        participant: ParticipantId,
        public_key: PublicKey,
        now: datetime,
        days: int,
        *,
        usage: x509.KeyUsage | None = None,
    ) -> x509.Certificate:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, str(participant)),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            ]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage or _SIGNING_USAGE, critical=True)
        )
        if usage is None:  # a signing certificate also authenticates its participant (TLS clients)
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
        return (
            builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.certificate.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
            .sign(self._key, hashes.SHA256())  # type: ignore[arg-type]
        )

    def revoke(self, participant: ParticipantId) -> builtins.list[int]:
        """Revoke every unrevoked certificate of ``participant``, re-sign the CRL; return the serials."""
        registry = self._registry()
        now = _now().isoformat()
        revoked: builtins.list[int] = []
        updated: builtins.list[IssuedCertificate] = []
        for entry in registry:
            if entry.participant == str(participant) and entry.revoked_at is None:
                entry = IssuedCertificate(**{**asdict(entry), "revoked_at": now})
                revoked.append(entry.serial)
            updated.append(entry)
        if not revoked:
            raise PkiError(f"{participant} has no unrevoked certificate")
        self._save_registry(updated)
        self._write_crl([e for e in updated if e.revoked_at is not None])
        return revoked

    def list(self) -> builtins.list[IssuedCertificate]:
        """Every certificate issued, in issue order."""
        return self._registry()

    def refresh_crl(self) -> None:
        """Re-sign the CRL with a new validity window (run before ``next_update`` passes)."""
        self._write_crl([e for e in self._registry() if e.revoked_at is not None])

    def _write_crl(self, revoked: builtins.list[IssuedCertificate]) -> None:
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now)
            .next_update(now + CRL_VALIDITY)
        )
        for entry in revoked:
            assert entry.revoked_at is not None
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(entry.serial)
                .revocation_date(datetime.fromisoformat(entry.revoked_at))
                .build()
            )
        crl = builder.sign(self._key, hashes.SHA256())  # type: ignore[arg-type]
        write_public(self.home.crl, crl.public_bytes(serialization.Encoding.PEM))

    def _registry(self) -> builtins.list[IssuedCertificate]:
        if not self.home.registry.exists():
            return []
        return [IssuedCertificate(**item) for item in json.loads(self.home.registry.read_text())]

    def _save_registry(self, entries: builtins.list[IssuedCertificate]) -> None:
        text = json.dumps([asdict(e) for e in entries], indent=2) + "\n"
        write_public(self.home.registry, text.encode())
