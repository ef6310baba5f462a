"""Mail between administrations: one registration on each side, linked, both ways, whatever the failures."""

from __future__ import annotations

import pytest

from teleservices.mail_office.delivery import Courier, UnknownOffice
from teleservices.mail_office.errors import InvalidSender, NotDeliverable, UnknownRegistration
from teleservices.mail_office.models import (
    Acknowledgement,
    Attachment,
    Party,
    PartyKind,
    RegisterQuery,
    deposit_digest,
)
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.outbox import OutboxKind, OutboxMessage
from teleservices.mail_office.workflow import Action, Direction, Status

from . import conftest
from .conftest import CNSS, MEF, FakeClock

TO_CNSS = Party(kind=PartyKind.ADMINISTRATION, identifier=CNSS, name="Caisse Nationale de Sécurité Sociale")
ANNEX = Attachment.of("liste.csv", "text/csv", b"cin;nom\nAB123456;El Idrissi\n")


def send_to_cnss(office: MailOffice, subject: str = "Demande d'avis sur un dossier de pension") -> str:
    return office.send(
        subject=subject, recipient=TO_CNSS, mail_type="request", body="Merci de nous faire connaître votre avis.",
        attachments=[ANNEX], actor="k.alami", service="juridique",
    ).registration_number  # fmt: skip


def test_a_letter_is_registered_on_both_sides_and_linked(office: MailOffice, cnss: MailOffice) -> None:
    outgoing = send_to_cnss(office)
    assert outgoing == "MEF/2026/D/1"
    [message] = office.pending()
    assert (message.kind, message.destination, message.registration_number) == (
        OutboxKind.LETTER,
        CNSS,
        outgoing,
    )

    report = Courier(office, cnss).deliver(office)
    assert report.sent == (message.id,) and report.failed == ()

    [entry] = cnss.register(RegisterQuery(direction=Direction.INCOMING)).entries
    incoming = cnss.show(entry.registration_number)
    assert incoming.registration_number == "CNSS-A-2026-00001"
    assert incoming.sender == Party(kind=PartyKind.ADMINISTRATION, identifier=MEF, name=office.config.name)
    assert incoming.recipient == TO_CNSS
    assert incoming.linked_registration == outgoing
    assert incoming.subject == "Demande d'avis sur un dossier de pension"
    assert [a.sha256 for a in incoming.attachments] == [ANNEX.sha256]
    assert cnss.attachment(incoming.registration_number, ANNEX.sha256)[1] == ANNEX.content
    assert incoming.history[0].actor == MEF

    sent = office.show(outgoing)
    assert sent.status is Status.DELIVERED
    assert sent.linked_registration == incoming.registration_number
    assert sent.deposit_digest == incoming.deposit_digest
    assert sent.history[-1].action is Action.DELIVER and sent.history[-1].actor == CNSS
    assert office.pending() == []


def test_the_recipient_reports_its_progress_to_the_sender(office: MailOffice, cnss: MailOffice) -> None:
    outgoing = send_to_cnss(office)
    courier = Courier(office, cnss)
    courier.run()
    number = office.show(outgoing).linked_registration
    assert number is not None and office.show(outgoing).linked_status is None

    cnss.assign(number, service="pensions", agent="r.alaoui", actor="bo.cnss")
    cnss.request_opinion(number, consulted="juridique", question="?", actor="r.alaoui")
    assert courier.run() == 2
    assert office.show(outgoing).linked_status is Status.AWAITING_OPINION


def test_the_reply_comes_back_linked_to_the_original(office: MailOffice, cnss: MailOffice) -> None:
    outgoing = send_to_cnss(office)
    courier = Courier(office, cnss)
    courier.run()
    theirs = office.show(outgoing).linked_registration
    assert theirs is not None
    cnss.assign(theirs, service="pensions", actor="bo.cnss")
    cnss.validate(theirs, actor="chef.pensions")
    their_reply = cnss.reply(theirs, subject="Avis favorable", body="Avis favorable.", actor="chef.pensions")
    assert their_reply.registration_number == "CNSS-D-2026-00001"
    assert their_reply.recipient.identifier == MEF

    courier.run()

    [reply] = office.register(RegisterQuery(direction=Direction.INCOMING)).entries
    record = office.show(reply.registration_number)
    assert record.registration_number == "MEF/2026/A/1"
    assert record.in_reply_to == outgoing  # answers our letter
    assert record.linked_registration == their_reply.registration_number
    assert record.mail_type == "reply" and record.deadline is not None
    assert office.show(outgoing).replies == ["MEF/2026/A/1"]
    assert office.show(outgoing).linked_status is Status.REPLIED

    theirs_now = cnss.show(their_reply.registration_number)
    assert theirs_now.status is Status.DELIVERED and theirs_now.linked_registration == "MEF/2026/A/1"
    assert cnss.show(theirs).replies == [their_reply.registration_number]


