"""Faults on the wire: a signed envelope of kind ``fault`` whose payload carries the code and reason.

A fault is bound to the message it refuses as received (``requestHash``, docs/architecture.md), like a
response; a message that could not be verified gets a fault naming no id.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

import lxml.etree as etree
from pydantic_xml import element

from bus.envelope import Header, MessageKind
from bus.envelope.binding import request_digest
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from sdk.contract import Payload, decode, encode
from sdk.errors import CallFailed

SCHEMA = "fault.xsd"
NAMESPACE = "urn:govbus:fault:1"
FAULT_TTL = timedelta(minutes=5)
"""How long a fault message is valid, like every answer (``sdk.node.ANSWER_TTL``)."""


class Signer(Protocol):
    """What signs a fault: a participant's node."""

    @property
    def participant(self) -> ParticipantId: ...

    def sign(self, header: Header, payload: etree._Element) -> bytes: ...


class FaultReport(Payload, tag="Fault", ns="f", nsmap={"f": NAMESPACE}):
    """The payload of a fault message."""

    code: str = element()
    reason: str = element()
    service_code: str | None = element(tag="serviceCode", default=None)


def fault_payload(fault: Fault) -> etree._Element:
    """The XSD-valid payload element for ``fault``."""
    service_code = getattr(fault, "service_code", None)
    return encode(
        FaultReport(code=str(fault.code), reason=fault.reason[:2000], service_code=service_code), SCHEMA
    )


def bound_fault(
    node: Signer, fault: Fault, *, service: ServiceId, request: bytes, correlation_id: str | None
) -> tuple[Header, bytes]:
    """Sign a fault about ``request`` (its bytes as received): ``requestHash`` is their digest.

    ``correlation_id`` is the request's verified id, or None when the request could not be verified.
    """
    header = Header.new(
        MessageKind.FAULT,
        node.participant,
        service,
        ttl=FAULT_TTL,
        correlation_id=correlation_id,
        request_hash=request_digest(request),
    )
    return header, node.sign(header, fault_payload(fault))


def fault_from_payload(element: etree._Element) -> CallFailed:
    """The fault a received fault message carries; an unknown code is kept in the reason."""
    report = decode(element, FaultReport, SCHEMA)
    try:
        code = FaultCode(report.code)
    except ValueError:
        return CallFailed(
            FaultCode.HANDLER_ERROR, f"{report.code}: {report.reason}", service_code=report.service_code
        )
    return CallFailed(code, report.reason, service_code=report.service_code)
