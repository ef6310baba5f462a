"""The MEF's procurement applications contract.

The models are the contract: ``procurement.xsd`` (a resource of this package) is generated from them
(``govbus contract generate teleservices.procurement.contract``).
"""

from __future__ import annotations

import base64
from datetime import date, datetime

from sdk import Payload, RequestReply, element
from teleservices.cnss_attestation.contract import Ice

NAMESPACE = "urn:govbus:mef:procurement:1"
SCHEMA = "procurement.xsd"
NSMAP = {"p": NAMESPACE}
UNAVAILABLE = "unavailable"  # the CNSS could not be reached: the application waits for a retry


class Application(Payload, tag="Application", ns="p", nsmap=NSMAP):
    """A company applies for a tender; it uploads nothing."""

    tender: str = element()
    ice: Ice = element()


class RecordFields(Payload, ns="p", nsmap=NSMAP, skip_empty=True):
    """An application and the CNSS certificate the MEF obtained for it (``evidence``: the signed answer)."""

    reference: str = element()
    tender: str = element()
    ice: Ice = element()
    submitted: datetime = element()
    standing: str = element()
    certificate: str | None = element(default=None)
    valid_until: date | None = element(tag="validUntil", default=None)
    obtained_from: str | None = element(tag="obtainedFrom", default=None)
    obtained: datetime | None = element(default=None)
    evidence: str | None = element(default=None)  # base64 of the CNSS's signed answer envelope

    def evidence_bytes(self) -> bytes | None:
        """The CNSS's signed answer, as it arrived (verify it with ``govbus envelope verify``)."""
        return base64.b64decode(self.evidence) if self.evidence else None


class ApplicationRecord(RecordFields, tag="ApplicationRecord"):
    pass


class ApplicationItem(RecordFields, tag="application"):
    pass


class ApplicationsQuery(Payload, tag="ApplicationsQuery", ns="p", nsmap=NSMAP):
    ice: Ice = element()


class Applications(Payload, tag="Applications", ns="p", nsmap=NSMAP):
    applications: list[ApplicationItem] = element(tag="application", default_factory=list)


APPLY: RequestReply[Application, ApplicationRecord] = RequestReply(
    "procurement.apply", 1, SCHEMA, request=Application, response=ApplicationRecord
)
APPLICATIONS: RequestReply[ApplicationsQuery, Applications] = RequestReply(
    "procurement.applications", 1, SCHEMA, request=ApplicationsQuery, response=Applications
)
