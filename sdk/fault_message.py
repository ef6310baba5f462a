"""Faults on the wire: a signed envelope of kind ``fault`` whose payload carries the code and reason."""

from __future__ import annotations

from pydantic_xml import element

from bus.faults import Fault, FaultCode
from sdk.contract import Payload, decode, encode

SCHEMA = "fault.xsd"
NAMESPACE = "urn:govbus:fault:1"


class FaultReport(Payload, tag="Fault", ns="f", nsmap={"f": NAMESPACE}):
    """The payload of a fault message."""

    code: str = element()
    reason: str = element()


def fault_payload(fault: Fault):  # noqa: ANN201 - an lxml element
    """The XSD-valid payload element for ``fault``."""
    return encode(FaultReport(code=str(fault.code), reason=fault.reason[:2000]), SCHEMA)


def fault_from_payload(element) -> Fault:  # noqa: ANN001 - an lxml element
    """The ``Fault`` a received fault message carries; unknown codes are kept as sent."""
    report = decode(element, FaultReport, SCHEMA)
    try:
        code = FaultCode(report.code)
    except ValueError:
        return Fault(FaultCode.HANDLER_ERROR, f"{report.code}: {report.reason}")
    return Fault(code, report.reason)
