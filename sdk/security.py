"""The bus's security building blocks, for teleservices that sign or verify documents themselves.

Teleservices import only ``sdk``; this module is their window on the bus PKI and hardened XML parsing
(for example the signature book, which checks XAdES signatures with the bus CA and CRL).
"""

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.pki import BusHome, SigningIdentity, TrustedSigner, TrustStore
from bus.xml import parse_untrusted, whole_text

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
    "whole_text",
]
