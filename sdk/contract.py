"""Teleservice contracts: code, version, style, payload models and the XSD both ends validate against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

import lxml.etree as etree
import pydantic
from pydantic_xml import BaseXmlModel

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.registry.catalogue import ServiceStyle
from schemas import load_schema


class Payload(BaseXmlModel):
    """Base class of every teleservice payload: a pydantic model mapped to XML by pydantic-xml."""

    model_config: ClassVar[pydantic.ConfigDict] = pydantic.ConfigDict(frozen=True, extra="forbid")


P = TypeVar("P", bound=Payload)
Q = TypeVar("Q", bound=Payload)


def encode(payload: Payload, schema: str) -> etree._Element:
    """Serialise a payload and check it against the contract's XSD (a sender never emits invalid XML)."""
    element = payload.to_xml_tree(skip_empty=True)
    validate_payload(element, schema, who="outgoing")
    return element


def decode(element: etree._Element, model: type[P], schema: str) -> P:
    """Validate a received payload element against the XSD, then map it to ``model``."""
    validate_payload(element, schema, who="received")
    expected = qualified_tag(model)
    if element.tag != expected:
        raise Fault(FaultCode.PAYLOAD_SCHEMA_VIOLATION, f"payload is {element.tag}, expected {expected}")
    try:
        return model.from_xml_tree(element)
    except (pydantic.ValidationError, ValueError) as error:
        raise Fault(
            FaultCode.PAYLOAD_SCHEMA_VIOLATION, f"payload does not fit {model.__name__}: {error}"
        ) from None


def validate_payload(element: etree._Element, schema: str, *, who: str) -> None:
    """Raise ``Client.PayloadSchemaViolation`` unless ``element`` is valid against the named XSD."""
    xsd = load_schema(schema)
    if not xsd.validate(element):
        error = xsd.error_log.last_error
        raise Fault(FaultCode.PAYLOAD_SCHEMA_VIOLATION, f"{who} payload violates {schema}: {error.message}")


@dataclass(frozen=True)
class Contract:
    """What both ends of a teleservice agree on."""

    code: str
    version: int
    schema: str
    style: ClassVar[ServiceStyle]

    def __post_init__(self) -> None:
        ServiceId.of(ParticipantId("XX", "XX", "x"), self.code, self.version)  # validates code and version
        load_schema(self.schema)

    def service_of(self, provider: ParticipantId | str) -> ServiceId:
        """This contract as offered by ``provider``."""
        return ServiceId.of(provider, self.code, self.version)

    def __str__(self) -> str:
        return f"{self.code}/v{self.version}"


@dataclass(frozen=True)
class RequestReply(Contract, Generic[P, Q]):
    """A request answered by one response."""

    request: type[P] = Payload  # type: ignore[assignment]
    response: type[Q] = Payload  # type: ignore[assignment]
    style: ClassVar[ServiceStyle] = ServiceStyle.REQUEST_REPLY


@dataclass(frozen=True)
class Notification(Contract, Generic[P, Q]):
    """A one-way notification fanned out to subscribers, each answering with a signed receipt."""

    notification: type[P] = Payload  # type: ignore[assignment]
    receipt: type[Q] = Payload  # type: ignore[assignment]
    style: ClassVar[ServiceStyle] = ServiceStyle.NOTIFICATION


def payload_models(contract: Contract) -> tuple[type[Payload], type[Payload]]:
    """(inbound, outbound) models of a contract from the provider's or subscriber's point of view."""
    if isinstance(contract, RequestReply):
        return contract.request, contract.response
    if isinstance(contract, Notification):
        return contract.notification, contract.receipt
    raise TypeError(f"not a contract: {contract!r}")


def qualified_tag(model: type[Payload]) -> str:
    """``{namespace}tag`` of a payload model's root element."""
    ns = model.__xml_nsmap__.get(model.__xml_ns__) if model.__xml_ns__ else None  # type: ignore[attr-defined]
    return etree.QName(ns, model.__xml_tag__).text  # type: ignore[attr-defined]
