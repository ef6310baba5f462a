"""The demo's throwaway bus: PKI, signed catalogue, the pilots' participants, each watched by the trace."""

from __future__ import annotations

from pathlib import Path

from sdk import App, Client, Running
from sdk.testing import TestBus
from teleservices import access_tracker
from teleservices.access_tracker import QUERY_ACCESSES, REPORT_ACCESS
from teleservices.cnss_attestation import ATTESTATION
from teleservices.cnss_attestation import PARTICIPANT as CNSS_ATTESTATIONS
from teleservices.cnss_attestation import app as cnss_attestations
from teleservices.death_notice import (
    DEATH_NOTICE,
    DEATH_NOTICE_CANCELLATION,
    PARTICIPANTS,
    RABAT,
    pension_fund,
    rabat,
)
from teleservices.demo.trace import Trace

PROCUREMENT = "MA/GOV/MEF/marches-publics"
OUTSIDER = "MA/COM/CASABLANCA/urbanisme"
ROLES = {
    CNSS_ATTESTATIONS: "provider of cnss.attestation (employer register; personal data, reports accesses)",
    access_tracker.PARTICIPANT: "access tracker (who used which subject's data)",
    RABAT.participant: "notifier of death.notice (civil register; records receipts)",
    **{PARTICIPANTS[fund]: "subscriber to death.notice (pensioner register)" for fund in PARTICIPANTS},
}
FUND_APPS: dict[str, App] = {PARTICIPANTS[fund]: pension_fund(fund) for fund in PARTICIPANTS}


class World:
    """The bus, its trace, and the apps running on it."""

    def __init__(self, bus: TestBus) -> None:
        self.bus = bus
        self.trace = Trace()
        self.running: dict[str, Running] = {}
        self.directories: dict[str, Path] = {}

    @classmethod
    def build(cls, bus: TestBus) -> World:
        """Publish the pilots' services with their grants, sign the catalogue, start every app."""
        funds = sorted(FUND_APPS)
        bus.publish(
            ATTESTATION,
            provider=CNSS_ATTESTATIONS,
            clients=[PROCUREMENT],
            description="CNSS certificate of good standing, by ICE or affiliation number",
            personal=True,
        )
        bus.publish(
            REPORT_ACCESS,
            provider=access_tracker.PARTICIPANT,
            clients=[CNSS_ATTESTATIONS],
            description="providers report each access to personal data",
        )
        bus.publish(  # granted to a portal by whoever adds one (web/demo.py)
            QUERY_ACCESSES,
            provider=access_tracker.PARTICIPANT,
            description="a data subject's accesses, for the portal",
        )
        bus.publish(
            DEATH_NOTICE,
            provider=RABAT.participant,
            clients=funds,
            description="deaths registered by the civil-status office of Rabat",
        )
        bus.publish(
            DEATH_NOTICE_CANCELLATION,
            provider=RABAT.participant,
            clients=funds,
            description="death notices of Rabat withdrawn as declared in error",
        )
        bus.participant(OUTSIDER)
        bus.sign_catalogue()
        world = cls(bus)
        for app in (access_tracker.app, cnss_attestations, *(FUND_APPS[f] for f in funds), rabat):
            world.start(app)
        return world

    @property
    def home(self) -> Path:
        return self.bus.root

    def start(self, app: App) -> Running:
        """Start ``app`` on a new node of this bus."""
        node = self.bus.node(app.participant)
        self.trace.watch(node)
        self.directories[str(app.participant)] = node.data_dir
        running = app.start(node, concurrency=2, prefetch=16)
        self.running[str(app.participant)] = running
        return running

    def stop(self, participant: str) -> None:
        self.running.pop(participant).stop()

    def client(self, participant: str) -> Client:
        """A client on the node of a running app, or on a new node."""
        running = self.running.get(participant)
        if running is not None:
            return Client(node=running.node)
        node = self.bus.node(participant)
        self.trace.watch(node)
        self.directories[participant] = node.data_dir
        return Client(node=node)

    def close(self) -> None:
        for running in self.running.values():
            running.stop()
        self.running.clear()
