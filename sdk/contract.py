"""Teleservice contracts: code, version, style, payload models and the XSD both ends validate against.

A contract's XSD is a resource of its own package, beside its payload models: ``schema="vehicles.xsd"``
in a contract whose models live in ``narsa_vehicles.contract`` is ``narsa_vehicles:vehicles.xsd``. After
construction ``Contract.schema`` always holds that qualified ``package:resource`` name (the one
``govbus registry add-service --schema`` takes), and ``Contract.digest`` the SHA-256 hex of the XSD's
bytes, which the signed catalogue publishes for the service.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

import lxml.etree as etree
import pydantic
from pydantic_xml import BaseXmlModel

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.registry.catalogue import ServiceStyle
from bus.registry.schema import schema_digest as schema_digest
from schemas import SchemaNotFound, load_schema, schema_bytes

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bus.registry.catalogue import Catalogue, ServiceEntry


class Payload(BaseXmlModel):
    """Base class of every teleservice payload: a pydantic model mapped to XML by pydantic-xml."""

    model_config: ClassVar[pydantic.ConfigDict] = pydantic.ConfigDict(frozen=True, extra="forbid")


P = TypeVar("P", bound=Payload)
Q = TypeVar("Q", bound=Payload)


def encode(payload: Payload, schema: str) -> etree._Element:
    """Serialise a payload and check it against the contract's XSD (a sender never emits invalid XML)."""
    element = cast(etree._Element, payload.to_xml_tree(skip_empty=True))
    validate_payload(element, schema, who="outgoing")
    return element


def decode(element: etree._Element, model: type[P], schema: str) -> P:
    """Validate a received payload element against the XSD, then map it to ``model``."""
    validate_payload(element, schema, who="received")
    expected = qualified_tag(model)
    if element.tag != expected:
        raise Fault(FaultCode.PAYLOAD_SCHEMA_VIOLATION, f"payload is {element.tag}, expected {expected}")
    try:
        return model.from_xml_tree(cast(Any, element))
    except (pydantic.ValidationError, ValueError) as error:
        raise Fault(
            FaultCode.PAYLOAD_SCHEMA_VIOLATION, f"payload does not fit {model.__name__}: {error}"
        ) from None


def validate_payload(element: etree._Element, schema: str, *, who: str) -> None:
    """Raise ``Client.PayloadSchemaViolation`` unless ``element`` is valid against the named XSD."""
    xsd = load_schema(schema)
    if not xsd.validate(element):
        raise Fault(FaultCode.PAYLOAD_SCHEMA_VIOLATION, f"{who} payload violates {schema}: {last_error(xsd)}")


def last_error(xsd: etree.XMLSchema) -> str:
    """The message of the last validation error of ``xsd`` (on this thread)."""
    error = cast(Any, xsd.error_log).last_error  # lxml-stubs leave _ErrorLog empty
    return str(error.message) if error is not None else "invalid"


def check_digest(service: ServiceId | str, digest: str, entry: ServiceEntry, *, whose: str) -> None:
    """Raise ``Client.ContractMismatch`` unless ``digest`` is the one the catalogue publishes for ``service``.

    An entry without a digest (a catalogue signed before digests were recorded) is not checked.
    """
    published = entry.digest
    if published and digest != published:
        raise Fault(
            FaultCode.CONTRACT_MISMATCH,
            f"{whose} XSD of {service} has digest {digest[:12]}..., the catalogue publishes {published[:12]}...:"
            " install the contract version the catalogue publishes",
        )


def check_catalogue(contracts: Iterable[Contract], catalogue: Catalogue) -> None:
    """Raise ``Client.ContractMismatch`` unless every service of these contracts publishes their XSD.

    A participant runs this before it serves or subscribes: a contract's code and version name one XSD,
    whichever provider offers it.
    """
    for contract in contracts:
        for entry in catalogue.providers_of(contract.code, contract.version):
            contract.check_published(entry.service, entry)


def _package_of(module_name: str) -> str:
    """The package a module belongs to (the module itself when it is a package)."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__path__"):
        return module_name
    return module_name.rpartition(".")[0]


@dataclass(frozen=True)
class Contract:
    """What both ends of a teleservice agree on.

    ``schema`` is a resource of the package of the contract's inbound payload model (or ``package:resource``
    to name another package's); it must exist and compile when the contract is built (import time).
    """

    code: str
    version: int
    schema: str
    style: ClassVar[ServiceStyle]

    def __post_init__(self) -> None:
        ServiceId.of(ParticipantId("XX", "XX", "x"), self.code, self.version)  # validates code and version
        if ":" not in self.schema:
            anchor = payload_models(self)[0]
            package = _package_of(anchor.__module__)
            if not package or anchor is Payload:
                raise ValueError(
                    f"contract {self}: name its schema as package:resource (its models are not in a package)"
                )
            object.__setattr__(self, "schema", f"{package}:{self.schema}")
        try:
            load_schema(self.schema)
        except SchemaNotFound as error:
            raise ValueError(f"contract {self}: {error} (ship it as package data)") from None
        except etree.XMLSchemaParseError as error:
            raise ValueError(f"contract {self}: {self.schema} is not a valid XSD: {error}") from None

    @cached_property
    def xsd(self) -> bytes:
        """The bytes of this contract's XSD, read from its package."""
        return schema_bytes(self.schema)

    @cached_property
    def digest(self) -> str:
        """SHA-256 hex of the XSD, to compare with the catalogue's."""
        return schema_digest(self.xsd)

    def check_published(self, service: ServiceId, entry: ServiceEntry) -> None:
        """Raise ``Client.ContractMismatch`` when the catalogue publishes another XSD for ``service``."""
        check_digest(service, self.digest, entry, whose="this participant's")

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
    nsmap = model.__xml_nsmap__ or {}
    ns = nsmap.get(model.__xml_ns__) if model.__xml_ns__ else None
    return etree.QName(ns, model.__xml_tag__).text
