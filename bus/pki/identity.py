"""A participant's signing identity: its private key and certificate, parsed once and kept in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from bus.ids import ParticipantId
from bus.pki.home import BusHome
from bus.pki.keyfile import passphrase_from_environment, plain_pem

if TYPE_CHECKING:
    from bus.pki.token import Pkcs11Token


def _spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _common_name(certificate: x509.Certificate) -> str:
    value = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    """What a sender signs with. Key parsing is costly (~27 ms for RSA PEM): build one per process.

    ``xmlsec_key`` holds the private key alone: libxmlsec copies the key into every signing context,
    and a copy that carries the certificate costs ~50 µs more. Signers write the certificate
    (``certificate_der``) into KeyInfo themselves.
    """

    participant: ParticipantId
    key_pem: bytes
    certificate: x509.Certificate
    certificate_der: bytes
    xmlsec_key: xmlsec.Key | None
    is_rsa: bool = field(init=False)
    token_key: ec.EllipticCurvePrivateKey | None = None
    """A key that signs on a PKCS#11 token (``bus.pki.token``); then ``key_pem`` is empty and
    ``xmlsec_key`` None: the key never leaves the token."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_rsa", isinstance(self.certificate.public_key(), rsa.RSAPublicKey))

    @classmethod
    def from_pem(cls, key_pem: bytes, cert_pem: bytes, *, passphrase: bytes | None = None) -> SigningIdentity:
        """Build from PEM bytes; the participant id is the certificate subject's common name.

        A key encrypted at rest is decrypted with ``passphrase``; ``key_pem`` then holds the decrypted
        key, in memory only. Raises ValueError when the key cannot be read or is not the certificate's
        (every signature would then fail).
        """
        key_pem = plain_pem(key_pem, passphrase, where="the signing key")
        certificate = x509.load_pem_x509_certificate(cert_pem)
        cn = _common_name(certificate)
        # Only the public half is compared, so RSA's costly private-key consistency check is skipped.
        key = serialization.load_pem_private_key(key_pem, password=None, unsafe_skip_rsa_key_validation=True)
        if _spki(key.public_key()) != _spki(certificate.public_key()):
            raise ValueError(f"the private key does not belong to the certificate of {cn}")
        return cls(
            participant=ParticipantId.parse(cn),
            key_pem=key_pem,
            certificate=certificate,
            certificate_der=certificate.public_bytes(serialization.Encoding.DER),
            xmlsec_key=xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem),
        )

    @classmethod
    def from_token(cls, token: Pkcs11Token, participant: ParticipantId, cert_pem: bytes) -> SigningIdentity:
        """``participant``'s identity whose signing key stays on ``token``; ValueError when the
        certificate is not that key's or not ``participant``'s."""
        certificate = x509.load_pem_x509_certificate(cert_pem)
        key = token.signing_key(participant)
        if _spki(key.public_key()) != _spki(certificate.public_key()):
            raise ValueError(
                f"the certificate is not the one of {participant}'s key on token {token.label!r}"
            )
        identity = cls(
            participant=ParticipantId.parse(_common_name(certificate)),
            key_pem=b"",
            certificate=certificate,
            certificate_der=certificate.public_bytes(serialization.Encoding.DER),
            xmlsec_key=None,
            token_key=key,
        )
        if identity.participant != participant:
            raise ValueError(f"the certificate is the one of {identity.participant}, not {participant}")
        return identity

    def private_key(self) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
        """The signing key as a ``cryptography`` key (on the token, it can only sign)."""
        if self.token_key is not None:
            return self.token_key
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError(f"{self.participant}: signing keys are EC or RSA keys")
        return key

    @classmethod
    def from_home(
        cls, home: BusHome, participant: ParticipantId | str, *, passphrase: bytes | None = None
    ) -> SigningIdentity:
        """Load ``participant``'s key and certificate from a bus home.

        An encrypted key needs ``passphrase``, else the one of the environment (``bus.pki.keyfile``).
        """
        if isinstance(participant, str):
            participant = ParticipantId.parse(participant)
        key_path, cert_path = home.participant_key(participant), home.participant_cert(participant)
        if not key_path.exists() or not cert_path.exists():
            raise FileNotFoundError(
                f"no signing key for {participant} in {home.root}: run 'govbus pki issue {participant}'"
            )
        identity = cls.from_pem(
            key_path.read_bytes(),
            cert_path.read_bytes(),
            passphrase=passphrase or passphrase_from_environment(),
        )
        if identity.participant != participant:
            raise ValueError(f"{cert_path} is the certificate of {identity.participant}, not {participant}")
        return identity
