"""The bus primitives the signature book builds on, from the SDK's security window (``sdk.security``).

The book checks XAdES signatures with the bus CA and CRL and seals bundles with its participant key, so
it needs more than handlers do; it still reaches the bus only through ``sdk``.
"""

from sdk.security import (
    BusHome,
    Fault,
    FaultCode,
    ParticipantId,
    ServiceId,
    SigningIdentity,
    TrustedSigner,
    TrustStore,
    parse_untrusted,
)

__all__ = [
    "BusHome",
    "Fault",
    "FaultCode",
    "ParticipantId",
    "ServiceId",
    "SigningIdentity",
    "TrustStore",
    "TrustedSigner",
    "parse_untrusted",
]
