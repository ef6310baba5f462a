"""The office database where a storage says, on SQLite and PostgreSQL: two hosts of one office (their own
directories, one database) give every registration number once, without gaps, and see each other's
letters in the registers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from teleservices.mail_office.models import Direction, Party, PartyKind, RegisterQuery
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.outbox import OutboxKind

from .conftest import PORTAL, FakeClock, letter, mef_config


def test_two_hosts_share_one_gap_free_register(storage, tmp_path: Path, clock: FakeClock) -> None:
    hosts = [
        MailOffice.create(tmp_path / "host-a", mef_config(), clock=clock, storage=storage),
        MailOffice.create(tmp_path / "host-b", mef_config(), clock=clock, storage=storage),
    ]
    per_thread = 6

    def deposit(index: int) -> list[str]:
        office = hosts[index % 2]
        return [
            office.deposit(letter(f"Lettre {index}-{n}"), channel=PORTAL).registration_number
            for n in range(per_thread)
        ]

    with ThreadPoolExecutor(6) as pool:
        numbers = [number for batch in pool.map(deposit, range(6)) for number in batch]

    assert len(set(numbers)) == len(numbers)
    assert sorted(int(number.rsplit("/", 1)[1]) for number in numbers) == list(range(1, 6 * per_thread + 1))
    host_a, host_b = hosts
    assert host_b.show(numbers[0]).subject == "Lettre 0-0"  # deposited on host A
    register = host_a.register(RegisterQuery(direction=Direction.INCOMING, text="LETTRE 3-", limit=100))
    assert register.total == per_thread
    assert sorted(entry.subject for entry in register.entries) == [f"Lettre 3-{n}" for n in range(per_thread)]
    paged = host_b.register(RegisterQuery(direction=Direction.INCOMING, offset=30, limit=10))
    assert [int(e.registration_number.rsplit("/", 1)[1]) for e in paged.entries] == list(range(31, 37))
    assert host_a.late() == []


def test_the_history_stays_append_only(storage, tmp_path: Path, clock: FakeClock) -> None:
    office = MailOffice.create(tmp_path / "office", mef_config(), clock=clock, storage=storage)
    office.deposit(letter("Demande"), channel=PORTAL)
    with pytest.raises(Exception, match="append-only"), office.ledger.store.write() as tx:
        tx.mails._conn.execute("UPDATE history SET actor = 'someone else'")
    with pytest.raises(Exception, match="append-only"), office.ledger.store.write() as tx:
        tx.mails._conn.execute("DELETE FROM history")


def test_a_correspondent_is_found_by_part_of_its_name_ignoring_case(storage, tmp_path, clock) -> None:
    office = MailOffice.create(tmp_path / "office", mef_config(), clock=clock, storage=storage)
    sender = Party(kind=PartyKind.CITIZEN, identifier="AB123456", name="Fatima Zahra BENNANI")
    office.deposit(letter("Demande", sender=sender), channel=PORTAL)
    found = office.register(RegisterQuery(direction=Direction.INCOMING, correspondent="bennani"))
    assert [entry.sender.name for entry in found.entries] == ["Fatima Zahra BENNANI"]


def test_the_outbox_is_shared_by_the_hosts(storage, tmp_path: Path, clock: FakeClock) -> None:
    host_a = MailOffice.create(tmp_path / "host-a", mef_config(), clock=clock, storage=storage)
    host_b = MailOffice.create(tmp_path / "host-b", mef_config(), clock=clock, storage=storage)
    number = host_a.deposit(letter("Demande"), channel=PORTAL).registration_number
    with host_a.ledger.store.write() as tx:
        mail_id = tx.mails.get(number).id
        first = tx.outbox.enqueue(
            OutboxKind.LETTER, destination="MA/GOV/CNSS/bo", mail_id=mail_id, at=clock()
        )
        tx.outbox.enqueue(OutboxKind.LETTER, destination="MA/GOV/CMR/bo", mail_id=mail_id, at=clock())
    with host_b.ledger.store.read() as tx:
        assert [m.destination for m in tx.outbox.pending()] == ["MA/GOV/CNSS/bo", "MA/GOV/CMR/bo"]
        assert [m.destination for m in tx.outbox.pending(exclude=["MA/GOV/CNSS/bo"])] == ["MA/GOV/CMR/bo"]
        assert [m.registration_number for m in tx.outbox.pending(limit=1)] == [number]
    with host_b.ledger.store.write() as tx:
        tx.outbox.mark_sent(first, clock())
    with host_a.ledger.store.read() as tx:
        assert [m.destination for m in tx.outbox.pending()] == ["MA/GOV/CMR/bo"]
