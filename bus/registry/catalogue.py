"""The catalogue as data: participants, services and access rights, like X-Road's global configuration.

Providers deny by default: a client may call a service, or subscribe to a notification service, only
when the catalogue holds a grant saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId

META_CODES = frozenset({"meta.services", "meta.describe"})
"""Discovery services every provider answers, open to every participant of the catalogue (like X-Road's
listMethods and getWsdl): they need no entry and no grant."""


def is_meta(service: ServiceId) -> bool:
    return service.code in META_CODES and service.version == 1


class ServiceStyle(StrEnum):
    """How a service is used."""

    REQUEST_REPLY = "request-reply"
    NOTIFICATION = "notification"


class Right(StrEnum):
    """What a grant allows."""

    CALL = "call"
    SUBSCRIBE = "subscribe"


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """One published teleservice.

    ``digest`` is the SHA-256 hex of the XSD's bytes, so a consumer can tell the contract it holds is the
    published one; it is empty only for entries of catalogues signed before digests were recorded.
    """

    service: ServiceId
    style: ServiceStyle
    schema: str
    description: str = ""
    digest: str = ""
    personal: bool = False  # handles personal data: callers must declare purpose and dataSubject
    confidential: bool = False  # requests, responses and notifications carry encrypted payloads


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """``client`` may ``right`` ``service``."""

    client: ParticipantId
    service: ServiceId
    right: Right


@dataclass(frozen=True)
class Catalogue:
    """An immutable catalogue version; edits return a new catalogue."""

    instance: str
    version: int = 0
    participants: dict[ParticipantId, str] = field(default_factory=dict)
    services: dict[ServiceId, ServiceEntry] = field(default_factory=dict)
    grants: frozenset[Grant] = frozenset()

    def with_participant(self, participant: ParticipantId, name: str = "") -> Catalogue:
        return replace(self, participants={**self.participants, participant: name or str(participant)})

    def with_service(self, entry: ServiceEntry) -> Catalogue:
        catalogue = (
            self
            if entry.service.provider in self.participants
            else self.with_participant(entry.service.provider)
        )
        return replace(catalogue, services={**catalogue.services, entry.service: entry})

    def without_service(self, service: ServiceId) -> tuple[Catalogue, list[Grant]]:
        """The catalogue without ``service`` and without the grants on it (returned, sorted)."""
        if service not in self.services:
            raise Fault(FaultCode.UNKNOWN_SERVICE, f"{service} is not in the catalogue")
        dropped = sorted(g for g in self.grants if g.service == service)
        services = {s: e for s, e in self.services.items() if s != service}
        return replace(self, services=services, grants=self.grants - set(dropped)), dropped

    def with_grant(self, grant: Grant) -> Catalogue:
        entry = self.service(grant.service)
        expected = Right.SUBSCRIBE if entry.style is ServiceStyle.NOTIFICATION else Right.CALL
        if grant.right is not expected:
            raise ValueError(
                f"{grant.service} is a {entry.style} service: grant '{expected}', not '{grant.right}'"
            )
        catalogue = self if grant.client in self.participants else self.with_participant(grant.client)
        return replace(catalogue, grants=catalogue.grants | {grant})

    def without_grant(self, grant: Grant) -> Catalogue:
        if grant not in self.grants:
            raise ValueError(f"no grant: {grant.client} {grant.right} {grant.service}")
        return replace(self, grants=self.grants - {grant})

    def service(self, service: ServiceId) -> ServiceEntry:
        """The entry of ``service``, or ``Client.UnknownService``."""
        entry = self.services.get(service)
        if entry is None and is_meta(service) and self.provided_by(service.provider):
            return ServiceEntry(service, ServiceStyle.REQUEST_REPLY, "meta.xsd", "discovery")
        if entry is None:
            raise Fault(FaultCode.UNKNOWN_SERVICE, f"{service} is not in the catalogue")
        return entry

    def allows(self, client: ParticipantId, service: ServiceId, right: Right) -> bool:
        if is_meta(service):
            return right is Right.CALL and client in self.participants
        return Grant(client, service, right) in self.grants

    def check(self, client: ParticipantId, service: ServiceId, right: Right) -> ServiceEntry:
        """The service entry when ``client`` holds ``right`` on it; otherwise the refusing fault."""
        entry = self.service(service)
        if not self.allows(client, service, right):
            raise Fault(FaultCode.ACCESS_DENIED, f"{client} may not {right} {service}")
        return entry

    def subscribers(self, service: ServiceId) -> list[ParticipantId]:
        """Participants granted a subscription to a notification service, sorted."""
        return sorted(g.client for g in self.grants if g.service == service and g.right is Right.SUBSCRIBE)

    def provided_by(self, provider: ParticipantId) -> list[ServiceEntry]:
        return sorted(
            (e for e in self.services.values() if e.service.provider == provider),
            key=lambda e: str(e.service),
        )

    def providers_of(self, code: str, version: int) -> list[ServiceEntry]:
        """Every service with this code and version, whoever provides it."""
        return sorted(
            (e for e in self.services.values() if e.service.code == code and e.service.version == version),
            key=lambda e: str(e.service),
        )

    def grants_of(self, client: ParticipantId) -> list[Grant]:
        return sorted(g for g in self.grants if g.client == client)
