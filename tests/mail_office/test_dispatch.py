"""The SDK's outbox pump over an office's outbox: letters delivered and linked, failures kept in order."""

from __future__ import annotations

from teleservices.mail_office.delivery import Courier
from teleservices.mail_office.dispatch import OfficeOutbox, outbox_pump
from teleservices.mail_office.models import Acknowledgement, Party, PartyKind
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.outbox import OutboxMessage, Sink
from teleservices.mail_office.workflow import Status

from .conftest import CNSS

TO_CNSS = Party(kind=PartyKind.ADMINISTRATION, identifier=CNSS, name="Caisse Nationale de Sécurité Sociale")


def send(office: MailOffice, subject: str) -> str:
    return office.send(
        subject=subject, recipient=TO_CNSS, mail_type="request", actor="k.alami"
    ).registration_number


class Flaky:
    """Hands messages to ``sink``; fails the first ``failures`` calls."""

    def __init__(self, sink: Sink, failures: int) -> None:
        self.sink = sink
        self.failures = failures
        self.sent: list[str] = []

    def __call__(self, message: OutboxMessage) -> Acknowledgement | None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the recipient is unreachable")
        self.sent.append(message.registration_number)
        return self.sink(message)


def test_the_pump_delivers_letters_in_order_and_links_them(office: MailOffice, cnss: MailOffice) -> None:
    first, second = send(office, "Premier courrier"), send(office, "Second courrier")
    sink = Flaky(Courier(office, cnss).sink(office), failures=1)
    pump = outbox_pump(office, sink, interval=0.01, max_backoff=0.01)

    assert pump.drain() == 0  # the first letter failed; the second waits behind it
    assert [(m.registration_number, m.attempts) for m in office.pending()] == [(first, 1), (second, 0)]
    assert office.pending()[0].last_error == "ConnectionError: the recipient is unreachable"

    pump.backoff.succeeded(CNSS)
    assert pump.drain() == 2
    assert sink.sent == [first, second] and office.pending() == []
    assert office.show(first).status is Status.DELIVERED
    assert office.show(first).linked_registration == "CNSS-A-2026-00001"


def test_an_acknowledgement_that_does_not_fit_leaves_the_letter_pending(
    office: MailOffice, cnss: MailOffice
) -> None:
    number = send(office, "Demande d'avis")
    other = cnss.deposit(
        office.letter(number).model_copy(update={"subject": "Autre chose"}), channel=office.participant
    )
    source = OfficeOutbox(office, lambda message: other)
    pump = outbox_pump(office, source.sink)

    assert pump.drain() == 0
    [waiting] = office.pending()
    assert waiting.attempts == 1 and "NotDeliverable" in (waiting.last_error or "")
    assert office.show(number).status is Status.REGISTERED
