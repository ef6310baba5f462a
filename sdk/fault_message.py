"""Faults on the wire: a signed envelope of kind ``fault`` whose payload carries the code and reason."""

from __future__ import annotations

from typing import Any

import lxml.etree as etree
from pydantic_xml import element

from bus.faults import Fault, FaultCode
from sdk.contract import Payload, decode, encode
from sdk.errors import CallFailed

SCHEMA = "fault.xsd"
NAMESPACE = "urn:govbus:fault:1"


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


def fault_from_payload(element: Any) -> CallFailed:
    """The fault a received fault message carries; an unknown code is kept in the reason."""
    report = decode(element, FaultReport, SCHEMA)
    try:
        code = FaultCode(report.code)
    except ValueError:
        return CallFailed(
            FaultCode.HANDLER_ERROR, f"{report.code}: {report.reason}", service_code=report.service_code
        )
    return CallFailed(code, report.reason, service_code=report.service_code)
