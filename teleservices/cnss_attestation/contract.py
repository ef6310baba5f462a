"""The CNSS certificate contract: request by ICE or affiliation number, answer with an attestation.

Published as ``cnss_attestation.xsd``, a resource of this package; both the CNSS and its callers use these models.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sdk import Payload, RequestReply, element

NAMESPACE = "urn:govbus:cnss:attestation:1"
SCHEMA = "cnss_attestation.xsd"
NSMAP = {"a": NAMESPACE}


class Standing(StrEnum):
    """The outcome of an attestation request."""

    GOOD = "good-standing"
    NOT_GOOD = "not-in-good-standing"
    UNKNOWN = "unknown-company"


class AttestationRequest(Payload, tag="AttestationRequest", ns="a", nsmap=NSMAP, skip_empty=True):
    """Which company: exactly one of its ICE (15 digits) or its CNSS affiliation number (7 digits)."""

    ice: str | None = element(default=None)
    affiliation: str | None = element(default=None)

    def model_post_init(self, context: object) -> None:
        if (self.ice is None) == (self.affiliation is None):
            raise ValueError("give exactly one of ice or affiliation")

    @property
    def identifier(self) -> str:
        """The identifier as a person reads it, e.g. ``ICE 001525987000088``."""
        return f"ICE {self.ice}" if self.ice is not None else f"affiliation {self.affiliation}"


class CompanyIdentity(Payload, tag="company", ns="a", nsmap=NSMAP):
    """The company the CNSS found."""

    name: str = element()
    ice: str = element()
    affiliation: str = element()


class Certificate(Payload, tag="certificate", ns="a", nsmap=NSMAP):
    """The certificate of good standing the CNSS issued."""

    number: str = element()
    issued: date = element()
    valid_until: date = element(tag="validUntil")


class Attestation(Payload, tag="Attestation", ns="a", nsmap=NSMAP, skip_empty=True):
    """The CNSS's answer: the company's standing, with a certificate when it is in good standing."""

    outcome: Standing = element()
    company: CompanyIdentity | None = None
    certificate: Certificate | None = None
    reason: str | None = element(default=None)

    def model_post_init(self, context: object) -> None:
        if (self.company is None) != (self.outcome is Standing.UNKNOWN):
            raise ValueError(
                f"an attestation '{self.outcome}' has a company exactly when the company is known"
            )
        if (self.certificate is not None) != (self.outcome is Standing.GOOD):
            raise ValueError("only an attestation of good standing carries a certificate")


ATTESTATION: RequestReply[AttestationRequest, Attestation] = RequestReply(
    "cnss.attestation", 1, SCHEMA, request=AttestationRequest, response=Attestation
)
