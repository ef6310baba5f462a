"""Envelope XML: build the unsigned tree from a header and payload, and read a header back from a tree.

Reading assumes the tree passed schema validation, so every element is where the XSD puts it.
"""

from __future__ import annotations

import copy
import threading
from functools import lru_cache

import lxml.etree as etree

from bus.envelope.model import NAMESPACE, Header, MessageKind, format_timestamp, parse_timestamp
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.xml import whole_text
from schemas import schema_bytes

_NS = "{" + NAMESPACE + "}"
ENVELOPE_TAG = _NS + "Envelope"
HEADER_TAG = _NS + "Header"
BODY_TAG = _NS + "Body"

_FIELDS = {
    _NS + name: name
    for name in (
        "id",
        "kind",
        "client",
        "service",
        "userId",
        "purpose",
        "dataSubject",
        "issued",
        "expires",
        "correlationId",
        "requestHash",
        "protocolVersion",
    )
}
_KINDS = {str(kind): kind for kind in MessageKind}
_local = threading.local()


def envelope_schema() -> etree.XMLSchema:
    """The compiled envelope XSD, one instance per thread.

    An ``XMLSchema`` keeps the error log of its last validation on the instance, so threads sharing
    one could read each other's errors.
    """
    schema: etree.XMLSchema | None = getattr(_local, "schema", None)
    if schema is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        schema = _local.schema = etree.XMLSchema(etree.fromstring(schema_bytes("envelope.xsd"), parser))
    return schema


def _escape(text: str) -> str:
    """Text content as XML: a carriage return is written as a reference so parsing keeps it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def header_xml(header: Header) -> str:
    """The Header element as XML text (namespace declared by the enclosing Envelope)."""
    parts = [
        f"<Header><id>{_escape(header.id)}</id><kind>{_escape(str(header.kind))}</kind>",
        f"<client>{header.client}</client><service>{header.service}</service>",
    ]
    if header.user_id is not None:
        parts.append(f"<userId>{_escape(header.user_id)}</userId>")
    if header.purpose is not None:
        parts.append(f"<purpose>{_escape(header.purpose)}</purpose>")
    if header.data_subject is not None:
        parts.append(f"<dataSubject>{_escape(header.data_subject)}</dataSubject>")
    parts.append(
        f"<issued>{format_timestamp(header.issued)}</issued><expires>{format_timestamp(header.expires)}</expires>"
    )
    if header.correlation_id is not None:
        parts.append(f"<correlationId>{_escape(header.correlation_id)}</correlationId>")
    if header.request_hash is not None:
        parts.append(f'<requestHash algorithm="sha256">{_escape(header.request_hash)}</requestHash>')
    parts.append(f"<protocolVersion>{_escape(header.protocol_version)}</protocolVersion></Header>")
    return "".join(parts)


def envelope_tree(header: Header, payload: etree._Element, tail: str = "") -> etree._Element:
    """Envelope(Header, Body(payload)) followed by ``tail`` (XML text, e.g. a signature template).

    Raises ValueError when a header value is not representable as XML text (e.g. control characters).
    """
    text = f'<Envelope xmlns="{NAMESPACE}">{header_xml(header)}<Body/>{tail}</Envelope>'
    try:
        root = etree.fromstring(text)
    except etree.XMLSyntaxError as error:
        raise ValueError(f"header values must be XML text: {error}") from None
    root[1].append(_detached_copy(payload))
    return root


def build_envelope(header: Header, payload: etree._Element) -> etree._Element:
    """The unsigned envelope tree (Header, Body); the signer appends the Signature."""
    return envelope_tree(header, payload)


def _detached_copy(payload: etree._Element) -> etree._Element:
    """A copy of the payload element alone (the caller's tree is left as it was)."""
    copied = copy.deepcopy(payload)
    copied.tail = None
    return copied


_participant = lru_cache(maxsize=4096)(ParticipantId.parse)
_service = lru_cache(maxsize=4096)(ServiceId.parse)


def read_header(root: etree._Element) -> Header:
    """The header of a schema-valid envelope tree, read in one pass over its fields."""
    fields: dict[str, str] = {}
    for child in root[0]:
        name = _FIELDS.get(child.tag)
        if name is not None:
            # A field with no child node at all (no comment, PI or element) has .text as its whole text.
            fields[name] = (child.text or "") if not len(child) else (whole_text(child) or "")
    get = fields.get
    try:
        return Header(
            id=fields["id"],
            kind=_KINDS[fields["kind"]],
            client=_participant(fields["client"]),
            service=_service(fields["service"]),
            issued=parse_timestamp(fields["issued"]),
            expires=parse_timestamp(fields["expires"]),
            user_id=get("userId"),
            purpose=get("purpose"),
            data_subject=get("dataSubject"),
            correlation_id=get("correlationId"),
            request_hash=get("requestHash"),
            protocol_version=fields["protocolVersion"],
        )
    except KeyError as missing:  # the schema makes this unreachable; kept as a hard stop
        raise Fault(FaultCode.SCHEMA_VIOLATION, f"header: no valid {missing}") from None
    except Fault as fault:
        raise Fault(FaultCode.SCHEMA_VIOLATION, f"header: {fault.reason}") from None
    except ValueError as error:
        raise Fault(FaultCode.SCHEMA_VIOLATION, f"header: {error}") from None


def payload_of(root: etree._Element) -> etree._Element:
    """The single payload element inside Body."""
    return root[1][0]
