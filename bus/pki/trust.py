"""Accept or refuse a signer's certificate: chain to the bus CA, validity, key usage, revocation, identity."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId
from bus.pki.home import BusHome

log = structlog.get_logger(__name__)

CRL_RECHECK_SECONDS = 2.0
CRL_GRACE = timedelta(days=7)
"""How long past its nextUpdate a CRL is still used (with a warning); after that every signer is refused
with ``Server.RevocationListExpired`` until a fresh CRL is installed (docs/operations.md)."""


@dataclass(frozen=True, slots=True)
class TrustedSigner:
    """A certificate that chains to the bus CA, with the facts verification needs from it.

    ``not_before``/``not_after`` bound the time both the certificate and the bus CA are valid.
    """

    participant: ParticipantId
    certificate: x509.Certificate
    der: bytes
    serial: int
    not_before: datetime
    not_after: datetime


class TrustStore:
    """The bus CA certificate and its CRL; thread-safe; picks up a replaced CRL file by itself.

    Chain and identity checks are cached per certificate; time and revocation are checked on every call.
    """

    def __init__(
        self,
        ca_certificate: x509.Certificate,
        crl_path: Path | None = None,
        *,
        crl_grace: timedelta = CRL_GRACE,
    ) -> None:
        self.ca_certificate = ca_certificate
        self.crl_grace = crl_grace
        self._crl_path = crl_path
        self._crl_mtime: float | None = None
        self._crl_checked_at = 0.0
        self._revoked: dict[int, datetime] = {}
        self._crl_next_update: datetime | None = None
        self._crl_last_update: datetime | None = None
        self._signers: dict[bytes, TrustedSigner] = {}
        self._recipients: dict[bytes, TrustedSigner] = {}
        self._lock = threading.Lock()
        if crl_path is not None:
            self._load_crl()

    @classmethod
    def from_home(cls, home: BusHome) -> TrustStore:
        """The trust store of a bus home: its CA certificate and CRL, both required.

        A missing CRL is refused rather than read as "nothing is revoked".
        """
        if not home.ca_cert.exists():
            raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, f"no bus CA certificate at {home.ca_cert}")
        if not home.crl.exists():
            raise Fault(
                FaultCode.UNTRUSTED_CERTIFICATE, f"no CRL at {home.crl}: revocation cannot be checked"
            )
        try:
            ca = x509.load_pem_x509_certificate(home.ca_cert.read_bytes())
        except ValueError as error:
            raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, f"{home.ca_cert}: {error}") from None
        return cls(ca, home.crl)

    def check(self, certificate_der: bytes, *, at: datetime | None = None) -> TrustedSigner:
        """Return the trusted signer for a DER certificate, or raise the fault that refuses it.

        ``at`` is the moment the certificate must be valid and unrevoked at (default: now). Revocation
        is judged only with a CRL whose nextUpdate plus ``crl_grace`` is not before ``at``: a CRL that
        old may miss revocations, so the check fails closed (``Server.RevocationListExpired``).
        """
        at = at or datetime.now(UTC)
        signer = self._signers.get(certificate_der)
        if signer is None:
            signer = self._chain(certificate_der)
            with self._lock:
                self._signers[certificate_der] = signer
        return self._current(signer, at)

    def check_encryption(self, certificate_der: bytes, *, at: datetime | None = None) -> TrustedSigner:
        """Accept a participant's encryption certificate (keyEncipherment, RSA), or raise its fault.

        The same chain, validity and revocation rules as ``check``; a certificate without
        keyEncipherment or without an RSA key is ``Client.NoEncryptionCertificate``.
        """
        at = at or datetime.now(UTC)
        recipient = self._recipients.get(certificate_der)
        if recipient is None:
            recipient = self._chain(certificate_der, encryption=True)
            with self._lock:
                self._recipients[certificate_der] = recipient
        return self._current(recipient, at)

    def _current(self, signer: TrustedSigner, at: datetime) -> TrustedSigner:
        """``signer`` if its certificate is valid and unrevoked at ``at``, else the refusing fault."""
        if not signer.not_before <= at <= signer.not_after:
            raise Fault(
                FaultCode.EXPIRED_CERTIFICATE,
                f"certificate of {signer.participant} is valid from {signer.not_before:%Y-%m-%dT%H:%M:%SZ} "
                f"to {signer.not_after:%Y-%m-%dT%H:%M:%SZ}, not at {at:%Y-%m-%dT%H:%M:%SZ}",
            )
        self._maybe_reload_crl()
        next_update = self._crl_next_update
        if next_update is not None and at > next_update + self.crl_grace:
            raise Fault(
                FaultCode.REVOCATION_LIST_EXPIRED,
                f"the CRL in use was due for renewal at {next_update:%Y-%m-%dT%H:%M:%SZ}, more than "
                f"{self.crl_grace.days} days before {at:%Y-%m-%dT%H:%M:%SZ}: install a fresh CRL "
                "(govbus pki refresh-crl)",
            )
        revoked_at = self._revoked.get(signer.serial)
        if revoked_at is not None and revoked_at <= at:
            raise Fault(
                FaultCode.REVOKED_CERTIFICATE,
                f"certificate {signer.serial:x} of {signer.participant} was revoked at {revoked_at.isoformat()}",
            )
        return signer

    def known(self, certificate_der: bytes) -> bytes | None:
        """The stored DER bytes of a certificate that already chained to the bus CA, or None."""
        signer = self._signers.get(certificate_der)
        return signer.der if signer is not None else None

    def _chain(self, der: bytes, *, encryption: bool = False) -> TrustedSigner:
        """Check that ``der`` is a signing (or, with ``encryption``, an encryption) certificate issued by
        the bus CA; any defect is a ``Fault``.

        cryptography parses a certificate's fields lazily, so a malformed version, extension or name
        only fails when it is read: every such error is the sender's untrusted certificate, never a crash.
        """
        try:
            return self._chain_checked(der, encryption)
        except (ValueError, x509.InvalidVersion) as error:
            raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, f"malformed certificate: {error}") from None

    def _chain_checked(self, der: bytes, encryption: bool) -> TrustedSigner:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError as error:
            raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, f"not an X.509 certificate: {error}") from None
        try:
            cert.verify_directly_issued_by(self.ca_certificate)
        except (ValueError, TypeError, InvalidSignature):
            raise Fault(
                FaultCode.UNTRUSTED_CERTIFICATE,
                f"certificate '{cert.subject.rfc4514_string()}' is not issued by the bus CA",
            ) from None
        try:
            constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            is_ca = constraints.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if is_ca:
            raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, "a CA certificate cannot sign messages")
        try:
            usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
            signs, enciphers = usage.digital_signature, usage.key_encipherment
        except x509.ExtensionNotFound:
            signs = enciphers = False
        if encryption:
            if not enciphers or not isinstance(cert.public_key(), rsa.RSAPublicKey):
                raise Fault(
                    FaultCode.NO_ENCRYPTION_CERTIFICATE,
                    "certificate is not an RSA key with keyEncipherment: not for encryption",
                )
        elif not signs:
            raise Fault(FaultCode.CERTIFICATE_NOT_FOR_SIGNING, "certificate key usage lacks digitalSignature")
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if len(names) != 1:
            raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, "certificate subject must carry one participant id")
        try:
            participant = ParticipantId.parse(str(names[0].value))
        except Fault as fault:
            raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, f"certificate subject: {fault.reason}") from None
        return TrustedSigner(
            participant=participant,
            certificate=cert,
            der=der,
            serial=cert.serial_number,
            not_before=max(cert.not_valid_before_utc, self.ca_certificate.not_valid_before_utc),
            not_after=min(cert.not_valid_after_utc, self.ca_certificate.not_valid_after_utc),
        )

    def _maybe_reload_crl(self) -> None:
        if self._crl_path is None or time.monotonic() - self._crl_checked_at < CRL_RECHECK_SECONDS:
            return
        with self._lock:
            self._crl_checked_at = time.monotonic()
            try:
                mtime = self._crl_path.stat().st_mtime
            except OSError:
                return
            if mtime != self._crl_mtime:
                self._load_crl()

    def _load_crl(self) -> None:
        """Load the CRL file; refuse a bad one at start, keep the last good one when a later copy is bad."""
        assert self._crl_path is not None
        try:
            mtime = self._crl_path.stat().st_mtime
            crl = x509.load_pem_x509_crl(self._crl_path.read_bytes())
            if crl.issuer != self.ca_certificate.subject:
                raise ValueError("its issuer is not the bus CA")
            if not crl.is_signature_valid(self.ca_certificate.public_key()):  # type: ignore[arg-type]
                raise ValueError("it is not signed by the bus CA")
            if self._crl_last_update is not None and crl.last_update_utc < self._crl_last_update:
                raise ValueError(f"it is older than the CRL in use ({self._crl_last_update.isoformat()})")
        except (OSError, ValueError, TypeError) as error:
            if self._crl_mtime is None:
                raise Fault(
                    FaultCode.UNTRUSTED_CERTIFICATE, f"CRL {self._crl_path} refused: {error}"
                ) from None
            log.error("crl.rejected", path=str(self._crl_path), reason=str(error))
            return
        self._revoked = {entry.serial_number: entry.revocation_date_utc for entry in crl}
        self._crl_next_update = crl.next_update_utc
        self._crl_last_update = crl.last_update_utc
        self._crl_mtime = mtime
        self._crl_checked_at = time.monotonic()
        if self._crl_next_update is not None and self._crl_next_update < datetime.now(UTC):
            log.warning("crl.stale", path=str(self._crl_path), next_update=self._crl_next_update.isoformat())
