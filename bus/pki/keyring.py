"""A participant's encryption keys: its own RSA decryption key, and the encryption certificates of others.

Senders of a confidential service seal each payload for every recipient's encryption certificate,
read from the bus home (``participants/<ID>/enc-cert.pem``) and accepted only when it chains to the bus
CA, is valid, unrevoked, for keyEncipherment and names that participant (checked on every use, so a
revocation takes effect at once). The own key is loaded once, on first use.
"""

from __future__ import annotations

import threading
from datetime import datetime

import pkcs11
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bus.envelope.encryption import Recipient, Unwrap
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId
from bus.pki.authority import PkiError
from bus.pki.home import BusHome
from bus.pki.keyfile import passphrase_from_environment, plain_pem
from bus.pki.token import Pkcs11Token
from bus.pki.trust import TrustStore


class EncryptionKeys:
    """Thread-safe; does no I/O until a key is first needed."""

    def __init__(
        self,
        home: BusHome,
        participant: ParticipantId,
        trust: TrustStore,
        *,
        passphrase: bytes | None = None,
        token: Pkcs11Token | None = None,
    ) -> None:
        """With ``token``, this participant's encryption key is the token's: content keys unwrap there."""
        self.token = token
        self.home = home
        self.participant = participant
        self.trust = trust
        self._passphrase = passphrase
        self._own: xmlsec.Key | None = None
        self._certificates: dict[ParticipantId, tuple[float, bytes, xmlsec.Key]] = {}
        self._lock = threading.Lock()

    def own_key(self) -> xmlsec.Key | Unwrap:
        """This participant's RSA decryption key (or its token's unwrapping); ``Client.DecryptionFailed``
        when it has none."""
        if self.token is not None:
            return self._unwrap_on_token
        with self._lock:
            if self._own is None:
                path = self.home.participant_encryption_key(self.participant)
                try:
                    passphrase = self._passphrase or passphrase_from_environment()
                    plain = plain_pem(path.read_bytes(), passphrase, where=str(path))
                except (OSError, ValueError) as error:
                    raise Fault(
                        FaultCode.DECRYPTION_FAILED,
                        f"{self.participant} has no usable encryption key at {path}: {error}",
                    ) from None
                self._own = xmlsec.Key.from_memory(plain, xmlsec.constants.KeyDataFormatPem)
            return self._own

    def _unwrap_on_token(self, wrapped: bytes) -> bytes:
        assert self.token is not None
        try:
            return self.token.unwrap(self.participant, wrapped)
        except (PkiError, pkcs11.PKCS11Error) as error:
            raise ValueError(f"the token cannot unwrap it: {type(error).__name__}") from None

    def recipient(self, participant: ParticipantId, *, at: datetime | None = None) -> Recipient:
        """``participant``'s encryption key, its certificate checked now; else ``Client.NoEncryptionCertificate``
        (or the certificate's own fault: revoked, expired, untrusted)."""
        path = self.home.participant_encryption_cert(participant)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            raise Fault(
                FaultCode.NO_ENCRYPTION_CERTIFICATE,
                f"{participant} has no encryption certificate ({path}): 'govbus pki issue-encryption {participant}'",
            ) from None
        cached = self._certificates.get(participant)
        if cached is None or cached[0] != mtime:
            try:
                certificate = x509.load_pem_x509_certificate(path.read_bytes())
            except (OSError, ValueError) as error:
                raise Fault(FaultCode.NO_ENCRYPTION_CERTIFICATE, f"{path}: {error}") from None
            der = certificate.public_bytes(serialization.Encoding.DER)
            key = xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer)
            cached = (mtime, der, key)
            with self._lock:
                self._certificates[participant] = cached
        accepted = self.trust.check_encryption(cached[1], at=at)
        if accepted.participant != participant:
            raise Fault(
                FaultCode.NO_ENCRYPTION_CERTIFICATE,
                f"{path} is the encryption certificate of {accepted.participant}, not {participant}",
            )
        return Recipient(str(participant), cached[2])
