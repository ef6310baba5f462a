"""Depositing a letter: registration, the acknowledgement of receipt, duplicates, refusals."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from schemas import load_schema
from teleservices.mail_office.errors import (
    AttachmentDigestMismatch,
    InvalidSender,
    UnknownMailType,
    WrongRecipient,
)
from teleservices.mail_office.models import (
    SCHEMA,
    Attachment,
    Deposit,
    Party,
    PartyKind,
    RegisterQuery,
    deposit_digest,
)
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.workflow import Action, Direction, Status

from .conftest import CITIZEN, COMPANY, MEF, PORTAL, START, FakeClock, letter, mef_config


def test_the_acknowledgement_carries_the_legal_minimum(office: MailOffice) -> None:
    deposit = letter()
    ack = office.deposit(deposit, channel=PORTAL)

    assert ack.registration_number == "MEF/2026/A/1"
    assert ack.received_at == START  # date and time of receipt
    assert ack.service_in_charge == "rh"  # the service in charge of "request" mail
    assert ack.deadline == date(2026, 3, 31)  # 20 business days, Eid al-Fitr excluded
    assert ack.office == MEF
    assert ack.deposit_digest == deposit_digest(deposit)
    assert ack.linked_registration is None
    assert load_schema(SCHEMA).validate(ack.to_xml_tree())


def test_the_letter_is_registered_as_deposited(office: MailOffice) -> None:
    deposit = letter(body="Madame, Monsieur,\nje sollicite ma mutation.")
    number = office.deposit(deposit, channel=PORTAL).registration_number

    record = office.show(number)
    assert record.direction is Direction.INCOMING
    assert record.status is Status.REGISTERED
    assert (record.subject, record.sender, record.recipient) == (deposit.subject, CITIZEN, deposit.recipient)
    assert record.body == deposit.body
    assert record.service == "rh" and record.agent is None
    assert record.deadline == date(2026, 3, 31)
    assert [(a.name, a.media_type, a.sha256, a.size) for a in record.attachments] == [
        (a.name, a.media_type, a.sha256, len(a.content)) for a in deposit.attachments
    ]
    [entry] = record.history
    assert (entry.sequence, entry.action, entry.old_status, entry.new_status) == (
        1,
        Action.REGISTER,
        None,
        Status.REGISTERED,
    )
    assert entry.actor == PORTAL and entry.time == START


def test_without_a_channel_the_sender_is_the_actor_of_the_registration(office: MailOffice) -> None:
    number = office.deposit(letter()).registration_number
    assert office.show(number).history[0].actor == CITIZEN.identifier


def test_a_mail_type_without_a_service_goes_to_the_default_service(office: MailOffice) -> None:
    ack = office.deposit(letter(mail_type="letter"))
    assert ack.service_in_charge == "bureau-ordre"
    assert ack.deadline == date(2026, 4, 1)  # 30 calendar days


def test_depositing_the_same_letter_twice_returns_the_original_acknowledgement(
    office: MailOffice, clock: FakeClock
) -> None:
    first = office.deposit(letter(), channel=PORTAL)
    clock.advance(days=3)
    again = office.deposit(letter(), channel=PORTAL)
    also = office.deposit(letter())  # through another channel

    assert again == first and also == first
    assert again.to_xml() == first.to_xml()
    assert office.register(RegisterQuery(direction=Direction.INCOMING)).total == 1
    assert office.deposit(letter("Autre demande")).registration_number == "MEF/2026/A/2"


def test_the_same_content_from_another_sender_is_another_letter(office: MailOffice) -> None:
    first = office.deposit(letter(sender=CITIZEN))
    second = office.deposit(letter(sender=Party(kind=PartyKind.CITIZEN, identifier="K654321", name="Karim")))
    assert first.registration_number != second.registration_number
    assert first.deposit_digest != second.deposit_digest  # the sender is part of the letter


def test_a_changed_attachment_makes_another_letter(office: MailOffice) -> None:
    first = office.deposit(letter())
    other = letter(attachments=[Attachment.of("demande.pdf", "application/pdf", b"%PDF-1.7 other")])
    assert office.deposit(other).registration_number != first.registration_number


def test_concurrent_duplicates_register_the_letter_once(tmp_path: Path, clock: FakeClock) -> None:
    MailOffice.create(tmp_path / "mef", mef_config(), clock=clock)

    def deposit(_: int) -> str:
        return MailOffice(tmp_path / "mef", clock=clock).deposit(letter()).registration_number

    with ThreadPoolExecutor(8) as pool:
        numbers = set(pool.map(deposit, range(16)))
    assert numbers == {"MEF/2026/A/1"}


@pytest.mark.parametrize("identifier", [MEF, "MA/GOV/MEF"])
def test_the_office_accepts_letters_addressed_to_it_or_its_administration(
    office: MailOffice, identifier: str
) -> None:
    recipient = Party(kind=PartyKind.ADMINISTRATION, identifier=identifier, name="MEF")
    assert office.deposit(letter(recipient=recipient)).registration_number == "MEF/2026/A/1"


@pytest.mark.parametrize(
    "recipient",
    [
        Party(kind=PartyKind.ADMINISTRATION, identifier="MA/GOV/CNSS/bo", name="CNSS"),
        Party(kind=PartyKind.ADMINISTRATION, identifier="MA/GOV/MEFX", name="?"),
        Party(kind=PartyKind.COMPANY, identifier="001525369000088", name="Atlas"),
    ],
)
def test_a_letter_for_someone_else_is_refused(office: MailOffice, recipient: Party) -> None:
    with pytest.raises(WrongRecipient, match="this is the mail office of MA/GOV/MEF/bo"):
        office.deposit(letter(recipient=recipient))


@pytest.mark.parametrize(
    ("kind", "identifier"),
    [
        (PartyKind.CITIZEN, "123456"),
        (PartyKind.CITIZEN, "ab123456"),
        (PartyKind.CITIZEN, "MA/GOV/X"),
        (PartyKind.COMPANY, "12345678901234"),
        (PartyKind.COMPANY, "AB123456"),
        (PartyKind.ADMINISTRATION, "AB123456"),
        (PartyKind.ADMINISTRATION, "ma/gov/x"),
    ],
)
def test_a_sender_identifier_must_fit_its_kind(office: MailOffice, kind: PartyKind, identifier: str) -> None:
    with pytest.raises(InvalidSender, match=f"the sender is a {kind.value}"):
        office.deposit(letter(sender=Party(kind=kind, identifier=identifier, name="X")))


def test_an_administration_deposits_only_in_its_own_name(office: MailOffice) -> None:
    cnss = Party(kind=PartyKind.ADMINISTRATION, identifier="MA/GOV/CNSS/bo", name="CNSS")
    with pytest.raises(InvalidSender, match="MA/GOV/PORTAIL/guichet cannot deposit a letter in the name of"):
        office.deposit(letter(sender=cnss), channel=PORTAL)
    ack = office.deposit(letter(sender=cnss), channel="MA/GOV/CNSS/courrier")  # another of its subsystems
    assert ack.registration_number == "MEF/2026/A/1"
    with pytest.raises(InvalidSender):  # a replay by someone else learns nothing, not even the receipt
        office.deposit(letter(sender=cnss), channel=PORTAL)


def test_an_unknown_mail_type_follows_the_default_type(office: MailOffice) -> None:
    ack = office.deposit(letter(mail_type="subvention"))
    assert ack.deadline == date(2026, 4, 1) and ack.service_in_charge == "bureau-ordre"
    assert office.show(ack.registration_number).mail_type == "subvention"


def test_an_unknown_mail_type_is_refused_without_a_default(tmp_path: Path, clock: FakeClock) -> None:
    office = MailOffice.create(tmp_path / "strict", mef_config(default_mail_type=None), clock=clock)
    with pytest.raises(UnknownMailType, match="this office accepts: complaint, letter, reply, request"):
        office.deposit(letter(mail_type="subvention"))


def test_an_attachment_whose_digest_does_not_match_is_refused(office: MailOffice) -> None:
    honest = Attachment.of("demande.pdf", "application/pdf", b"%PDF-1.7 demande")
    forged = honest.model_copy(update={"content": b"%PDF-1.7 something else"})
    with pytest.raises(AttachmentDigestMismatch, match=re.escape("'demande.pdf' declares SHA-256")):
        office.deposit(letter(attachments=[forged]))
    assert office.register(RegisterQuery(direction=Direction.INCOMING)).total == 0
    assert office.deposit(letter(attachments=[honest])).registration_number == "MEF/2026/A/1"


def test_attachments_are_stored_by_content(office: MailOffice) -> None:
    attachment = Attachment.of("scan.png", "image/png", b"\x89PNG scan")
    number = office.deposit(letter(attachments=[attachment])).registration_number
    office.deposit(letter("Relance", attachments=[attachment]))  # same file again

    path = office.directory / "attachments" / "sha256" / attachment.sha256[:2] / attachment.sha256[2:]
    assert path.read_bytes() == attachment.content
    assert len(list((office.directory / "attachments" / "sha256").rglob("*"))) == 2  # one dir, one file
    info, content = office.attachment(number, attachment.sha256)
    assert (info.name, info.size, content) == ("scan.png", len(attachment.content), attachment.content)


def test_the_contract_sample_of_a_company_deposit_is_registered(office: MailOffice) -> None:
    deposit = Deposit.from_xml((Path(__file__).parent / "samples" / "deposit-company.xml").read_bytes())
    ack = office.deposit(deposit, channel="MA/GOV/PORTAIL/entreprises")
    assert ack.service_in_charge == "finances" and ack.deadline == date(2026, 3, 12)  # complaint: 10 days
    record = office.show(ack.registration_number)
    assert record.sender == COMPANY and len(record.attachments) == 2