def test_a_failed_delivery_stays_in_the_outbox_until_it_succeeds(
    office: MailOffice, cnss: MailOffice, clock: FakeClock
) -> None:
    outgoing = send_to_cnss(office)
    courier = Courier(office, cnss)

    def broker_down(message: OutboxMessage) -> Acknowledgement | None:
        raise ConnectionError("broker unavailable")

    report = office.drain(broker_down)
    assert report.sent == () and [reason for _, reason in report.failed] == [
        "ConnectionError: broker unavailable"
    ]
    [message] = office.pending()
    assert (message.attempts, message.last_error) == (1, "ConnectionError: broker unavailable")
    assert office.show(outgoing).status is Status.REGISTERED

    clock.advance(minutes=5)
    reopened = MailOffice(office.directory, clock=clock)  # the office restarted meanwhile
    assert Courier(reopened, cnss).deliver(reopened).sent == (message.id,)
    assert office.show(outgoing).status is Status.DELIVERED
    assert courier.run() == 0


def test_an_acknowledgement_lost_on_the_way_back_does_not_register_the_letter_twice(
    office: MailOffice, cnss: MailOffice
) -> None:
    outgoing = send_to_cnss(office)
    courier = Courier(office, cnss)
    deliver = courier.sink(office)

    def lost_reply(message: OutboxMessage) -> Acknowledgement | None:
        deliver(message)  # the recipient registers it...
        raise TimeoutError("no reply in time")  # ...but its acknowledgement never arrives

    assert office.drain(lost_reply).failed
    assert courier.run() == 1  # retried: the recipient answers with the original acknowledgement
    assert cnss.register(RegisterQuery(direction=Direction.INCOMING)).total == 1
    assert office.show(outgoing).linked_registration == "CNSS-A-2026-00001"


def test_later_messages_to_a_failing_destination_are_held_in_order(
    office: MailOffice, cnss: MailOffice
) -> None:
    first = send_to_cnss(office, "Premier courrier")
    second = send_to_cnss(office, "Second courrier")
    to_citizen = office.send(
        subject="Convocation",
        recipient=Party(kind=PartyKind.CITIZEN, identifier="AB123456", name="Amina"),
        mail_type="letter",
        actor="k.alami",
    )
    assert [m.registration_number for m in office.pending()] == [first, second]  # no channel to the citizen

    calls: list[str] = []

    def flaky(message: OutboxMessage) -> Acknowledgement | None:
        calls.append(message.registration_number)
        raise ConnectionError("down")

    report = office.drain(flaky)
    assert calls == [first]
    assert len(report.failed) == 1 and len(report.held) == 1
    Courier(office, cnss).run()
    assert [e.subject for e in cnss.register(RegisterQuery(direction=Direction.INCOMING)).entries] == [
        "Premier courrier",
        "Second courrier",
    ]
    assert office.show(to_citizen.registration_number).status is Status.REGISTERED


def test_an_acknowledgement_for_another_letter_is_not_accepted(office: MailOffice, cnss: MailOffice) -> None:
    outgoing = send_to_cnss(office)
    deliver = Courier(office, cnss).sink(office)

    def wrong(message: OutboxMessage) -> Acknowledgement | None:
        ack = deliver(message)
        assert ack is not None
        return ack.model_copy(update={"deposit_digest": "0" * 64})

    report = office.drain(wrong)
    assert "NotDeliverable" in report.failed[0][1] and "another deposit" in report.failed[0][1]
    assert office.show(outgoing).status is Status.REGISTERED
    assert len(office.pending()) == 1


