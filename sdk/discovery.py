"""Discovery over the bus: ``meta.services`` lists a provider's services, ``meta.describe`` gives one's XSD.

Every provider answers both for its own services, from the signed catalogue, to any participant listed in
it (no grant needed), like X-Road's listMethods/allowedMethods and getWsdl. ``meta.describe`` returns the
XSD of the contract the provider actually runs (its package resource), with its exact bytes; the caller
checks their SHA-256 against the digest the signed catalogue publishes (``verified_schema``), so a
consumer that has only a service id never reads a contract from its own disk.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable

from pydantic_xml import element

from bus.faults import Fault, FaultCode
from bus.ids import ServiceId
from bus.registry.catalogue import Right, ServiceEntry, ServiceStyle
from schemas import SchemaNotFound, schema_bytes
from sdk.context import Context
from sdk.contract import Contract, Payload, RequestReply, check_digest, schema_digest
from sdk.errors import ServiceError

NS = "urn:govbus:meta:1"
SCHEMA = "schemas:meta.xsd"


class ListServices(Payload, tag="ListServices", ns="m", nsmap={"m": NS}):
    """Ask a provider for its services."""


class ServiceSummary(Payload, tag="service", ns="m", nsmap={"m": NS}):
    id: str = element()
    style: str = element()
    description: str = element(default="")
    allowed: bool = element()


class ServiceList(Payload, tag="ServiceList", ns="m", nsmap={"m": NS}):
    services: list[ServiceSummary] = element(tag="service", default_factory=list)


class DescribeService(Payload, tag="DescribeService", ns="m", nsmap={"m": NS}):
    id: str = element()


class ServiceDescription(Payload, tag="ServiceDescription", ns="m", nsmap={"m": NS}):
    """One service: ``schema_text`` for people, ``schema_content`` (base64 of the exact bytes) to check."""

    id: str = element()
    style: str = element()
    description: str = element(default="")
    schema_name: str = element(tag="schemaName")
    schema_text: str = element(tag="schema")
    schema_content: str | None = element(tag="schemaContent", default=None)
    schema_digest: str | None = element(tag="schemaDigest", default=None)

    def schema_data(self) -> bytes:
        """The XSD's exact bytes (its text in UTF-8 when the provider sent no content)."""
        if self.schema_content is None:
            return self.schema_text.encode("utf-8")
        try:
            return base64.b64decode(self.schema_content, validate=True)
        except (binascii.Error, ValueError):
            raise Fault(FaultCode.PAYLOAD_SCHEMA_VIOLATION, "schemaContent is not base64") from None


META_SERVICES = RequestReply("meta.services", 1, SCHEMA, request=ListServices, response=ServiceList)
META_DESCRIBE = RequestReply("meta.describe", 1, SCHEMA, request=DescribeService, response=ServiceDescription)


def list_services(request: ListServices, ctx: Context) -> ServiceList:
    """This provider's services in the catalogue, each saying whether the caller may use it."""
    catalogue = ctx.catalogue
    summaries = []
    for entry in catalogue.provided_by(ctx.participant):
        right = Right.SUBSCRIBE if entry.style is ServiceStyle.NOTIFICATION else Right.CALL
        summaries.append(
            ServiceSummary(
                id=str(entry.service),
                style=str(entry.style),
                description=entry.description,
                allowed=catalogue.allows(ctx.client, entry.service, right),
            )
        )
    return ServiceList(services=summaries)


def describer(contracts: Iterable[Contract]) -> Callable[[DescribeService, Context], ServiceDescription]:
    """The ``meta.describe`` handler of an app running ``contracts``: it describes them with their own XSD."""
    by_code = {(c.code, c.version): c for c in contracts}

    def describe_service(request: DescribeService, ctx: Context) -> ServiceDescription:
        """One of this provider's services with the full text of its XSD contract."""
        try:
            service = ServiceId.parse(request.id)
        except ValueError as error:
            raise ServiceError(str(error), code="Meta.InvalidId") from None
        if service.provider != ctx.participant:
            raise ServiceError(f"{service} is not provided by {ctx.participant}", code="Meta.NotProvidedHere")
        entry = ctx.catalogue.service(service)
        contract = by_code.get((service.code, service.version))
        data = contract.xsd if contract is not None else _published_schema(entry)
        return ServiceDescription(
            id=str(service),
            style=str(entry.style),
            description=entry.description,
            schema_name=entry.schema,
            schema_text=data.decode("utf-8"),
            schema_content=base64.b64encode(data).decode("ascii"),
            schema_digest=schema_digest(data),
        )

    return describe_service


def _published_schema(entry: ServiceEntry) -> bytes:
    """The XSD the catalogue names for a service this app does not run (a notifier's service)."""
    try:
        return schema_bytes(entry.schema)
    except SchemaNotFound:
        raise ServiceError(
            f"the schema {entry.schema} is not available here", code="Meta.SchemaMissing"
        ) from None


def verified_schema(description: ServiceDescription, entry: ServiceEntry) -> bytes:
    """The described XSD's bytes once their digest matches the catalogue's (else ``Client.ContractMismatch``)."""
    data = description.schema_data()
    check_digest(entry.service, schema_digest(data), entry, whose="the provider's described")
    return data
