"""Where an auditor's trust comes from: the bus CA certificate and, when available, the CRL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from bus.faults import Fault, FaultCode
from bus.pki import BusHome, TrustStore


@dataclass(frozen=True, slots=True)
class TrustFiles:
    """The CA certificate (PEM) and optional CRL (PEM) to verify with; picklable for worker processes."""

    ca_cert: Path
    crl: Path | None = None

    @classmethod
    def from_home(cls, home: BusHome) -> TrustFiles:
        """The home's CA certificate, and its CRL when present."""
        return cls(home.ca_cert, home.crl if home.crl.exists() else None)

    def store(self) -> TrustStore:
        """A trust store over these files; ``Client.UntrustedCertificate`` when they are unusable."""
        try:
            ca = x509.load_pem_x509_certificate(self.ca_cert.read_bytes())
        except (OSError, ValueError) as error:
            raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, f"CA certificate {self.ca_cert}: {error}") from None
        return TrustStore(ca, self.crl)

    @property
    def checks_revocation(self) -> bool:
        return self.crl is not None
