"""The access tracker's contract (``schemas/access_tracker.xsd``): report an access, list a subject's accesses."""

from __future__ import annotations

from datetime import datetime

from sdk import Payload, RequestReply, element

NAMESPACE = "urn:govbus:access-tracker:1"
SCHEMA = "access_tracker.xsd"
NSMAP = {"t": NAMESPACE}


class AccessFields(Payload, ns="t", nsmap=NSMAP):
    """One access to a data subject's personal data, as the answering provider saw it."""

    subject: str = element()
    client: str = element()  # the administration that asked
    provider: str = element()  # the administration that answered
    service: str = element()
    purpose: str = element()
    message_id: str = element(tag="messageId")
    request_hash: str = element(tag="requestHash")
    accessed: datetime = element()


class AccessReport(AccessFields, tag="AccessReport"):
    """A provider's report of one access."""


class Access(AccessFields, tag="access"):
    """One access in a list."""


class Recorded(Payload, tag="Recorded", ns="t", nsmap=NSMAP):
    message_id: str = element(tag="messageId")


class AccessQuery(Payload, tag="AccessQuery", ns="t", nsmap=NSMAP):
    subject: str = element()


class Accesses(Payload, tag="Accesses", ns="t", nsmap=NSMAP):
    accesses: list[Access] = element(tag="access", default_factory=list)


REPORT_ACCESS: RequestReply[AccessReport, Recorded] = RequestReply(
    "access.report", 1, SCHEMA, request=AccessReport, response=Recorded
)
QUERY_ACCESSES: RequestReply[AccessQuery, Accesses] = RequestReply(
    "access.query", 1, SCHEMA, request=AccessQuery, response=Accesses
)
