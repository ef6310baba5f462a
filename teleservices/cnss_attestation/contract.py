"""The CNSS certificate contract: request by ICE or affiliation number, answer with an attestation.

The models are the contract: ``cnss_attestation.xsd`` (a resource of this package) is generated from them (``govbus contract
generate teleservices.cnss_attestation.contract``). Both the CNSS and its callers use these models.
good-standing: company and certificate present. not-in-good-standing: company and reason present.
unknown-company: neither company nor certificate. Every answer is an Attestation: "unknown company" and
"not in good standing" are outcomes, not faults.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from sdk import Payload, RequestReply, element
from sdk.xsdgen import XsdType

NAMESPACE = "urn:govbus:cnss:attestation:1"
SCHEMA = "cnss_attestation.xsd"
NSMAP = {"a": NAMESPACE}

# Lexical rules of the published XSD (generated from these models); the XSD check of both ends applies them.
Ice = Annotated[str, XsdType("Ice", pattern="^[0-9]{15}$")]
"""Identifiant commun de l'entreprise: 15 digits."""
Affiliation = Annotated[str, XsdType("Affiliation", pattern="^[0-9]{7}$")]
"""CNSS employer affiliation number: 7 digits."""
Text = Annotated[str, XsdType("Text", min_length=1, max_length=200)]
CertificateNumber = Annotated[str, XsdType("CertificateNumber", pattern="^ATT-[0-9]{4}-[0-9]{6}$")]


class Standing(StrEnum):
    """The outcome of an attestation request."""

    GOOD = "good-standing"
    NOT_GOOD = "not-in-good-standing"
    UNKNOWN = "unknown-company"


class AttestationRequest(Payload, tag="AttestationRequest", ns="a", nsmap=NSMAP, skip_empty=True):
    """Which company: exactly one of its ICE (15 digits) or its CNSS affiliation number (7 digits)."""

    model_config = Payload.model_config | {"json_schema_extra": {"xsdChoice": ["ice", "affiliation"]}}

    ice: Ice | None = element(default=None)
    affiliation: Affiliation | None = element(default=None)

    def model_post_init(self, context: object) -> None:
        if (self.ice is None) == (self.affiliation is None):
            raise ValueError("give exactly one of ice or affiliation")

    @property
    def identifier(self) -> str:
        """The identifier as a person reads it, e.g. ``ICE 001525987000088``."""
        return f"ICE {self.ice}" if self.ice is not None else f"affiliation {self.affiliation}"


class CompanyIdentity(Payload, tag="company", ns="a", nsmap=NSMAP):
    """The company the CNSS found."""

    name: Text = element()
    ice: Ice = element()
    affiliation: Affiliation = element()


class Certificate(Payload, tag="certificate", ns="a", nsmap=NSMAP):
    """The certificate of good standing the CNSS issued."""

    number: CertificateNumber = element()
    issued: date = element()
    valid_until: date = element(tag="validUntil")


class Attestation(Payload, tag="Attestation", ns="a", nsmap=NSMAP, skip_empty=True):
    """The CNSS's answer: the company's standing, with a certificate when it is in good standing."""

    outcome: Standing = element()
    company: CompanyIdentity | None = None
    certificate: Certificate | None = None
    reason: Text | None = element(default=None)

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
