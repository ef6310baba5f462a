"""The portal on the bus: an ordinary participant that deposits letters and hears back from offices.

It serves ``mail.status`` and ``mail.deposit`` with the mail office's ``DepositorSystem`` (status steps
and replies of the letters it deposited), and calls each office's ``mail.deposit`` with a ``Client`` on
the same node. Which offices it may write to comes from the signed catalogue: every provider of
``mail.deposit`` that grants the portal the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bus.registry.catalogue import Right
from sdk import CallFailed, Client, FaultCode, Node, ParticipantId, Provider, Running
from sdk.contract import decode, encode
from teleservices.mail_office import (
    DEPOSIT,
    SCHEMA,
    Acknowledgement,
    Deposit,
    DepositorSystem,
    StatusChange,
    deposit_digest,
)

DEFAULT_PORTAL_ID = "MA/GOV/PORTAIL/guichet"
DEPOSIT_PURPOSE = "deposit of a letter by its author"


@dataclass(frozen=True, slots=True)
class Office:
    """A mail office the portal may deposit letters with."""

    participant: str
    name: str


@dataclass(frozen=True, slots=True)
class Deposited:
    acknowledgement: Acknowledgement
    envelope: bytes
    """The office's signed response envelope, byte for byte as received and verified."""


class PortalParticipant:
    """The portal's ``Provider`` and its client side; ``start`` runs it on a node."""

    def __init__(
        self,
        participant: str = DEFAULT_PORTAL_ID,
        *,
        on_change: Callable[[str, StatusChange], None] | None = None,
        on_letter: Callable[[str, Deposit], None] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.app = Provider(participant)
        self.depositor = DepositorSystem(self.app, on_change=on_change, on_letter=on_letter)
        self.timeout = timeout
        self._running: Running | None = None
        self._client: Client | None = None

    @property
    def participant(self) -> ParticipantId:
        return self.app.participant

    def start(self, node: Node) -> None:
        self._running = self.app.start(node, concurrency=2, prefetch=16)
        self._client = Client(node=node)

    @property
    def node(self) -> Node:
        if self._running is None:
            raise RuntimeError("the portal participant is not started")
        return self._running.node

    @property
    def client(self) -> Client:
        """The portal's client on its node, for calls to administrations other than deposits."""
        if self._client is None:
            raise RuntimeError("the portal participant is not started")
        return self._client

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None

    def offices(self) -> list[Office]:
        """The offices the signed catalogue lets this portal deposit with, by name."""
        catalogue = self.node.catalogue
        offices = [
            Office(str(entry.service.provider), catalogue.participants.get(entry.service.provider, ""))
            for entry in catalogue.providers_of(DEPOSIT.code, DEPOSIT.version)
            if entry.service.provider != self.participant
            and catalogue.allows(self.participant, entry.service, Right.CALL)
        ]
        return sorted(offices, key=lambda office: (office.name or office.participant).casefold())

    def office(self, participant: str) -> Office | None:
        return next((o for o in self.offices() if o.participant == participant), None)

    def deposit(self, office: str, letter: Deposit, *, user_id: str) -> Deposited:
        """Deposit ``letter`` with ``office``; the acknowledgement must bind this very letter.

        Raises ``CallFailed`` (the bus's or the office's refusal, a timeout, or a wrong acknowledgement).
        """
        assert self._client is not None, "the portal participant is not started"
        verified = self._client.call_raw(
            DEPOSIT.service_of(office),
            encode(letter, SCHEMA),
            purpose=DEPOSIT_PURPOSE,
            user_id=user_id,
            timeout=self.timeout,
        )
        acknowledgement = decode(verified.payload, Acknowledgement, SCHEMA)
        if acknowledgement.office != office or acknowledgement.deposit_digest != deposit_digest(letter):
            raise CallFailed(
                FaultCode.RESPONSE_MISMATCH,
                "the acknowledgement does not acknowledge this letter from this office",
            )
        return Deposited(acknowledgement, verified.raw)

    def steps(self, office: str, registration_number: str) -> list[StatusChange]:
        """Every step an office reported for one letter, in order."""
        return self.depositor.store(self.node).steps(office, registration_number)

    def replies(self, identifier: str) -> list[Deposit]:
        """Letters offices sent to the user with this CIN or ICE."""
        return self.depositor.store(self.node).letters(identifier)
