"""Two administrations' mail offices, their desks and a citizen portal on one throwaway bus."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sdk import App, Client, Node, Provider
from sdk.testing import TestBus
from teleservices.mail_office.contract import (
    CONSULTATION,
    CORRESPONDENCE,
    DEPOSIT,
    DESK_SYSTEM,
    STATUS,
    contract_for,
)
from teleservices.mail_office.depositor import DepositorStore, DepositorSystem
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.service import MailOfficeService, office_directory

from .conftest import CNSS, MEF, PORTAL, FakeClock, cnss_config, mef_config

MEF_DESK = "MA/GOV/MEF/desk"
CNSS_DESK = "MA/GOV/CNSS/desk"
OUTSIDER = "MA/COM/RABAT/urbanisme"


def grant_office(
    bus: TestBus,
    office: str,
    *,
    desks: Iterable[str],
    depositors: Iterable[str] = (),
    offices: Iterable[str] = (),
) -> None:
    """The catalogue an office needs: its desks run it, depositors and other offices write to it.

    Every depositor's and every other office's ``mail.status`` (and ``mail.deposit``, for replies) is
    granted to ``office`` too; the other offices consult ``office`` and send it their opinions.
    """
    desks, depositors, offices = list(desks), list(depositors), list(offices)
    for contract in DESK_SYSTEM:
        bus.publish(contract, provider=office, clients=desks)
    bus.publish(DEPOSIT, provider=office, clients=[*depositors, *offices])
    bus.publish(STATUS, provider=office, clients=offices)
    for contract in CONSULTATION:
        bus.publish(contract, provider=office, clients=offices)
        for correspondent in offices:
            bus.publish(contract, provider=correspondent, clients=[office])
    for correspondent in (*depositors, *offices):
        for contract in CORRESPONDENCE:
            bus.publish(contract, provider=correspondent, clients=[office])


@dataclass
class World:
    """The bus, two offices served in this process, and clients for the portal and the desks."""

    bus: TestBus
    clock: FakeClock
    mef: MailOfficeService
    cnss: MailOfficeService
    portal_app: App
    depositor: DepositorSystem
    nodes: dict[str, Node] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)

    def office(self, participant: str) -> MailOffice:
        service = self.mef if participant == MEF else self.cnss
        return service.office(self.nodes[participant])

    def start_portal(self) -> None:
        self.nodes[PORTAL] = self.bus.start(self.portal_app).node

    def portal_store(self) -> DepositorStore:
        return self.depositor.store(self.nodes[PORTAL])

    def client(self, participant: str) -> Client:
        """One client per participant, on the running node when the participant runs here."""
        if participant not in self.clients:
            node = self.nodes.get(participant)
            self.clients[participant] = Client(node=node) if node else self.bus.client(participant)
        return self.clients[participant]

    def call(self, participant: str, office: str, request: Any, *, official: str | None = None) -> Any:
        """``participant`` calls ``office`` with the contract that takes ``request``."""
        return self.client(participant).call(office, contract_for(request), request, user_id=official)

    def desk(self, office: str, operation: Any, *, official: str | None = None) -> Any:
        """``office``'s own desk system runs ``operation`` there."""
        return self.call(MEF_DESK if office == MEF else CNSS_DESK, office, operation, official=official)


def build_world(bus: TestBus, clock: FakeClock, *, start_portal: bool = True) -> World:
    grant_office(bus, MEF, desks=[MEF_DESK], depositors=[PORTAL], offices=[CNSS])
    grant_office(bus, CNSS, desks=[CNSS_DESK], depositors=[PORTAL], offices=[MEF])
    bus.participant(OUTSIDER)
    for participant, config in ((MEF, mef_config()), (CNSS, cnss_config())):
        MailOffice.create(office_directory(bus.home.participant_dir(bus.participant(participant))), config)
    options: dict[str, Any] = {
        "clock": clock,
        "drain_interval": 0.2,
        "max_backoff": 1.0,
        "alert_interval": 3600,
    }
    world = World(
        bus=bus,
        clock=clock,
        mef=MailOfficeService(MEF, **options),
        cnss=MailOfficeService(CNSS, **options),
        portal_app=(portal := Provider(PORTAL)),
        depositor=DepositorSystem(portal),
    )
    bus.sign_catalogue()
    world.nodes[MEF] = bus.start(world.mef.app).node
    world.nodes[CNSS] = bus.start(world.cnss.app).node
    if start_portal:
        world.start_portal()
    return world


def wait_until(condition: Callable[[], Any], *, deadline: float = 30.0, what: str = "condition") -> Any:
    """Poll ``condition()`` until it returns something truthy; fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"{what} not reached within {deadline:g} s")
        time.sleep(0.05)