def test_record_delivery_checks_who_acknowledges(office: MailOffice, cnss: MailOffice) -> None:
    outgoing = send_to_cnss(office)
    ack = cnss.deposit(office.letter(outgoing), channel=MEF)
    with pytest.raises(NotDeliverable, match="not acknowledged by MA/GOV/CNAM/bo"):
        office.record_delivery(outgoing, ack.model_copy(update={"office": "MA/GOV/CNAM/bo"}))
    assert office.record_delivery(outgoing, ack).status is Status.DELIVERED
    assert office.record_delivery(outgoing, ack).status is Status.DELIVERED  # the same again: no change
    with pytest.raises(NotDeliverable, match="already registered by the recipient"):
        office.record_delivery(outgoing, ack.model_copy(update={"registration_number": "CNSS-A-2026-00002"}))
    with pytest.raises(NotDeliverable, match="only outgoing letters"):
        cnss.record_delivery(ack.registration_number, ack)


def test_status_changes_from_other_offices_are_checked(office: MailOffice, cnss: MailOffice) -> None:
    outgoing = send_to_cnss(office)
    Courier(office, cnss).run()
    number = office.show(outgoing).linked_registration
    assert number is not None
    cnss.assign(number, service="pensions", actor="bo.cnss")
    cnss.validate(number, actor="chef")
    assign, validate = (m.payload for m in cnss.pending())

    assert office.record_status_change(validate, sender=CNSS)  # type: ignore[arg-type]
    assert not office.record_status_change(assign, sender=CNSS)  # type: ignore[arg-type]  # older: ignored
    assert office.show(outgoing).linked_status is Status.VALIDATED
    with pytest.raises(UnknownRegistration):
        office.record_status_change(validate, sender="MA/GOV/CNAM/bo")  # type: ignore[arg-type]


def test_an_office_cannot_deliver_in_another_administrations_name(
    office: MailOffice, cnss: MailOffice
) -> None:
    outgoing = send_to_cnss(office)
    with pytest.raises(InvalidSender):
        cnss.deposit(office.letter(outgoing), channel="MA/GOV/CNAM/bo")


def test_a_destination_without_an_office_stays_pending(office: MailOffice) -> None:
    send_to_cnss(office)
    courier = Courier(office)
    assert courier.deliver(office).sent == ()
    [pending] = office.pending()
    assert pending.payload is None  # built only when sent
    with pytest.raises(UnknownOffice):
        courier.sink(office)(pending)


def test_the_letter_delivered_is_the_one_registered(office: MailOffice) -> None:
    outgoing = send_to_cnss(office)
    letter = office.letter(outgoing)
    assert deposit_digest(letter) == office.show(outgoing).deposit_digest
    assert (letter.sender_registration, letter.recipient, letter.attachments) == (outgoing, TO_CNSS, [ANNEX])
    assert letter.sender.identifier == MEF and letter.in_reply_to is None
    incoming = office.deposit(conftest.letter()).registration_number
    with pytest.raises(NotDeliverable, match="only outgoing letters"):
        office.letter(incoming)


def test_a_reply_is_linked_only_to_a_letter_sent_to_its_sender(office: MailOffice, cnss: MailOffice) -> None:
    to_member = Party(kind=PartyKind.ADMINISTRATION, identifier="MA/GOV/CNSS", name="CNSS")
    outgoing = office.send(subject="Question", recipient=to_member, mail_type="letter", actor="a")
    Courier(office, cnss).run()  # "MA/GOV/CNSS" is delivered to the CNSS mail office
    theirs = office.show(outgoing.registration_number).linked_registration
    assert theirs == "CNSS-A-2026-00001"

    def answer(sender: Party) -> str | None:
        reply = conftest.letter(
            f"Réponse de {sender.identifier}", sender=sender, recipient=conftest.TO_MEF, mail_type="reply"
        ).model_copy(update={"in_reply_to": outgoing.registration_number})
        channel = sender.identifier if sender.kind is PartyKind.ADMINISTRATION else None
        return office.show(office.deposit(reply, channel=channel).registration_number).in_reply_to

    assert (
        answer(Party(kind=PartyKind.ADMINISTRATION, identifier=CNSS, name="CNSS"))
        == outgoing.registration_number
    )
    assert answer(Party(kind=PartyKind.ADMINISTRATION, identifier="MA/GOV/CNAM/bo", name="CNAM")) is None
    assert answer(conftest.CITIZEN) is None
