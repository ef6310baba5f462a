"""Two offices as ``govbus run teleservices.mail_office:app`` processes on RabbitMQ, driven by ``govbus mail``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdk import Node, Provider
from sdk.testing import TestBus
from teleservices.mail_office.contract import REGISTER, SHOW
from teleservices.mail_office.depositor import DepositorSystem
from teleservices.mail_office.models import RegisterQuery, Show
from teleservices.mail_office.workflow import Action, Direction
from tests.conftest import RABBITMQ_URL

from .bus_world import CNSS_DESK, MEF_DESK, grant_office, wait_until
from .conftest import CNSS, MEF, PORTAL
from .test_cli import fields

pytestmark = pytest.mark.rabbitmq

REPO = Path(__file__).resolve().parents[2]
GOVBUS = [sys.executable, "-m", "bus.cli"]
CNSS_NUMBERS = "{office}-{register}-{year}-{counter:05d}"


class OfficeProcess:
    """``govbus run teleservices.mail_office:app`` as ``participant`` (``$GOVBUS_MAIL_OFFICE_ID``)."""

    def __init__(self, participant: str, bus: TestBus, logs: Path) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.participant = participant
        self.log_path = logs / f"{participant.replace('/', '+')}.log"
        self._log = self.log_path.open("wb")
        where = ["--home", str(bus.root), "--broker", RABBITMQ_URL, "--prefix", bus.prefix]
        self.process = subprocess.Popen(
            [*GOVBUS, "run", "teleservices.mail_office:app", *where],
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "GOVBUS_MAIL_OFFICE_ID": participant},
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_started(self) -> None:
        def started() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.participant} exited with {self.process.returncode}:\n{self.log()}"
                )
            return '"app.started"' in self.log()

        wait_until(started, deadline=60, what=f"{self.participant} consuming its queues")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def offices(tmp_path: Path) -> Iterator[tuple[TestBus, DepositorSystem, Node]]:
    """MEF and CNSS offices as separate processes (CNSS set up by ``govbus mail init --home``, MEF with the
    default configuration); the citizen portal served in this process."""
    with TestBus(tmp_path / "bus", broker=RABBITMQ_URL) as bus:
        grant_office(bus, MEF, desks=[MEF_DESK], depositors=[PORTAL], offices=[CNSS])
        grant_office(bus, CNSS, desks=[CNSS_DESK], depositors=[PORTAL], offices=[MEF])
        bus.sign_catalogue()
        init = [*GOVBUS, "mail", "init", "--home", str(bus.root), "--participant", CNSS, "--code", "CNSS"]
        init += ["--name", "Caisse Nationale de Sécurité Sociale", "--number-format", CNSS_NUMBERS]
        subprocess.run(init, cwd=REPO, env=_without_office_dir(), check=True, capture_output=True, timeout=60)
        depositor = DepositorSystem(portal := Provider(PORTAL))
        portal_node = bus.start(portal).node
        processes = [OfficeProcess(office, bus, tmp_path / "logs") for office in (MEF, CNSS)]
        try:
            for process in processes:
                process.wait_started()
            yield bus, depositor, portal_node
        finally:
            for process in processes:
                process.stop()


def _without_office_dir() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "GOVBUS_MAIL_OFFICE"}


def govbus_mail(
    bus: TestBus, *args: str, sender: str, office: str, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    where = ["--home", str(bus.root), "--as", sender, "--broker", RABBITMQ_URL, "--prefix", bus.prefix]
    result = subprocess.run(
        [*GOVBUS, "mail", *args, *where, "--office", office],
        cwd=REPO,
        env=_without_office_dir(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def test_offices_in_their_own_processes_serve_the_command_line_and_each_other(offices):
    bus, depositor, portal_node = offices
    ack = fields(
        govbus_mail(
            bus, "deposit", "--subject", "Demande de mutation", "--sender-kind", "citizen",
            "--sender-id", "AB123456", "--sender-name", "Amina El Idrissi", sender=PORTAL, office=MEF,
        ).stdout
    )  # fmt: skip
    number = ack["registration"]
    assert ack["office"] == MEF and number.startswith("MEF/") and "/A/" in number  # the default numbering
    assigned = govbus_mail(
        bus, "assign", number, "--service", "rh", "--actor", "k.alami", sender=MEF_DESK, office=MEF
    )
    assert fields(assigned.stdout)["status"] == "assigned"
    refused = govbus_mail(bus, "close", number, sender=MEF_DESK, office=MEF, ok=False)
    assert refused.returncode == 1
    assert refused.stderr.strip().startswith(f"MailOffice.InvalidTransition: {number} is 'assigned'")

    wait_until(lambda: depositor.store(portal_node).steps(MEF, number), what="the assignment at the portal")
    (step,) = depositor.store(portal_node).steps(MEF, number)
    assert (step.action, step.actor) == (Action.ASSIGN, "k.alami")

    sent = govbus_mail(
        bus, "send", "--subject", "Situation des affiliés", "--recipient-id", CNSS, "--recipient-name", "CNSS",
        "--actor", "k.alami", sender=MEF_DESK, office=MEF,
    )  # fmt: skip
    outgoing = fields(sent.stdout)["registration"]
    cnss_desk = bus.client(CNSS_DESK)
    incoming = RegisterQuery(direction=Direction.INCOMING)
    wait_until(
        lambda: cnss_desk.call(CNSS, REGISTER, incoming).total == 1, what="the letter registered at CNSS"
    )
    register = govbus_mail(bus, "register", sender=CNSS_DESK, office=CNSS).stdout
    assert "total: 1" in register and "Situation des affiliés" in register
    cnss_number = register.splitlines()[-1].split()[0]
    assert cnss_number.startswith("CNSS-A-")  # numbered as 'govbus mail init --home' configured it
    mef_desk = bus.client(MEF_DESK)
    wait_until(
        lambda: mef_desk.call(MEF, SHOW, Show(registration_number=outgoing)).linked_registration,
        what="MEF's acknowledgement from CNSS",
    )
    shown = fields(govbus_mail(bus, "show", outgoing, sender=MEF_DESK, office=MEF).stdout)
    assert (shown["status"], shown["linked"]) == ("delivered", cnss_number)
