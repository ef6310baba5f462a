"""The demo world's agents: at the MEF a clerk, service agents and a head of service (service ``rh``),
signers and an auditor; at the CNSS a clerk, a service agent (``prestations``) and signers; and one bus
administrator. Password for all: ``DEMO_PASSWORD``. Each signer acts on the bus as their own signatory
participant (``DEMO_SIGNERS``)."""

from __future__ import annotations

from teleservices.signature_book import DetachedXadesSigner
from web.db import Database
from web.demo import OFFICES, DemoWorld
from web.workspace.agents import Role
from web.workspace.app import Workspace
from web.workspace.authority.settings import BusAccess
from web.workspace.signing.book import Signatory

DEMO_PASSWORD = "demo-agent-2026"  # noqa: S105 (demo world only)
DEMO_AGENTS: tuple[tuple[str, str, str | None, str | None, frozenset[Role]], ...] = (
    ("mef.clerc", "Nadia Berrada", "MA/GOV/MEF/bureau-ordre", None, frozenset({Role.CLERK})),
    ("mef.agent", "Omar Tazi", "MA/GOV/MEF/bureau-ordre", "rh", frozenset({Role.AGENT})),
    ("mef.fiscalite", "Youssef Amrani", "MA/GOV/MEF/bureau-ordre", "fiscalite", frozenset({Role.AGENT})),
    ("mef.chef", "Leila Chraibi", "MA/GOV/MEF/bureau-ordre", "rh", frozenset({Role.HEAD})),
    ("mef.signataire", "Hassan Alami", "MA/GOV/MEF/bureau-ordre", None, frozenset({Role.SIGNER})),
    ("mef.auditeur", "Samira Fassi", "MA/GOV/MEF/bureau-ordre", None, frozenset({Role.AUDITOR})),
    ("cnss.clerc", "Rachid Naciri", "MA/GOV/CNSS/bureau-ordre", None, frozenset({Role.CLERK})),
    ("cnss.agent", "Meryem Idrissi", "MA/GOV/CNSS/bureau-ordre", "prestations", frozenset({Role.AGENT})),
    ("cnss.signataire", "Khadija Bennis", "MA/GOV/CNSS/bureau-ordre", None, frozenset({Role.SIGNER})),
    ("mef.dg", "Karim Bennani", "MA/GOV/MEF/bureau-ordre", None, frozenset({Role.SIGNER})),
    ("mef.sga", "Fatima Zahra Idrissi", "MA/GOV/MEF/bureau-ordre", None, frozenset({Role.SIGNER})),
    ("cnss.dga", "Mehdi Ouazzani", "MA/GOV/CNSS/bureau-ordre", None, frozenset({Role.SIGNER})),
    ("bus.admin", "Autorité du bus", None, None, frozenset({Role.BUS_ADMIN})),
)

DEMO_SIGNERS = {
    "mef.signataire": "MA/GOV/MEF/sg",
    "mef.dg": "MA/GOV/MEF/dg",
    "mef.sga": "MA/GOV/MEF/sg-adjoint",
    "cnss.signataire": "MA/GOV/CNSS/dg",
    "cnss.dga": "MA/GOV/CNSS/dg-adjoint",
}
"""Signer login -> their signatory participant (web/signature_book_demo.py)."""


def demo_signers(world: DemoWorld) -> dict[str, Signatory]:
    """Each demo signer's own application: a client of their participant and their signing key."""
    book = world.signature_book
    if book is None:
        return {}
    return {
        login: Signatory(book.client(participant), DetachedXadesSigner(book.identity(participant)))
        for login, participant in DEMO_SIGNERS.items()
    }


def demo_workspace(world: DemoWorld, db: Database) -> Workspace:
    """The workspace on the demo world: each office's desk system, its catalogue, the demo agents."""
    workspace = Workspace(
        db,
        desks={office: world.desk(office) for office in OFFICES},
        catalogue=lambda: world.bus.catalogue,
        offices={office: config.name for office, (config, _) in OFFICES.items()},
        services={office: config.services for office, (config, _) in OFFICES.items()},
        bus=BusAccess(world.bus.home, broker=world.bus.broker, prefix=world.bus.prefix),
        signers=demo_signers(world),
        signature_book=world.signature_book.participant if world.signature_book else None,
    )
    for login, name, administration, service, roles in DEMO_AGENTS:
        if workspace.agents.by_login(login) is None:
            workspace.agents.create(
                login=login,
                name=name,
                password=DEMO_PASSWORD,
                roles=roles,
                administration=administration,
                service=service,
            )
    return workspace
