"""Registration numbers: format, separate registers, yearly reset, no gaps and no duplicates."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from teleservices.mail_office.errors import ConfigurationError, InvalidSender, InvalidTransition
from teleservices.mail_office.models import Party, PartyKind, RegisterQuery
from teleservices.mail_office.numbering import NumberFormat
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.workflow import Direction

from .conftest import CITIZEN, FakeClock, cnss_config, letter, mef_config

TO_CNSS = Party(kind=PartyKind.ADMINISTRATION, identifier="MA/GOV/CNSS/bo", name="CNSS")


def test_default_format_counts_each_register_separately(office: MailOffice) -> None:
    assert office.deposit(letter("un")).registration_number == "MEF/2026/A/1"
    assert office.deposit(letter("deux")).registration_number == "MEF/2026/A/2"
    sent = office.send(subject="Demande d'avis", recipient=TO_CNSS, mail_type="letter", actor="k.alami")
    assert sent.registration_number == "MEF/2026/D/1"
    assert office.deposit(letter("trois")).registration_number == "MEF/2026/A/3"


def test_a_configured_format(tmp_path: Path, clock: FakeClock) -> None:
    office = MailOffice.create(tmp_path / "cnss", cnss_config(), clock=clock)
    to_cnss = Party(kind=PartyKind.ADMINISTRATION, identifier="MA/GOV/CNSS/bo", name="CNSS")
    assert office.deposit(letter(recipient=to_cnss)).registration_number == "CNSS-A-2026-00001"


def test_the_counter_restarts_each_local_year(office: MailOffice, clock: FakeClock) -> None:
    clock.set(datetime(2026, 12, 31, 22, 59, tzinfo=UTC))  # 23:59 in Casablanca
    assert office.deposit(letter("fin d'année")).registration_number == "MEF/2026/A/1"
    assert office.deposit(letter("encore")).registration_number == "MEF/2026/A/2"
    clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # already 1 January 2027 in Casablanca
    assert office.deposit(letter("nouvel an")).registration_number == "MEF/2027/A/1"
    sent = office.send(subject="Vœux", recipient=TO_CNSS, mail_type="letter", actor="k.alami")
    assert sent.registration_number == "MEF/2027/D/1"

    incoming_2026 = office.register(RegisterQuery(direction=Direction.INCOMING, year=2026))
    assert [e.registration_number for e in incoming_2026.entries] == ["MEF/2026/A/1", "MEF/2026/A/2"]
    assert office.register(RegisterQuery(direction=Direction.INCOMING, year=2027)).total == 1


def test_concurrent_deposits_get_every_number_once_without_gaps(tmp_path: Path, clock: FakeClock) -> None:
    MailOffice.create(tmp_path / "mef", mef_config(), clock=clock)
    workers = 8
    per_worker = 12

    def worker(index: int) -> list[str]:
        office = MailOffice(tmp_path / "mef", clock=clock)  # its own connection, like a worker process
        numbers = []
        for n in range(per_worker):
            if n % 4 == 3:  # refused deposits must not consume numbers
                with pytest.raises(InvalidSender):
                    office.deposit(letter(sender=Party(kind=PartyKind.CITIZEN, identifier="?", name="x")))
            numbers.append(office.deposit(letter(f"lettre {index}-{n}")).registration_number)
        return numbers

    with ThreadPoolExecutor(workers) as pool:
        numbers = [number for batch in pool.map(worker, range(workers)) for number in batch]

    counters = sorted(int(number.rsplit("/", 1)[1]) for number in numbers)
    assert counters == list(range(1, workers * per_worker + 1))


def test_a_refused_reply_does_not_consume_an_outgoing_number(office: MailOffice) -> None:
    number = office.deposit(letter()).registration_number
    with pytest.raises(InvalidTransition):
        office.reply(number, subject="Réponse prématurée", actor="k.alami")  # not validated yet
    sent = office.send(subject="Courrier", recipient=CITIZEN, mail_type="letter", actor="k.alami")
    assert sent.registration_number == "MEF/2026/D/1"


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("{office}/{year}/{counter}", "must contain {register}"),
        ("{office}/{register}/{counter}", "must contain {year}"),
        ("{office}/{year}/{register}", "must contain {counter}"),
        ("{office}/{year}/{register}/{counter}/{agent}", "unknown field"),
        ("{office}/{year}/{register}/{counter!r}", "conversions"),
        ("{office} {year}/{register}/{counter}", "without spaces"),
        ("{office}/{year}/{register}/{counter:.2f}", "{counter:.2f} is not allowed"),
        ("{office}/{year}/{register}/{counter:x<30}", "{counter:x<30} is not allowed"),
        ("{office}/{year}/{register}/{counter:6}", "{counter:6} is not allowed"),
        ("{office}/{year:>6}/{register}/{counter}", "{year:>6} is not allowed"),
        ("{office}/{year/{register}/{counter}", "unexpected"),
    ],
)
def test_unusable_formats_are_refused(pattern: str, why: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(why)):
        NumberFormat(pattern)


@pytest.mark.parametrize("pattern", ["{counter:06d}", "{counter:04}", "{counter:d}"])
def test_the_counter_may_be_padded(pattern: str) -> None:
    rendered = NumberFormat("{office}/{year}/{register}/" + pattern).render("MEF", 2026, "A", 42)
    assert rendered.startswith("MEF/2026/A/") and int(rendered.rsplit("/", 1)[1]) == 42


def test_numbers_longer_than_the_contract_allows_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="1-100 printable ASCII"):
        NumberFormat("{year}/{register}/{counter:099d}")


def test_an_office_with_an_unusable_format_does_not_start() -> None:
    with pytest.raises(ConfigurationError, match="must contain"):
        mef_config(number_format="{counter}")
