"""Discovery over the bus: ``meta.services`` lists a provider's services, ``meta.describe`` gives one's XSD.

Every provider answers both for its own services, from the signed catalogue, to any participant listed in
it (no grant needed), like X-Road's listMethods/allowedMethods and getWsdl.
"""

from __future__ import annotations

from pydantic_xml import element

from bus.ids import ServiceId
from bus.registry.catalogue import Right, ServiceStyle
from schemas import schema_bytes
from sdk.context import Context
from sdk.contract import Payload, RequestReply
from sdk.errors import ServiceError

NS = "urn:govbus:meta:1"
SCHEMA = "meta.xsd"


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
    id: str = element()
    style: str = element()
    description: str = element(default="")
    schema_name: str = element(tag="schemaName")
    schema_text: str = element(tag="schema")


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


def describe_service(request: DescribeService, ctx: Context) -> ServiceDescription:
    """One of this provider's services with the full text of its XSD contract."""
    try:
        service = ServiceId.parse(request.id)
    except ValueError as error:
        raise ServiceError(str(error), code="Meta.InvalidId") from None
    if service.provider != ctx.participant:
        raise ServiceError(f"{service} is not provided by {ctx.participant}", code="Meta.NotProvidedHere")
    entry = ctx.catalogue.service(service)
    try:
        text = schema_bytes(entry.schema).decode("utf-8")
    except OSError:
        raise ServiceError(
            f"the schema {entry.schema} is not available here", code="Meta.SchemaMissing"
        ) from None
    return ServiceDescription(
        id=str(service),
        style=str(entry.style),
        description=entry.description,
        schema_name=entry.schema,
        schema_text=text,
    )
