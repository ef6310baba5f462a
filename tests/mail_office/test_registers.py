"""The registers: search by status, correspondent, subject, dates and service; counts; late letters; CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from schemas import load_schema
from teleservices.mail_office.models import SCHEMA, Party, PartyKind, RegisterQuery
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.registers import CSV_COLUMNS
from teleservices.mail_office.workflow import Direction, Status

from .conftest import CITIZEN, COMPANY, PORTAL, FakeClock, letter

ELODIE = Party(kind=PartyKind.CITIZEN, identifier="BE998877", name="Élodie Benjelloun")
CNSS = Party(kind=PartyKind.ADMINISTRATION, identifier="MA/GOV/CNSS/bo", name="CNSS")


@pytest.fixture
def populated(office: MailOffice, clock: FakeClock) -> MailOffice:
    """Five incoming letters over March 2026 in various states, and two outgoing ones."""
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    a1 = office.deposit(letter("Demande de mutation", sender=CITIZEN), channel=PORTAL).registration_number
    office.assign(a1, service="rh", actor="bo")
    clock.set(datetime(2026, 3, 5, 9, tzinfo=UTC))
    office.deposit(letter("Réclamation paiement", sender=COMPANY, mail_type="complaint"))
    clock.set(datetime(2026, 3, 10, 9, tzinfo=UTC))
    a3 = office.deposit(
        letter("Attestation de MUTATION", sender=ELODIE, mail_type="letter")
    ).registration_number
    office.assign(a3, service="rh", actor="bo")
    office.validate(a3, actor="chef")
    office.close(a3, actor="chef")
    clock.set(datetime(2026, 3, 16, 9, tzinfo=UTC))
    office.deposit(letter('=HYPERLINK("http://x")', sender=ELODIE, mail_type="letter"))
    clock.set(datetime(2026, 3, 20, 9, tzinfo=UTC))
    office.deposit(letter("Information", sender=CNSS, mail_type="letter"), channel="MA/GOV/CNSS/bo")
    office.send(
        subject="Demande d'avis", recipient=CNSS, mail_type="letter", actor="k.alami", service="juridique"
    )
    office.send(subject="Convocation", recipient=ELODIE, mail_type="letter", actor="k.alami")
    clock.set(datetime(2026, 3, 25, 9, tzinfo=UTC))  # the complaint (due 16 March) is late
    return office


def numbers(office: MailOffice, **criteria: object) -> list[str]:
    options: dict[str, object] = {"direction": Direction.INCOMING, **criteria}
    return [e.registration_number for e in office.register(RegisterQuery(**options)).entries]  # type: ignore[arg-type]


def test_the_incoming_register_lists_every_letter_in_order(populated: MailOffice) -> None:
    page = populated.register(RegisterQuery(direction=Direction.INCOMING))
    assert [e.registration_number for e in page.entries] == [f"MEF/2026/A/{n}" for n in range(1, 6)]
    assert page.total == 5 and page.late == 1
    assert {c.status: c.count for c in page.counts} == {
        Status.REGISTERED: 3,
        Status.ASSIGNED: 1,
        Status.CLOSED: 1,
    }
    assert load_schema(SCHEMA).validate(page.to_xml_tree())


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"status": Status.REGISTERED}, [2, 4, 5]),
        ({"status": Status.CLOSED}, [3]),
        ({"correspondent": "AB123456"}, [1]),
        ({"correspondent": "ab123456"}, [1]),
        ({"correspondent": "atlas"}, [2]),
        ({"correspondent": "élodie"}, [3, 4]),  # case-insensitive beyond ASCII
        ({"correspondent": "MA/GOV/CNSS/bo"}, [5]),
        ({"text": "mutation"}, [1, 3]),
        ({"text": "PAIEMENT"}, [2]),
        ({"service": "rh"}, [1, 3]),
        ({"service": "finances"}, [2]),
        ({"registered_from": date(2026, 3, 5)}, [2, 3, 4, 5]),
        ({"registered_to": date(2026, 3, 10)}, [1, 2, 3]),
        ({"registered_from": date(2026, 3, 5), "registered_to": date(2026, 3, 10)}, [2, 3]),
        ({"year": 2026, "text": "mutation", "status": Status.ASSIGNED}, [1]),
        ({"late_only": True}, [2]),
        ({"year": 2025}, []),
        ({"text": "%"}, []),  # no wildcard: the text is matched literally
    ],
)
def test_search(populated: MailOffice, criteria: dict[str, object], expected: list[int]) -> None:
    assert numbers(populated, **criteria) == [f"MEF/2026/A/{n}" for n in expected]


def test_totals_count_every_match_and_entries_one_page(populated: MailOffice) -> None:
    page = populated.register(RegisterQuery(direction=Direction.INCOMING, limit=2, offset=1))
    assert [e.registration_number for e in page.entries] == ["MEF/2026/A/2", "MEF/2026/A/3"]
    assert page.total == 5 and page.late == 1


def test_entries_say_which_are_late(populated: MailOffice) -> None:
    entries = populated.register(RegisterQuery(direction=Direction.INCOMING)).entries
    assert [e.late for e in entries] == [False, True, False, False, False]
    late = entries[1]
    assert (late.deadline, late.service, late.sender) == (date(2026, 3, 16), "finances", COMPANY)


def test_the_late_list(populated: MailOffice) -> None:
    assert [e.registration_number for e in populated.late()] == ["MEF/2026/A/2"]
    later = datetime(2026, 4, 30, 9, tzinfo=UTC)
    assert [e.registration_number for e in populated.late(at=later)] == [
        "MEF/2026/A/2",  # due 16 March
        "MEF/2026/A/1",  # 31 March
        "MEF/2026/A/4",  # 15 April
        "MEF/2026/A/5",  # 20 April
    ]  # the most overdue first; the closed letter is never late


def test_the_outgoing_register_searches_recipients(populated: MailOffice) -> None:
    page = populated.register(RegisterQuery(direction=Direction.OUTGOING))
    assert [(e.registration_number, e.recipient.name) for e in page.entries] == [
        ("MEF/2026/D/1", "CNSS"),
        ("MEF/2026/D/2", "Élodie Benjelloun"),
    ]
    assert page.late == 0 and all(e.deadline is None for e in page.entries)
    assert numbers(populated, direction=Direction.OUTGOING, correspondent="benjelloun") == ["MEF/2026/D/2"]
    assert numbers(populated, direction=Direction.OUTGOING, service="juridique") == ["MEF/2026/D/1"]


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_export(populated: MailOffice) -> None:
    out = io.StringIO(newline="")
    count = populated.export_csv(RegisterQuery(direction=Direction.INCOMING, limit=1), out)  # paging ignored
    rows = read_csv(out.getvalue())
    assert count == len(rows) == 5
    assert tuple(rows[0]) == CSV_COLUMNS
    assert out.getvalue().startswith(",".join(CSV_COLUMNS) + "\r\n")
    first = rows[0]
    assert first["registration_number"] == "MEF/2026/A/1"
    assert first["registered_at"] == "2026-03-02T09:00:00.000Z"
    assert (first["status"], first["service"], first["sender_identifier"]) == ("assigned", "rh", "AB123456")
    assert (first["deadline"], first["late"]) == ("2026-03-31", "no")
    assert rows[1]["late"] == "yes"
    assert rows[2]["sender_name"] == "Élodie Benjelloun"


def test_csv_cells_never_become_spreadsheet_formulas(populated: MailOffice) -> None:
    out = io.StringIO(newline="")
    populated.export_csv(RegisterQuery(direction=Direction.INCOMING, text="hyperlink"), out)
    [row] = read_csv(out.getvalue())
    assert row["subject"] == '\'=HYPERLINK("http://x")'
    assert populated.show(row["registration_number"]).subject == '=HYPERLINK("http://x")'


def test_csv_export_of_a_search(populated: MailOffice, tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        assert populated.export_csv(RegisterQuery(direction=Direction.INCOMING, late_only=True), out) == 1
    [row] = read_csv(path.read_text("utf-8"))
    assert row["registration_number"] == "MEF/2026/A/2"
