"""Fixtures for the mail office: a controllable clock, offices in temporary directories, sample letters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from teleservices.mail_office.config import MailType, OfficeConfig
from teleservices.mail_office.deadlines import DayCount
from teleservices.mail_office.models import Attachment, Deposit, Party, PartyKind
from teleservices.mail_office.office import MailOffice

MEF = "MA/GOV/MEF/bo"
CNSS = "MA/GOV/CNSS/bo"
PORTAL = "MA/GOV/PORTAIL/guichet"
# Monday 2 March 2026, 10:30 in Casablanca (UTC+0 during Ramadan 2026).
START = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime = START) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.moment = moment


def mef_config(**overrides: object) -> OfficeConfig:
    options: dict[str, object] = {
        "participant": MEF,
        "name": "Ministère de l'Économie et des Finances",
        "code": "MEF",
        "services": ("bureau-ordre", "rh", "juridique", "finances"),
        "mail_types": {
            "letter": MailType(30, DayCount.CALENDAR),
            "request": MailType(20, DayCount.BUSINESS, "rh"),
            "complaint": MailType(10, DayCount.CALENDAR, "finances"),
            "reply": MailType(15, DayCount.CALENDAR),
        },
        "holidays": frozenset({date(2026, 3, 20), date(2026, 3, 21)}),  # Eid al-Fitr 2026
    }
    options.update(overrides)
    return OfficeConfig(**options)  # type: ignore[arg-type]


def cnss_config(**overrides: object) -> OfficeConfig:
    options: dict[str, object] = {
        "participant": CNSS,
        "name": "Caisse Nationale de Sécurité Sociale",
        "code": "CNSS",
        "number_format": "{office}-{register}-{year}-{counter:05d}",
    }
    options.update(overrides)
    return OfficeConfig(**options)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def office(tmp_path: Path, clock: FakeClock) -> MailOffice:
    return MailOffice.create(tmp_path / "mef", mef_config(), clock=clock)


@pytest.fixture
def cnss(tmp_path: Path, clock: FakeClock) -> MailOffice:
    return MailOffice.create(tmp_path / "cnss", cnss_config(), clock=clock)


CITIZEN = Party(kind=PartyKind.CITIZEN, identifier="AB123456", name="Amina El Idrissi")
COMPANY = Party(kind=PartyKind.COMPANY, identifier="001525369000088", name="Atlas Travaux SARL")
TO_MEF = Party(kind=PartyKind.ADMINISTRATION, identifier=MEF, name="MEF")


def letter(
    subject: str = "Demande de mutation",
    *,
    sender: Party = CITIZEN,
    recipient: Party = TO_MEF,
    mail_type: str = "request",
    body: str | None = "Madame, Monsieur,",
    attachments: list[Attachment] | None = None,
) -> Deposit:
    return Deposit(
        subject=subject,
        sender=sender,
        recipient=recipient,
        mail_type=mail_type,
        body=body,
        attachments=[Attachment.of("demande.pdf", "application/pdf", b"%PDF-1.7 demande")]
        if attachments is None
        else attachments,
    )


@pytest.fixture
def deposited(office: MailOffice) -> Callable[..., str]:
    """Deposit a letter through the portal and return its registration number."""

    def deposit(subject: str = "Demande de mutation", **options: object) -> str:
        return office.deposit(letter(subject, **options), channel=PORTAL).registration_number  # type: ignore[arg-type]

    return deposit


@pytest.fixture
def world(broker_url: str | None, tmp_path: Path, clock: FakeClock) -> Iterator[object]:
    """Both offices and the citizen portal on a throwaway bus (memory:// or RabbitMQ): see bus_world."""
    from sdk.testing import TestBus

    from .bus_world import build_world

    with TestBus(tmp_path / "bus", broker=broker_url) as bus:
        yield build_world(bus, clock)
