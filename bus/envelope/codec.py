"""Envelope XML: build the unsigned tree from a header and payload, and read a header back from a tree.

Reading assumes the tree passed schema validation, so every element is where the XSD puts it.
"""

from __future__ import annotations

import lxml.etree as etree

from bus.envelope.model import NAMESPACE, Header, MessageKind, format_timestamp, parse_timestamp
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.xml import whole_text
from schemas import load_schema

_NS = "{" + NAMESPACE + "}"
ENVELOPE_TAG = _NS + "Envelope"
HEADER_TAG = _NS + "Header"
BODY_TAG = _NS + "Body"


def envelope_schema() -> etree.XMLSchema:
    """The compiled envelope XSD."""
    return load_schema("envelope.xsd")


def build_envelope(header: Header, payload: etree._Element) -> etree._Element:
    """The unsigned envelope tree (Header, Body); the signer appends the Signature."""
    root = etree.Element(ENVELOPE_TAG, nsmap={None: NAMESPACE})
    head = etree.SubElement(root, HEADER_TAG)
    for name, value in (
        ("id", header.id),
        ("kind", str(header.kind)),
        ("client", str(header.client)),
        ("service", str(header.service)),
        ("userId", header.user_id),
        ("purpose", header.purpose),
        ("issued", format_timestamp(header.issued)),
        ("expires", format_timestamp(header.expires)),
        ("correlationId", header.correlation_id),
    ):
        if value is not None:
            etree.SubElement(head, _NS + name).text = value
    if header.request_hash is not None:
        etree.SubElement(head, _NS + "requestHash", algorithm="sha256").text = header.request_hash
    etree.SubElement(head, _NS + "protocolVersion").text = header.protocol_version
    body = etree.SubElement(root, BODY_TAG)
    body.append(_detached_copy(payload))
    return root


def _detached_copy(payload: etree._Element) -> etree._Element:
    if payload.getparent() is None:
        return payload
    return etree.fromstring(etree.tostring(payload))


def read_header(root: etree._Element) -> Header:
    """The header of a schema-valid envelope tree."""
    fields = {etree.QName(child).localname: child for child in root[0]}

    def text(name: str) -> str | None:
        return whole_text(fields.get(name))

    def required(name: str) -> str:
        value = text(name)
        if value is None:  # schema validation makes this unreachable; kept as a hard stop
            raise Fault(FaultCode.SCHEMA_VIOLATION, f"header has no {name}")
        return value

    try:
        return Header(
            id=required("id"),
            kind=MessageKind(required("kind")),
            client=ParticipantId.parse(required("client")),
            service=ServiceId.parse(required("service")),
            issued=parse_timestamp(required("issued")),
            expires=parse_timestamp(required("expires")),
            user_id=text("userId"),
            purpose=text("purpose"),
            correlation_id=text("correlationId"),
            request_hash=text("requestHash"),
            protocol_version=required("protocolVersion"),
        )
    except Fault as fault:
        raise Fault(FaultCode.SCHEMA_VIOLATION, f"header: {fault.reason}") from None
    except ValueError as error:
        raise Fault(FaultCode.SCHEMA_VIOLATION, f"header: {error}") from None


def payload_of(root: etree._Element) -> etree._Element:
    """The single payload element inside Body."""
    return root[1][0]
