"""The demo world ``govbus web`` starts by default: a whole bus in one process, on the embedded broker.

The pilots (CNSS certificate, death notice), two administrations' mail offices (MEF and CNSS, each with
its desk system) and the portal participant, on a throwaway PKI and signed catalogue that grants
exactly what the mail office's documentation lists: the portal deposits with both offices, the
offices send it status steps and replies, each desk runs its own office. Two demo accounts are created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdk import Client, Node, RequestReply, Running
from sdk.testing import TestBus
from teleservices import access_tracker, procurement
from teleservices.access_tracker import QUERY_ACCESSES
from teleservices.demo.world import World as PilotWorld
from teleservices.mail_office import (
    ALERTS,
    ANSWER_CONSULTATION,
    ASSIGN,
    CLOSE,
    CONSULT,
    DEPOSIT,
    GIVE_OPINION,
    OPINION,
    REDIRECT,
    REGISTER,
    REGISTER_COUNTER,
    REPLY,
    REQUEST_OPINION,
    SEND,
    SHOW,
    SIGNATURES,
    STATUS,
    VALIDATE,
    DayCount,
    MailOffice,
    MailOfficeService,
    MailType,
    OfficeConfig,
)
from teleservices.mail_office.service import office_directory
from web.directory import OfficeContact, OfficeDirectory
from web.participant import DEFAULT_PORTAL_ID
from web.signature_book_demo import DemoSignatureBook

MEF_OFFICE = "MA/GOV/MEF/bureau-ordre"
CNSS_OFFICE = "MA/GOV/CNSS/bureau-ordre"
DESKS = {MEF_OFFICE: "MA/GOV/MEF/desk", CNSS_OFFICE: "MA/GOV/CNSS/desk"}
DESK_CONTRACTS = (
    ASSIGN,
    REDIRECT,
    REQUEST_OPINION,
    GIVE_OPINION,
    VALIDATE,
    REPLY,
    CLOSE,
    SEND,
    SHOW,
    ANSWER_CONSULTATION,
    REGISTER_COUNTER,
    REGISTER,
    ALERTS,
    SIGNATURES,
)

OFFICES = {
    MEF_OFFICE: (
        OfficeConfig(
            participant=MEF_OFFICE,
            name="Ministère de l'Économie et des Finances",
            code="MEF",
            counter_channel=DEFAULT_PORTAL_ID,
            services=("bureau-ordre", "rh", "marches", "fiscalite"),
            mail_types={
                "request": MailType(20, service="rh"),
                "complaint": MailType(30, service="fiscalite"),
                "letter": MailType(30),
                "information": MailType(10),
                "urgent": MailType(1, DayCount.BUSINESS, service="rh"),
                "reply": MailType(30),
            },
        ),
        OfficeContact(
            name="Bureau d'ordre central, Ministère de l'Économie et des Finances",
            address="Boulevard Mohammed V, Quartier administratif, Rabat",
            phone="+212 5 37 67 75 01",
            email="bureau-ordre@finances.gov.ma",
            hours="lundi-vendredi 8h30-16h30",
        ),
    ),
    CNSS_OFFICE: (
        OfficeConfig(
            participant=CNSS_OFFICE,
            name="Caisse Nationale de Sécurité Sociale",
            code="CNSS",
            services=("bureau-ordre", "prestations", "recouvrement"),
            counter_channel=DEFAULT_PORTAL_ID,
            number_format="{office}-{register}-{year}-{counter:05d}",
        ),
        OfficeContact(
            name="Courrier, Caisse Nationale de Sécurité Sociale",
            address="649, boulevard Mohammed V, Casablanca",
            phone="+212 5 22 54 71 00",
            email="courrier@cnss.ma",
            hours="lundi-vendredi 8h30-16h30",
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class DemoAccount:
    kind: str
    identifier: str
    name: str
    password: str
    representative: str = ""
    email: str = "demo@example.ma"


DEMO_ACCOUNTS = (
    DemoAccount("citizen", "AB123456", "Amina El Idrissi", "demo-citoyen-2026", email="amina@example.ma"),
    DemoAccount(
        "company",
        "001525987000088",  # ATLAS in the CNSS register: tell us once has a certificate to obtain
        "Atlas Travaux SARL",
        "demo-entreprise-2026",
        representative="Youssef Benali",
        email="contact@atlas-travaux.example.ma",
    ),
)


def grant_mail_office(
    bus: TestBus, office: str, *, desk: str, depositors: list[str], offices: list[str]
) -> None:
    """The grants an office needs (docs/mail_office.md, "Grants")."""
    for contract in DESK_CONTRACTS:
        bus.publish(contract, provider=office, clients=[desk])
    bus.publish(DEPOSIT, provider=office, clients=[*depositors, *offices], description="mail office: deposit")
    bus.publish(STATUS, provider=office, clients=offices)
    consultation: tuple[RequestReply[Any, Any], ...] = (CONSULT, OPINION)
    for contract in consultation:
        bus.publish(contract, provider=office, clients=offices)
    correspondence: tuple[RequestReply[Any, Any], ...] = (DEPOSIT, STATUS)
    for correspondent in (*depositors, *offices):
        for contract in correspondence:
            bus.publish(contract, provider=correspondent, clients=[office])


@dataclass
class DemoWorld:
    bus: TestBus
    pilots: PilotWorld
    portal_id: str
    offices: dict[str, MailOfficeService] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    running: dict[str, Running] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    signature_book: DemoSignatureBook | None = None

    @classmethod
    def build(
        cls,
        root: Path | None = None,
        *,
        broker: str | None = None,
        portal_id: str = DEFAULT_PORTAL_ID,
        **office_options: Any,
    ) -> DemoWorld:
        """Build the bus, start the pilots and both offices; the portal's node is ``portal_node()``."""
        bus = TestBus(root, broker=broker)
        names = {office: config.name for office, (config, _) in OFFICES.items()}
        names[portal_id] = "Portail national du courrier administratif"
        for office in OFFICES:
            grant_mail_office(
                bus,
                office,
                desk=DESKS[office],
                depositors=[portal_id],
                offices=[o for o in OFFICES if o != office],
            )
        for participant, name in names.items():
            bus.catalogue = bus.catalogue.with_participant(bus.participant(participant), name)
        bus.publish(QUERY_ACCESSES, provider=access_tracker.PARTICIPANT, clients=[portal_id])
        for contract in (procurement.APPLY, procurement.APPLICATIONS):
            bus.publish(contract, provider=procurement.PARTICIPANT, clients=[portal_id])
        book = DemoSignatureBook.publish(bus, offices=list(OFFICES), desks=DESKS)
        pilots = PilotWorld.build(bus)  # publishes the pilots, signs the catalogue, starts the pilots
        world = cls(bus, pilots, portal_id, signature_book=book)
        book.start()
        pilots.start(procurement.app)  # tell us once: the MEF obtains CNSS certificates itself
        options = {"drain_interval": 0.5, "max_backoff": 5.0, **office_options}
        for office, (config, _) in OFFICES.items():
            directory = office_directory(bus.home.participant_dir(bus.participant(office)))
            if not directory.exists():
                MailOffice.create(directory, config)
            service = MailOfficeService(office, signature_book=book.participant, **options)
            world.offices[office] = service
            world.running[office] = bus.start(service.app)
            world.nodes[office] = world.running[office].node
        return world

    @staticmethod
    def directory() -> OfficeDirectory:
        return OfficeDirectory({office: contact for office, (_, contact) in OFFICES.items()})

    def portal_node(self) -> Node:
        if self.portal_id not in self.nodes:
            self.nodes[self.portal_id] = self.bus.node(self.portal_id)
        return self.nodes[self.portal_id]

    def desk(self, office: str) -> Client:
        """The desk system of ``office`` (assign, validate, reply... over the bus)."""
        desk = DESKS[office]
        if desk not in self.clients:
            self.clients[desk] = self.bus.client(desk)
        return self.clients[desk]

    def stop_office(self, office: str) -> None:
        """Stop serving ``office`` (its queue keeps what arrives meanwhile)."""
        self.running.pop(office).stop()

    def restart_office(self, office: str) -> None:
        self.running[office] = self.offices[office].app.start(self.nodes[office], concurrency=2, prefetch=16)

    def close(self) -> None:
        for running in self.running.values():
            running.stop()
        self.pilots.close()
        self.bus.close()
