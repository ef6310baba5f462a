"""The bus primitives the signature book builds on, imported in this one place.

Teleservices depend on ``sdk`` only; until the SDK re-exports these names, this module is the single
place that reaches into ``bus``, so switching it to ``sdk`` is a one-file change.
"""

from bus.envelope.model import format_timestamp, parse_timestamp, utc_now
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.pki import BusHome, SigningIdentity, TrustedSigner, TrustStore
from bus.xml import parse_untrusted

__all__ = [
    "BusHome",
    "Fault",
    "FaultCode",
    "ParticipantId",
    "ServiceId",
    "SigningIdentity",
    "TrustStore",
    "TrustedSigner",
    "format_timestamp",
    "parse_timestamp",
    "parse_untrusted",
    "utc_now",
]
