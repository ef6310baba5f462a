"""The consumer's and the notifier's side: call a teleservice, or notify its subscribers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import lxml.etree as etree

from bus.envelope import DataSubject, Header, MessageKind, VerifiedEnvelope
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.pki import BusHome
from bus.registry.catalogue import ServiceStyle
from bus.transport.base import OutgoingMessage, Publication, Transport
from schemas import compile_schema
from sdk import exchange
from sdk.compose import open_node
from sdk.contract import Contract, Notification, Payload, RequestReply, last_error
from sdk.discovery import (
    META_DESCRIBE,
    META_SERVICES,
    DescribeService,
    ListServices,
    ServiceDescription,
    ServiceSummary,
    verified_schema,
)
from sdk.errors import CallFailed
from sdk.node import Node
from sdk.receipts import NotifyResult

R = TypeVar("R", bound=Payload)
Q = TypeVar("Q", bound=Payload)
N = TypeVar("N", bound=Payload)

DEFAULT_NOTIFICATION_TTL = timedelta(days=7)


class Client:
    """A participant calling teleservices and sending notifications; one per thread (or share its Node)."""

    def __init__(
        self,
        participant: ParticipantId | str | None = None,
        *,
        home: BusHome | str | Path | None = None,
        broker: str | Transport = "memory://",
        prefix: str = "govbus",
        node: Node | None = None,
    ) -> None:
        if node is None:
            if participant is None:
                raise ValueError("give a participant id (with home and broker) or a running node")
            bus_home = home if isinstance(home, BusHome) else BusHome.at(home)
            node = open_node(participant, home=bus_home, broker=broker, prefix=prefix)
            self._owns_node = True
        else:
            self._owns_node = False
        self.node = node
        self._declared: set[ServiceId] = set()
        self._described: dict[ServiceId, etree.XMLSchema] = {}

    @property
    def participant(self) -> ParticipantId:
        return self.node.participant

    def call(
        self,
        provider: ParticipantId | str,
        contract: RequestReply[Q, R],
        request: Q,
        *,
        purpose: str | None = None,
        user_id: str | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        data_subject: DataSubject | str | None = None,
    ) -> R:
        """Send ``request`` to ``provider``'s teleservice and return its verified, typed response.

        The request is published once and waits in the provider's queue; ``retries`` re-sends it (same
        signed message, same id, answered idempotently) only after the broker was unavailable. ``data_subject``
        (``CIN:...``/``ICE:...``) is signed into the header; services the catalogue marks personal
        refuse a call without it and ``purpose`` (``Client.PersonalDataUndeclared``). Raises
        ``CallFailed`` with the fault code on a fault, a bad reply or no reply, and ``CallFailed``
        (``Client.PayloadSchemaViolation``, nothing sent) when ``request`` breaks the XSD, and
        (``Client.ContractMismatch``, nothing sent) when the catalogue publishes another XSD.
        """
        self._check_contract(contract, contract.service_of(provider))
        return exchange.call(
            self.node,
            provider,
            contract,
            request,
            purpose=purpose,
            user_id=user_id,
            timeout=timeout,
            retries=retries,
            data_subject=data_subject,
        )

    def call_raw(
        self,
        service: ServiceId | str,
        payload: etree._Element,
        *,
        purpose: str | None = None,
        user_id: str | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        data_subject: DataSubject | str | None = None,
    ) -> VerifiedEnvelope:
        """Call a service with an untyped payload, checked against the service's XSD first.

        The XSD comes over the bus from the provider (``meta.describe``, once per service and client) and
        must have the digest the signed catalogue publishes; nothing is read from this machine's disk.
        """
        service = service if isinstance(service, ServiceId) else ServiceId.parse(service)
        try:
            entry = self.node.catalogue.service(service)
        except Fault as fault:
            raise CallFailed(fault.code, fault.reason) from None
        if entry.style is not ServiceStyle.REQUEST_REPLY:
            raise CallFailed(
                FaultCode.UNKNOWN_SERVICE, f"{service} is a {entry.style} service, not request-reply"
            )
        xsd = self._described.get(service)
        if xsd is None:
            data = verified_schema(self.describe(service, timeout=timeout), entry)
            xsd = self._described[service] = compile_schema(data)
        if not xsd.validate(payload):
            raise CallFailed(
                FaultCode.PAYLOAD_SCHEMA_VIOLATION,
                f"outgoing payload violates the XSD of {service}: {last_error(xsd)}",
            )
        return exchange.exchange(
            self.node, service, payload, purpose, user_id, timeout, retries, data_subject
        )

    def services(self, provider: ParticipantId | str, *, timeout: float = 10.0) -> list[ServiceSummary]:
        """Ask ``provider`` over the bus which services it offers and which of them this client may use."""
        return self.call(provider, META_SERVICES, ListServices(), timeout=timeout).services

    def describe(self, service: ServiceId | str, *, timeout: float = 10.0) -> ServiceDescription:
        """Ask a service's provider over the bus for its description and XSD contract.

        Raises ``CallFailed`` with ``Client.ContractMismatch`` when the XSD's digest is not the one the
        signed catalogue publishes for the service.
        """
        service = service if isinstance(service, ServiceId) else ServiceId.parse(service)
        description = self.call(
            service.provider, META_DESCRIBE, DescribeService(id=str(service)), timeout=timeout
        )
        try:
            verified_schema(description, self.node.catalogue.service(service))
        except Fault as fault:
            raise CallFailed(fault.code, fault.reason) from None
        return description

    def notify(
        self,
        contract: Notification[N, Any],
        notification: N,
        *,
        purpose: str | None = None,
        user_id: str | None = None,
        timeout: float = 5.0,
        ttl: timedelta = DEFAULT_NOTIFICATION_TTL,
    ) -> NotifyResult:
        """Publish a notification as this participant's ``contract`` service; wait up to ``timeout`` for receipts.

        Every subscriber granted the service has a durable queue (declared here if missing), so the
        notification waits for subscribers that are down; their receipts arrive in the inbox later.
        """
        service = contract.service_of(self.participant)
        expected = self._subscribers(service)
        self._check_contract(contract, service)
        payload = exchange.outgoing(notification, contract.schema)
        self._declare_subscriptions(service, expected)
        header = Header.new(
            MessageKind.NOTIFICATION, self.participant, service, ttl=ttl, purpose=purpose, user_id=user_id
        )
        try:
            raw = self.node.sign(header, payload)
        except Fault as fault:  # a subscriber of a confidential service without encryption certificate
            raise CallFailed(fault.code, fault.reason) from None
        inbox = self.node.inbox()
        inbox.register(contract)
        waiter = inbox.expect(header.id, hashlib.sha256(raw).hexdigest(), service, expected)
        self.node.record("out", raw, header=header, outcome="sent")
        try:
            try:
                self.node.transport.notify(
                    str(service),
                    OutgoingMessage(raw, message_id=header.id, expiration_ms=int(ttl.total_seconds() * 1000)),
                )
            except Fault as fault:
                self.node.record("out", raw, header=header, outcome="failed", fault=fault)
                raise
            receipts = waiter.wait(timeout)
        except Fault as fault:
            raise CallFailed(fault.code, fault.reason) from None
        finally:
            inbox.forget(header.id)
        return NotifyResult(header.id, service, expected, receipts)

    def notify_many(
        self,
        contract: Notification[N, Any],
        notifications: Iterable[N],
        *,
        window: int = 256,
        purpose: str | None = None,
        user_id: str | None = None,
        ttl: timedelta = DEFAULT_NOTIFICATION_TTL,
        chunk: int = 128,
    ) -> list[str]:
        """Sign and publish many notifications with up to ``window`` publisher confirms in flight.

        Returns their ids once every one is confirmed (stored by the broker in each subscriber's durable
        queue). Each chunk is signed, logged and its digests kept (for the receipts) before it is
        published; receipts arrive later in the inbox. Raises ``CallFailed`` if any publish failed.
        """
        service = contract.service_of(self.participant)
        expected = self._subscribers(service)
        self._check_contract(contract, service)
        self._check_recipients(service, expected)
        self._declare_subscriptions(service, expected)
        inbox = self.node.inbox()
        inbox.register(contract)
        routing = str(service)
        notifications_exchange = self.node.transport.topology.notifications_exchange
        expiration_ms = int(ttl.total_seconds() * 1000)
        ids: list[str] = []

        def signed() -> Iterator[Publication]:
            pending = iter(notifications)
            while part := list(islice(pending, chunk)):
                sent = []
                for notification in part:
                    header = Header.new(
                        MessageKind.NOTIFICATION,
                        self.participant,
                        service,
                        ttl=ttl,
                        purpose=purpose,
                        user_id=user_id,
                    )
                    payload = exchange.outgoing(notification, contract.schema)
                    sent.append((header, self.node.sign(header, payload)))
                inbox.sent.add_many([(h.id, hashlib.sha256(raw).hexdigest(), service) for h, raw in sent])
                self.node.record_sent(sent)
                for header, raw in sent:
                    ids.append(header.id)
                    message = OutgoingMessage(raw, message_id=header.id, expiration_ms=expiration_ms)
                    yield Publication(notifications_exchange, routing, message)

        faults = self.node.transport.publish_many(signed(), window=window)
        failed = [fault for fault in faults if fault is not None]
        if failed:
            raise CallFailed(
                failed[0].code, f"{len(failed)} of {len(faults)} notifications failed: {failed[0].reason}"
            )
        return ids

    def _subscribers(self, service: ServiceId) -> list[ParticipantId]:
        """The participants granted ``service``; ``CallFailed`` when it is unknown or has none."""
        catalogue = self.node.catalogue
        try:
            catalogue.service(service)
        except Fault as fault:
            raise CallFailed(fault.code, fault.reason) from None
        expected = catalogue.subscribers(service)
        if not expected:
            raise CallFailed(FaultCode.UNROUTABLE, f"no participant is granted a subscription to {service}")
        return expected

    def _check_recipients(self, service: ServiceId, subscribers: list[ParticipantId]) -> None:
        """Refuse, before anything is signed, a confidential service a subscriber cannot be sealed for."""
        if not self.node.catalogue.service(service).confidential:
            return
        try:
            for party in [*subscribers, self.participant]:
                self.node.keys.recipient(party)
        except Fault as fault:
            raise CallFailed(fault.code, fault.reason) from None

    def _check_contract(self, contract: Contract, service: ServiceId) -> None:
        """Refuse to send with a contract whose XSD is not the one the catalogue publishes for ``service``."""
        try:
            contract.check_published(service, self.node.catalogue.service(service))
        except Fault as fault:
            raise CallFailed(fault.code, fault.reason) from None

    def _declare_subscriptions(self, service: ServiceId, subscribers: list[ParticipantId]) -> None:
        if service in self._declared:
            return
        for subscriber in subscribers:
            self.node.transport.declare_subscription(str(subscriber), str(service))
        self._declared.add(service)

    def close(self) -> None:
        if self._owns_node:
            self.node.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
