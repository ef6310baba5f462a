"""``govbus mail`` against a running office over the bus (``--home --as --broker --office``), in process."""

from __future__ import annotations

import pytest
import structlog
from click.testing import CliRunner, Result

from bus.cli.main import cli
from sdk import configure_logging
from teleservices.mail_office.models import Acknowledgement, MailRecord, Register
from teleservices.mail_office.workflow import Status

from .bus_world import MEF_DESK, wait_until
from .conftest import MEF, PORTAL
from .test_cli import fields


@pytest.fixture
def quiet():
    """Warnings only, on stderr, from the offices served in this process too; restored afterwards."""
    saved = structlog.get_config()
    configure_logging("WARNING")
    yield
    structlog.configure(**saved)


@pytest.fixture
def mail(quiet, world):
    """``govbus mail ARGS --home --as --broker --prefix --office MEF`` against the world's MEF office."""
    runner = CliRunner()
    bus = world.bus

    def invoke(*args: str, sender: str = MEF_DESK, ok: bool = True) -> Result:
        where = ["--home", str(bus.root), "--as", sender, "--broker", bus.broker, "--prefix", bus.prefix]
        result = runner.invoke(
            cli, ["mail", *args, *where, "--office", MEF], env={"GOVBUS_MAIL_OFFICE": None}
        )
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_a_letter_from_deposit_to_closure_through_the_command_line(mail, world):
    ack = Acknowledgement.from_xml(
        mail(
            "deposit", "--subject", "Demande de mutation", "--sender-kind", "citizen", "--sender-id", "AB123456",
            "--sender-name", "Amina El Idrissi", "--type", "request", "--xml", sender=PORTAL,
        ).stdout.encode()
    )  # fmt: skip
    number = ack.registration_number
    assert (number, ack.office, ack.service_in_charge) == ("MEF/2026/A/1", MEF, "rh")
    assert (
        fields(mail("assign", number, "--service", "rh", "--actor", "k.alami").stdout)["status"] == "assigned"
    )
    assert fields(mail("validate", number, "--actor", "chef.rh").stdout)["status"] == "validated"
    reply = fields(mail("reply", number, "--subject", "Mutation accordée", "--body", "Accordée.").stdout)
    assert reply["direction"] == "outgoing" and reply["in-reply-to"] == number
    closed = MailRecord.from_xml(mail("close", number, "--actor", "k.alami", "--xml").stdout.encode())
    assert closed.status is Status.CLOSED
    assert [h.actor for h in closed.history] == [PORTAL, "k.alami", "chef.rh", MEF_DESK, "k.alami"]
    shown = mail("show", number).stdout
    assert "status: closed" in shown and f"replies: {reply['registration']}" in shown
    page = Register.from_xml(mail("register", "--status", "closed", "--xml").stdout.encode())
    assert [e.registration_number for e in page.entries] == [number]
    assert mail("alerts").stdout == ""
    wait_until(lambda: len(world.portal_store().steps(MEF, number)) == 4, what="four steps at the portal")


def test_refusals_over_the_bus_are_one_line(mail):
    number = fields(
        mail(
            "deposit", "--subject", "Réclamation", "--sender-kind", "company", "--sender-id", "001525369000088",
            "--sender-name", "Atlas Travaux SARL", sender=PORTAL,
        ).stdout
    )["registration"]  # fmt: skip
    refused = mail("validate", number, ok=False)
    assert refused.exit_code == 1
    assert _last_line(refused).startswith(f"MailOffice.InvalidTransition: {number} is 'registered'")
    denied = mail("assign", number, "--service", "rh", sender=PORTAL, ok=False)
    assert denied.exit_code == 1 and _last_line(denied).startswith("Client.AccessDenied:")
    local_only = mail("register", "--csv", "-", ok=False)
    assert local_only.exit_code == 2 and "--csv needs a local office" in local_only.stderr


def _last_line(result: Result) -> str:
    return result.stderr.strip().splitlines()[-1]
