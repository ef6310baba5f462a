"""``mail`` commands on a local office directory: thin calls into MailOffice, one-line refusals."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from lxml import etree

from bus.cli.errors import GovbusGroup
from schemas import load_schema
from teleservices.mail_office.cli import mail
from teleservices.mail_office.models import SCHEMA, Acknowledgement, MailRecord, Register
from teleservices.mail_office.office import MailOffice

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def run(tmp_path: Path) -> object:
    runner = CliRunner()
    env = {"GOVBUS_MAIL_OFFICE": str(tmp_path / "office"), "GOVBUS_ACTOR": "k.alami"}

    def invoke(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(mail, list(args), env=env, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke(
        "init",
        "--participant",
        "MA/GOV/MEF/bo",
        "--name",
        "Ministère de l'Économie et des Finances",
        "--code",
        "MEF",
        "--service",
        "rh",
        "--service",
        "juridique",
    )
    return invoke


def fields(output: str) -> dict[str, str]:
    return dict(
        line.split(": ", 1) for line in output.splitlines() if ": " in line and not line.startswith(" ")
    )


def deposit(run, tmp_path: Path, subject: str = "Demande de mutation") -> str:  # type: ignore[no-untyped-def]
    scan = tmp_path / "demande.pdf"
    scan.write_bytes(b"%PDF-1.7 demande")
    result = run(
        "deposit",
        "--subject",
        subject,
        "--sender-kind",
        "citizen",
        "--sender-id",
        "AB123456",
        "--sender-name",
        "Amina El Idrissi",
        "--type",
        "request",
        "--attach",
        str(scan),
        "--channel",
        "MA/GOV/PORTAIL/guichet",
    )
    return fields(result.stdout)["registration"]


def test_init_creates_an_office(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    office = MailOffice(tmp_path / "office")
    assert office.config.services == ("bureau-ordre", "rh", "juridique")
    result = run("init", "--participant", "MA/GOV/MEF/bo", "--name", "MEF", "--code", "MEF", ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("is already a mail office")


def test_deposit_prints_the_acknowledgement(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "deposit", "--subject", "Demande", "--sender-kind", "company", "--sender-id", "001525369000088",
        "--sender-name", "Atlas", "--type", "letter",
    )  # fmt: skip
    ack = fields(result.stdout)
    assert ack["registration"].startswith("MEF/") and ack["registration"].endswith("/A/1")
    assert ack["office"] == "MA/GOV/MEF/bo" and ack["service"] == "bureau-ordre"
    assert {"received", "deadline", "digest"} <= set(ack)


def test_deposit_from_a_contract_document(run) -> None:  # type: ignore[no-untyped-def]
    result = run("deposit", "--from-xml", str(SAMPLES / "deposit-company.xml"), "--xml")
    ack = Acknowledgement.from_xml(result.stdout.encode())
    assert load_schema(SCHEMA).validate(etree.fromstring(result.stdout.encode()))
    again = run("deposit", "--from-xml", str(SAMPLES / "deposit-company.xml"), "--xml")
    assert Acknowledgement.from_xml(again.stdout.encode()) == ack  # the same letter: the same receipt


def test_a_document_with_a_doctype_is_refused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hostile = tmp_path / "hostile.xml"
    hostile.write_text('<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Deposit>&x;</Deposit>')
    result = run("deposit", "--from-xml", str(hostile), ok=False)
    assert result.exit_code == 2 and "DOCTYPE and ENTITY declarations are not allowed" in result.stderr


def test_the_desk_from_the_command_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    number = deposit(run, tmp_path)
    assert (
        fields(run("assign", number, "--service", "rh", "--agent", "s.bennani").stdout)["status"]
        == "assigned"
    )
    run("redirect", number, "--service", "juridique", "--reason", "question de droit")
    run("request-opinion", number, "--consulted", "rh", "--question", "Poste disponible ?")
    run("give-opinion", number, "--opinion", "Oui.", "--actor", "chef.rh")
    run("validate", number, "--comment", "vu")
    answer = tmp_path / "reponse.pdf"
    answer.write_bytes(b"%PDF reponse")
    reply = fields(
        run(
            "reply", number, "--subject", "Votre demande", "--body", "Accordée.", "--attach", str(answer)
        ).stdout
    )
    assert reply["direction"] == "outgoing" and reply["in-reply-to"] == number
    closed = run("close", number, "--comment", "traité", "--xml").stdout
    record = MailRecord.from_xml(closed.encode())
    assert record.status.value == "closed" and record.replies == [reply["registration"]]
    assert [h.actor for h in record.history] == [
        "MA/GOV/PORTAIL/guichet", "k.alami", "k.alami", "k.alami", "chef.rh", "k.alami", "k.alami", "k.alami",
    ]  # fmt: skip

    shown = run("show", number).stdout
    assert (
        "status: closed" in shown and "opinion: rh asked by k.alami: 'Poste disponible ?' -> 'Oui.'" in shown
    )
    assert (
        "  3. " in shown
        and "redirect (assigned -> assigned) by k.alami service=juridique : question de droit" in shown
    )
    pending = run("pending").stdout.splitlines()
    assert len(pending) == 8 and "letter -> MA/GOV/PORTAIL/guichet" in pending[5]


def test_register_search_and_csv(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = deposit(run, tmp_path, "Demande de mutation")
    deposit(run, tmp_path, "Attestation de salaire")
    run("assign", first, "--service", "rh")

    listing = run("register", "--text", "mutation").stdout
    assert "total: 1" in listing and first in listing and "Attestation" not in listing
    page = Register.from_xml(run("register", "--status", "registered", "--xml").stdout.encode())
    assert page.total == 1 and page.entries[0].subject == "Attestation de salaire"

    path = tmp_path / "register.csv"
    assert run("register", "--csv", str(path)).stdout.strip() == f"exported: 2 letters to {path}"
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"), newline="")))
    assert [r["status"] for r in rows] == ["assigned", "registered"]
    to_stdout = run("register", "--csv", "-").stdout
    assert to_stdout.splitlines()[0].startswith("registration_number,direction,")
    assert "total: 0" in run("register", "--outgoing").stdout


def test_attachment_is_written_after_its_digest_is_checked(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    number = deposit(run, tmp_path)
    record = MailRecord.from_xml(run("show", number, "--xml").stdout.encode())
    [info] = record.attachments
    out = tmp_path / "copy.pdf"
    run("attachment", number, info.sha256, "--out", str(out))
    assert out.read_bytes() == b"%PDF-1.7 demande"

    MailOffice(tmp_path / "office").attachments.path(info.sha256).write_bytes(b"forged")
    result = run("attachment", number, info.sha256, "--out", str(out), ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("MailOffice.AttachmentTampered: attachment ")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("validate", "MEF/2026/A/1"),
            "MailOffice.InvalidTransition: MEF/2026/A/1 is 'registered': "
            "cannot 'validate'; allowed from 'registered': assign (-> assigned)",
        ),
        (
            ("show", "MEF/2026/A/9"),
            "MailOffice.UnknownRegistration: no letter is registered under 'MEF/2026/A/9'",
        ),
        (
            ("assign", "MEF/2026/A/1", "--service", "compta"),
            "MailOffice.UnknownService: unknown service 'compta'",
        ),
        (
            ("close", "MEF/2026/A/1", "--comment", ""),
            "MailOffice.InvalidRequest: comment: String should have at least 1 character",
        ),
        (
            ("send", "--subject", "x", "--recipient-id", "nope", "--recipient-name", "x"),
            "MailOffice.InvalidSender",
        ),
    ],
)
def test_refusals_are_one_line(run, tmp_path: Path, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    deposit(run, tmp_path)
    result = run(*args, ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_directory_that_is_not_an_office(tmp_path: Path) -> None:
    result = CliRunner().invoke(mail, ["show", "X/1", "--office-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert result.stderr.startswith("MailOffice.InvalidConfiguration: ")
    assert "is not a mail office" in result.stderr


def test_alerts(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    deposit(run, tmp_path)
    assert run("alerts").stdout == ""  # nothing due soon on a fresh deposit


def test_mounted_under_the_govbus_command(tmp_path: Path) -> None:
    @click.group(cls=GovbusGroup)
    def govbus() -> None:
        """A stand-in for bus.cli.main:cli."""

    govbus.add_command(mail)
    result = CliRunner().invoke(govbus, ["mail", "show", "X/1", "--office-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("MailOffice.InvalidConfiguration: ")
    assert len(result.stderr.strip().splitlines()) == 1
