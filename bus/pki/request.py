"""The participant's side of issuance: its keys are made where they are used, and only CSRs leave.

``make_request`` writes a signing key and an RSA encryption key into the participant's directory (mode
0600, encrypted with a passphrase when one is given) and a certificate signing request for each; the
bus authority issues from the CSRs (``CertificateAuthority.issue_from_csr``) and never sees a key.
Keys at rest: ``bus.pki.keyfile``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bus.ids import ParticipantId
from bus.pki.authority import (
    ENCRYPTION_KEY_BITS,
    ORGANISATION,
    KeyAlgorithm,
    PkiError,
    PrivateKey,
    generate_key,
)
from bus.pki.home import BusHome, write_private, write_public
from bus.pki.keyfile import key_pem


@dataclass(frozen=True, slots=True)
class RequestFiles:
    """What ``make_request`` wrote: two private keys (they stay) and two CSRs (sent to the authority)."""

    key: Path
    csr: Path
    encryption_key: Path
    encryption_csr: Path


def _csr(participant: ParticipantId, key: PrivateKey) -> bytes:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, str(participant)),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM)


def make_request(
    home: BusHome,
    participant: ParticipantId,
    *,
    algorithm: KeyAlgorithm = KeyAlgorithm.EC,
    passphrase: bytes | None = None,
    force: bool = False,
) -> RequestFiles:
    """Make ``participant``'s signing and encryption keys and their CSRs in its directory of ``home``.

    Refuses to replace an existing key unless ``force`` (a key in use would be lost).
    """
    files = RequestFiles(
        key=home.participant_key(participant),
        csr=home.participant_dir(participant) / "signing-csr.pem",
        encryption_key=home.participant_encryption_key(participant),
        encryption_csr=home.participant_dir(participant) / "enc-csr.pem",
    )
    existing = [path for path in (files.key, files.encryption_key) if path.exists()]
    if existing and not force:
        raise PkiError(f"{existing[0]} exists; use --force to make new keys (the old ones stop working)")
    signing = generate_key(algorithm)
    encryption = rsa.generate_private_key(public_exponent=65537, key_size=ENCRYPTION_KEY_BITS)
    write_private(files.key, key_pem(signing, passphrase))
    write_private(files.encryption_key, key_pem(encryption, passphrase))
    write_public(files.csr, _csr(participant, signing))
    write_public(files.encryption_csr, _csr(participant, encryption))
    return files
