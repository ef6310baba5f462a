"""The demo world's signature book: the SGG's book, the signatories of the two administrations, the grants.

The book ``MA/GOV/SGG/parapheur`` serves both administrations. Each signing official is a bus participant
with its own certificate (docs/signature_book.md, "Signatories"): the MEF's secretary general, director
general and deputy secretary general, the CNSS's director general and deputy. The mail offices submit
their replies that need a signature and receive the folders' events; each desk system submits the
folders its agents build in the workspace and acknowledges their events; each signatory's application
acknowledges the delegations it receives.
"""

from __future__ import annotations

import structlog

from sdk import Client, Context, Provider, Running
from sdk.security import SigningIdentity
from sdk.testing import TestBus
from teleservices.signature_book import BookService, EventReceiver
from teleservices.signature_book.contract import (
    BOOK_CONTRACTS,
    BUNDLE,
    DELEGATION_EVENT,
    DOCUMENT,
    FOLDER_EVENT,
    LIST,
    SHOW,
    SUBMIT,
)
from teleservices.signature_book.models import DelegationEvent, FolderEvent

log = structlog.get_logger("govbus.web.demo")

BOOK = "MA/GOV/SGG/parapheur"
SIGNATORIES: dict[str, str] = {
    "MA/GOV/MEF/sg": "MEF : secrétaire général",
    "MA/GOV/MEF/dg": "MEF : directeur général du budget",
    "MA/GOV/MEF/sg-adjoint": "MEF : secrétaire général adjoint",
    "MA/GOV/CNSS/dg": "CNSS : directeur général",
    "MA/GOV/CNSS/dg-adjoint": "CNSS : directeur général adjoint",
}
"""Signing officials (participant id -> name); the administration is the id's first two parts."""


def _noted(event: FolderEvent | DelegationEvent, ctx: Context) -> None:
    log.info("web.demo.signature_book_event", kind=type(event).__name__, sender=str(ctx.client))


class DemoSignatureBook:
    """The book on the demo bus and the applications that receive its events."""

    def __init__(self, bus: TestBus, desks: list[str]) -> None:
        self.bus = bus
        self.participant = BOOK
        self.service = BookService(BOOK, drain_interval=0.5, max_backoff=5.0, event_timeout=5.0)
        self.receivers = []
        for desk in desks:
            app = Provider(desk)
            EventReceiver(app, on_folder=_noted)
            self.receivers.append(app)
        for signatory in SIGNATORIES:
            app = Provider(signatory)
            EventReceiver(app, on_delegation=_noted)
            self.receivers.append(app)
        self.running: list[Running] = []

    @classmethod
    def publish(cls, bus: TestBus, *, offices: list[str], desks: dict[str, str]) -> DemoSignatureBook:
        """Grant the book's operations to the offices, desks and signatories, and its events back."""
        submitters = [*offices, *desks.values()]
        readers = (SUBMIT, SHOW, LIST, DOCUMENT, BUNDLE)  # a desk submits and follows its folders
        for contract in BOOK_CONTRACTS:
            clients = [] if contract is SUBMIT else list(SIGNATORIES)
            clients += list(desks.values()) if contract in readers else []
            clients += offices if contract is SUBMIT else []  # an office submits its held replies
            bus.publish(contract, provider=BOOK, clients=clients)
        for submitter in submitters:
            bus.publish(FOLDER_EVENT, provider=submitter, clients=[BOOK])
        for signatory in SIGNATORIES:
            bus.publish(DELEGATION_EVENT, provider=signatory, clients=[BOOK])
        for participant, name in {BOOK: "Parapheur électronique du SGG", **SIGNATORIES}.items():
            bus.catalogue = bus.catalogue.with_participant(bus.participant(participant), name)
        return cls(bus, list(desks.values()))

    def start(self) -> None:
        self.running.append(self.bus.start(self.service.app))
        for app in self.receivers:
            self.running.append(self.bus.start(app, concurrency=1, prefetch=4))

    def client(self, participant: str) -> Client:
        """A client of ``participant`` (a signatory) on the demo bus."""
        return self.bus.client(participant)

    def identity(self, participant: str) -> SigningIdentity:
        """``participant``'s signing key and certificate, from the demo bus's home."""
        return SigningIdentity.from_home(self.bus.home, participant)
