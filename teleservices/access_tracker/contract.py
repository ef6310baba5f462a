"""The access tracker's contract: report an access, list a subject's accesses.

The models are the contract: ``access_tracker.xsd`` (a resource of this package) is generated from them
(``govbus contract generate teleservices.access_tracker.contract``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sdk import Payload, RequestReply, element
from sdk.xsdgen import XsdType

NAMESPACE = "urn:govbus:access-tracker:1"
SCHEMA = "access_tracker.xsd"
NSMAP = {"t": NAMESPACE}

Subject = Annotated[str, XsdType("DataSubject", pattern="^(CIN:[A-Z]{1,2}[0-9]{1,7}|ICE:[0-9]{15})$")]
MessageId = Annotated[
    str, XsdType("MessageId", pattern="^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]
RequestHash = Annotated[str, XsdType("RequestHash", pattern="^[0-9a-f]{64}$")]


class AccessFields(Payload, ns="t", nsmap=NSMAP):
    """One access to a data subject's personal data, as the answering provider saw it."""

    subject: Subject = element()
    client: str = element()  # the administration that asked
    provider: str = element()  # the administration that answered
    service: str = element()
    purpose: str = element()
    message_id: MessageId = element(tag="messageId")
    request_hash: RequestHash = element(tag="requestHash")
    accessed: datetime = element()


class AccessReport(AccessFields, tag="AccessReport"):
    """A provider's report of one access."""


class Access(AccessFields, tag="access"):
    """One access in a list."""


class Recorded(Payload, tag="Recorded", ns="t", nsmap=NSMAP):
    message_id: MessageId = element(tag="messageId")


class AccessQuery(Payload, tag="AccessQuery", ns="t", nsmap=NSMAP):
    subject: Subject = element()


class Accesses(Payload, tag="Accesses", ns="t", nsmap=NSMAP):
    accesses: list[Access] = element(tag="access", default_factory=list)


REPORT_ACCESS: RequestReply[AccessReport, Recorded] = RequestReply(
    "access.report", 1, SCHEMA, request=AccessReport, response=Recorded
)
QUERY_ACCESSES: RequestReply[AccessQuery, Accesses] = RequestReply(
    "access.query", 1, SCHEMA, request=AccessQuery, response=Accesses
)
