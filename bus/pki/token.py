"""A PKCS#11 token (an HSM, a smart card, SoftHSM2) as a participant's key store, through python-pkcs11.

Keys are generated on the token, sensitive and not extractable: the signing key (ECDSA P-256, labelled
``<participant> signing``) and the encryption key (RSA-3072, ``<participant> encryption``). Nothing
outside the token ever holds them; the token signs SHA-256 digests (``CKM_ECDSA``: SoftHSM2 has no
``CKM_ECDSA_SHA256``) and unwraps RSA-OAEP content keys (``CKM_RSA_PKCS_OAEP``, SHA-1 and MGF1-SHA-1,
as ``rsa-oaep-mgf1p``). ``TokenSigningKey`` presents the signing key as a ``cryptography`` private key
(``sign`` only), so everything that signs with a participant's key (envelopes, message-log
checkpoints) works with a token too. CSRs for the authority are built with asn1crypto (a
python-pkcs11 dependency) and signed on the token.

Configuration: ``$GOVBUS_PKCS11_MODULE`` (the library, e.g. ``/usr/lib/softhsm/libsofthsm2.so``),
``$GOVBUS_PKCS11_TOKEN`` (the token label) and ``$GOVBUS_PKCS11_PIN_FILE`` (a file holding the user
PIN) or ``$GOVBUS_PKCS11_PIN``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any, NoReturn

import pkcs11
from asn1crypto import csr as asn1_csr
from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from pkcs11 import MGF, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_ecdsa_signature, encode_named_curve_parameters
from pkcs11.util.rsa import encode_rsa_public_key

from bus.ids import ParticipantId
from bus.pki.authority import ENCRYPTION_KEY_BITS, ORGANISATION, PkiError

MODULE_ENV = "GOVBUS_PKCS11_MODULE"
TOKEN_ENV = "GOVBUS_PKCS11_TOKEN"  # noqa: S105 - variable names, not secrets
PIN_ENV = "GOVBUS_PKCS11_PIN"
PIN_FILE_ENV = "GOVBUS_PKCS11_PIN_FILE"
_PRIVATE = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.TOKEN: True}


class Pkcs11Token:
    """One logged-in session on a token; thread-safe (calls take turns on the session)."""

    def __init__(self, module: str, label: str, pin: str) -> None:
        try:
            token = pkcs11.lib(module).get_token(token_label=label)
            self._session = token.open(user_pin=pin, rw=True)
        except (pkcs11.PKCS11Error, RuntimeError, OSError) as error:
            raise PkiError(
                f"PKCS#11 token {label!r} ({module}) cannot be opened: {type(error).__name__} {error}"
            ) from None
        self.label = label
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls) -> Pkcs11Token | None:
        """The token ``$GOVBUS_PKCS11_MODULE`` and ``$GOVBUS_PKCS11_TOKEN`` name, or None when unset."""
        module, label = os.environ.get(MODULE_ENV), os.environ.get(TOKEN_ENV)
        if not module or not label:
            return None
        pin_file = os.environ.get(PIN_FILE_ENV)
        pin = Path(pin_file).read_text().splitlines()[0] if pin_file else os.environ.get(PIN_ENV, "")
        return cls(module, label, pin)

    def generate(self, participant: ParticipantId, *, force: bool = False) -> None:
        """Generate ``participant``'s signing and encryption key pairs on the token."""
        with self._lock:
            if not force and self._find(participant, "signing", ObjectClass.PRIVATE_KEY, missing_ok=True):
                raise PkiError(f"the token already holds keys of {participant}; use --force to add new ones")
            for usage in ("signing", "encryption"):
                for kind in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
                    for old in self._session.get_objects(
                        {Attribute.LABEL: _label(participant, usage), Attribute.CLASS: kind}
                    ):
                        old.destroy()
            params = self._session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
            )
            params.generate_keypair(
                store=True, label=_label(participant, "signing"), private_template=_PRIVATE
            )
            self._session.generate_keypair(
                KeyType.RSA,
                ENCRYPTION_KEY_BITS,
                store=True,
                label=_label(participant, "encryption"),
                private_template=_PRIVATE,
            )

    def holds(self, participant: ParticipantId) -> bool:
        """Whether the token holds ``participant``'s signing key."""
        with self._lock:
            return self._find(participant, "signing", ObjectClass.PRIVATE_KEY, missing_ok=True) is not None

    def public_key_der(self, participant: ParticipantId, usage: str) -> bytes:
        """The SubjectPublicKeyInfo (DER) of ``participant``'s ``signing`` or ``encryption`` key."""
        with self._lock:
            public = self._find(participant, usage, ObjectClass.PUBLIC_KEY)
            if usage == "signing":
                return bytes(encode_ec_public_key(public))
            info = asn1_keys.PublicKeyInfo(
                {
                    "algorithm": {"algorithm": "rsa"},
                    "public_key": asn1_keys.RSAPublicKey.load(encode_rsa_public_key(public)),
                }
            )
            return bytes(info.dump())

    def sign_digest(self, participant: ParticipantId, digest: bytes) -> bytes:
        """ECDSA over a SHA-256 digest with ``participant``'s signing key: DER ``Ecdsa-Sig-Value``."""
        with self._lock:
            private = self._find(participant, "signing", ObjectClass.PRIVATE_KEY)
            return bytes(encode_ecdsa_signature(private.sign(digest, mechanism=Mechanism.ECDSA)))

    def unwrap(self, participant: ParticipantId, wrapped: bytes) -> bytes:
        """Decrypt an RSA-OAEP (SHA-1, MGF1-SHA-1) wrapped key with ``participant``'s encryption key."""
        with self._lock:
            private = self._find(participant, "encryption", ObjectClass.PRIVATE_KEY)
            return bytes(
                private.decrypt(
                    wrapped,
                    mechanism=Mechanism.RSA_PKCS_OAEP,
                    mechanism_param=(Mechanism.SHA_1, MGF.SHA1, None),
                )
            )

    def csr(self, participant: ParticipantId, usage: str) -> bytes:
        """A PEM CSR for ``participant``'s ``signing`` or ``encryption`` key, signed on the token by that key.

        The encryption key cannot sign with OAEP, so its CSR proves possession by an RSA PKCS#1 v1.5
        signature (``CKM_SHA256_RSA_PKCS``) made once on the token.
        """
        info = asn1_csr.CertificationRequestInfo(
            {
                "version": "v1",
                "subject": asn1_x509.Name.build(
                    {"common_name": str(participant), "organization_name": ORGANISATION}
                ),
                "subject_pk_info": asn1_keys.PublicKeyInfo.load(self.public_key_der(participant, usage)),
                "attributes": [],
            }
        )
        data = info.dump()
        with self._lock:
            private = self._find(participant, usage, ObjectClass.PRIVATE_KEY)
            if usage == "signing":
                signature = bytes(
                    encode_ecdsa_signature(
                        private.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
                    )
                )
                algorithm = "sha256_ecdsa"
            else:
                signature = bytes(private.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
                algorithm = "sha256_rsa"
        request = asn1_csr.CertificationRequest(
            {
                "certification_request_info": info,
                "signature_algorithm": {"algorithm": algorithm},
                "signature": signature,
            }
        )
        return bytes(asn1_pem.armor("CERTIFICATE REQUEST", request.dump()))

    def signing_key(self, participant: ParticipantId) -> TokenSigningKey:
        public = serialization.load_der_public_key(self.public_key_der(participant, "signing"))
        assert isinstance(public, ec.EllipticCurvePublicKey)
        return TokenSigningKey(self, participant, public)

    def close(self) -> None:
        with self._lock:
            self._session.close()

    def _find(
        self, participant: ParticipantId, usage: str, kind: ObjectClass, *, missing_ok: bool = False
    ) -> Any:
        found = list(
            self._session.get_objects({Attribute.LABEL: _label(participant, usage), Attribute.CLASS: kind})
        )
        if not found:
            if missing_ok:
                return None
            raise PkiError(
                f"the token {self.label!r} holds no {usage} key of {participant}: 'govbus pki request --token'"
            )
        return found[-1]


def _label(participant: ParticipantId, usage: str) -> str:
    return f"{participant} {usage}"


class TokenSigningKey(ec.EllipticCurvePrivateKey):
    """A participant's ECDSA P-256 signing key on a token, as a ``cryptography`` key that can only sign."""

    def __init__(
        self, token: Pkcs11Token, participant: ParticipantId, public: ec.EllipticCurvePublicKey
    ) -> None:
        self._token = token
        self._participant = participant
        self._public = public

    def sign(
        self, data: bytes | bytearray | memoryview, signature_algorithm: ec.EllipticCurveSignatureAlgorithm
    ) -> bytes:
        data = bytes(data)
        algorithm = signature_algorithm.algorithm
        if isinstance(algorithm, Prehashed):
            digest = data
        elif isinstance(algorithm, hashes.SHA256):
            digest = hashlib.sha256(data).digest()
        else:
            raise ValueError("the token signs ECDSA with SHA-256 only")
        return self._token.sign_digest(self._participant, digest)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> NoReturn:
        raise _stays()

    def private_numbers(self) -> NoReturn:
        raise _stays()

    def private_bytes(self, *args: object, **kwargs: object) -> NoReturn:
        raise _stays()

    def __copy__(self) -> TokenSigningKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> TokenSigningKey:
        return self


def _stays() -> TypeError:
    return TypeError("a token key never leaves its token")


def raw_signature(der: bytes, size: int = 32) -> bytes:
    """XML-DSig's ECDSA SignatureValue (r || s, each ``size`` bytes) from a DER ``Ecdsa-Sig-Value``."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


__all__ = ["Pkcs11Token", "TokenSigningKey", "raw_signature"]
