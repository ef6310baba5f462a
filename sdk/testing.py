"""A throwaway bus for handler tests and demos: its own PKI, catalogue and broker, all in one process.

    with TestBus() as bus:
        bus.publish(ATTESTATION, provider="MA/GOV/CNSS/attestations", clients=["MA/GOV/MEF/tresorerie"])
        bus.start(app)
        with bus.client("MA/GOV/MEF/tresorerie") as client:
            client.call("MA/GOV/CNSS/attestations", ATTESTATION, request)

The broker is a fresh embedded one (``memory://``) unless a URL is given; on RabbitMQ every name gets a
unique prefix and ``close`` deletes the queues it declared (unless ``keep_topology``).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bus.ids import ParticipantId
from bus.pki import BusHome
from bus.pki.authority import CertificateAuthority, KeyAlgorithm
from bus.registry.catalogue import Catalogue, Grant, Right, ServiceEntry, ServiceStyle
from bus.registry.store import publish, save_draft
from bus.transport import connect
from bus.transport.base import Transport
from sdk.app import App, Running
from sdk.client import Client
from sdk.compose import open_node
from sdk.contract import Contract, Notification
from sdk.discovery import META_DESCRIBE, META_SERVICES
from sdk.node import Node


class TestBus:
    """A complete bus in a temporary directory (or ``root``), torn down by ``close``."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        root: Path | str | None = None,
        *,
        broker: str | None = None,
        instance: str = "MA",
        algorithm: KeyAlgorithm = KeyAlgorithm.EC,
        prefix: str | None = None,
        keep_topology: bool = False,
    ) -> None:
        self._own_root = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="govbus-"))
        self.home = BusHome.at(self.root)
        self.prefix = prefix or ("govbus" if broker is None else f"t{uuid.uuid4().hex[:10]}")
        self.broker = broker or f"memory://testbus-{uuid.uuid4().hex}"
        self.authority = CertificateAuthority.init(self.home, algorithm=algorithm, force=True)
        self.catalogue = Catalogue(instance=instance)
        self.transport: Transport = connect(self.broker, prefix=self.prefix)
        self._nodes: list[Node] = []
        self._running: list[Running] = []
        self._clients: list[Client] = []
        self._published = False
        self.keep_topology = keep_topology
        self._served: set[str] = set()

    def participant(self, participant: ParticipantId | str) -> ParticipantId:
        """Issue a signing certificate for ``participant`` (once) and list it in the catalogue."""
        pid = participant if isinstance(participant, ParticipantId) else ParticipantId.parse(participant)
        if not self.home.participant_cert(pid).exists():
            self.authority.issue(pid)
        if pid not in self.catalogue.participants:
            self.catalogue = self.catalogue.with_participant(pid)
            self._published = False
        return pid

    def publish(
        self,
        contract: Contract,
        *,
        provider: ParticipantId | str,
        clients: list[str] | list[ParticipantId] = (),  # type: ignore[assignment]
        description: str = "",
        personal: bool = False,
        confidential: bool = False,
    ) -> None:
        """Add ``provider``'s service of ``contract`` to the catalogue, granted to ``clients``.

        A ``confidential`` service also gets every party an encryption certificate (once).
        """
        service = contract.service_of(self.participant(provider))
        self.catalogue = self.catalogue.with_service(
            ServiceEntry(
                service, contract.style, contract.schema, description, contract.digest, personal, confidential
            )
        )
        if confidential:
            for party in [service.provider, *(self.participant(c) for c in clients)]:
                if not self.home.participant_encryption_cert(party).exists():
                    self.authority.issue_encryption(party)
        right = Right.SUBSCRIBE if isinstance(contract, Notification) else Right.CALL
        for client in clients:
            self.catalogue = self.catalogue.with_grant(Grant(self.participant(client), service, right))
        self._published = False

    def revoke_grant(self, contract: Contract, *, provider: str, client: str) -> None:
        right = Right.SUBSCRIBE if contract.style is ServiceStyle.NOTIFICATION else Right.CALL
        self.catalogue = self.catalogue.without_grant(
            Grant(ParticipantId.parse(client), contract.service_of(provider), right)
        )
        self._published = False
        self.sign_catalogue()

    def sign_catalogue(self) -> None:
        """Sign and publish the catalogue so participants load it."""
        save_draft(self.home, self.catalogue)
        _, self.catalogue = publish(self.home)
        self._published = True

    def node(self, participant: ParticipantId | str) -> Node:
        """A node for ``participant`` on this bus's broker (closed with the bus)."""
        if not self._published:
            self.sign_catalogue()
        node = open_node(self.participant(participant), home=self.home, broker=self.transport)
        self._nodes.append(node)
        return node

    def start(self, app: App, *, concurrency: int = 2, prefetch: int = 16, inline: bool = False) -> Running:
        """Run ``app`` in this process on its own node (``inline``: as ``App.start``)."""
        running = app.start(
            self.node(app.participant), concurrency=concurrency, prefetch=prefetch, inline=inline
        )
        self._running.append(running)
        # an app may serve a service the catalogue does not list (yet): its queues go with the bus too
        self._served.update(str(contract.service_of(app.participant)) for contract in app._served())
        return running

    def client(self, participant: ParticipantId | str) -> Client:
        client = Client(node=self.node(participant))
        self._clients.append(client)
        return client

    def close(self) -> None:
        for running in self._running:
            running.stop()
        for node in self._nodes:
            node.close()
        if self.broker.startswith(("amqp://", "amqps://")) and not self.keep_topology:
            delete_topology(self.transport, self.catalogue)
            for service in sorted(self._served):
                self.transport.delete_service(service)
        self.transport.close()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TestBus:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def delete_topology(transport: Transport, catalogue: Catalogue) -> None:
    """Delete every queue and exchange a bus with this catalogue declares (services, discovery, subscriptions, inboxes)."""
    for service, entry in catalogue.services.items():
        if entry.style is ServiceStyle.REQUEST_REPLY:
            transport.delete_service(str(service))
    providers = {s.provider for s, e in catalogue.services.items() if e.style is ServiceStyle.REQUEST_REPLY}
    for provider in providers:
        for contract in (META_SERVICES, META_DESCRIBE):
            transport.delete_service(str(contract.service_of(provider)))
    for service in catalogue.services:
        for subscriber in catalogue.subscribers(service):
            transport.delete_subscription(str(subscriber), str(service))
    for participant in catalogue.participants:
        transport.delete_inbox(str(participant))
    transport.delete_exchanges()
