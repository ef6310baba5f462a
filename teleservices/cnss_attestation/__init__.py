"""Pilot: the CNSS certificate ("attestation CNSS"), request/reply.

Run the CNSS side with ``govbus run teleservices.cnss_attestation:app``; callers use ``ATTESTATION``.
"""

from teleservices.cnss_attestation.contract import (
    ATTESTATION,
    Attestation,
    AttestationRequest,
    Certificate,
    CompanyIdentity,
    Standing,
)
from teleservices.cnss_attestation.provider import PARTICIPANT, PURPOSE_REQUIRED, app

__all__ = [
    "ATTESTATION",
    "PARTICIPANT",
    "PURPOSE_REQUIRED",
    "Attestation",
    "AttestationRequest",
    "Certificate",
    "CompanyIdentity",
    "Standing",
    "app",
]
