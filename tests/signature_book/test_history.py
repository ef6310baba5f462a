"""The history is hash-linked, and replaying it re-checks every rule: a forged history does not replay."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from teleservices.signature_book.circuit import Circuit
from teleservices.signature_book.errors import InvalidDelegation, NotAssigned, StorageCorrupted
from teleservices.signature_book.history import (
    DelegationRef,
    DocumentRef,
    EntryKind,
    FolderDefinition,
    HistoryEntry,
    check_chain,
    history_json,
    parse_history,
)
from teleservices.signature_book.workflow import FolderStatus, replay
from tests.signature_book.conftest import ADJOINT, AGENT, DRH, SG, Clock, pid

FOLDER = "0f8b7a52-3c1d-4e6f-9a0b-1c2d3e4f5a6b"


def history(clock: Clock) -> list[HistoryEntry]:
    circuit = Circuit.from_json(
        [{"kind": "visa", "signatories": [DRH]}, {"kind": "signature", "signatories": [SG]}]
    )
    definition = FolderDefinition(
        FOLDER, "Arrêté", "hr", pid(AGENT), (DocumentRef("a.pdf", "application/pdf", "ab" * 32, 4),), circuit
    )
    first = HistoryEntry(FOLDER, 1, clock(), EntryKind.SUBMITTED, pid(AGENT), definition=definition)
    visa = HistoryEntry(FOLDER, 0, clock(), EntryKind.APPROVED, pid(DRH), step=1).chained(first)
    signed = HistoryEntry(FOLDER, 0, clock(), EntryKind.SIGNED, pid(SG), step=2, signature="cd" * 32).chained(
        visa
    )
    return [first, visa, signed]


def test_a_history_round_trips_and_replays_to_completion(clock: Clock) -> None:
    entries = history(clock)
    parsed = parse_history(history_json(entries))
    assert parsed == entries
    assert replay(parsed).status is FolderStatus.COMPLETED


def test_a_broken_link_is_detected(clock: Clock) -> None:
    entries = history(clock)
    entries[1] = replace(entries[1], comment="added later")
    with pytest.raises(StorageCorrupted, match="does not link"):
        check_chain(entries)
    data = history_json(history(clock)).replace(b'"approved"', b'"signed"', 1)
    with pytest.raises(StorageCorrupted, match="does not match its hash"):
        parse_history(data)


def test_replay_refuses_an_action_outside_the_circuit(clock: Clock) -> None:
    first, visa, _ = history(clock)
    forged = HistoryEntry(FOLDER, 0, clock(), EntryKind.APPROVED, pid(ADJOINT), step=1).chained(first)
    with pytest.raises(NotAssigned):
        replay([first, forged])
    skipped = HistoryEntry(
        FOLDER, 0, clock(), EntryKind.SIGNED, pid(SG), step=2, signature="cd" * 32
    ).chained(first)
    with pytest.raises(NotAssigned):
        replay([first, skipped])
    assert replay([first, visa]).current == 2


def test_replay_refuses_a_substitute_outside_its_delegation(clock: Clock) -> None:
    first, visa, _ = history(clock)
    expired = DelegationRef(
        "d1", pid(SG), pid(ADJOINT), clock() - timedelta(days=2), clock() - timedelta(days=1)
    )
    signed = HistoryEntry(
        FOLDER,
        0,
        clock(),
        EntryKind.SIGNED,
        pid(ADJOINT),
        step=2,
        on_behalf_of=pid(SG),
        delegation=expired,
        signature="cd" * 32,
    ).chained(visa)
    with pytest.raises(InvalidDelegation, match="not at"):
        replay([first, visa, signed])
    running = replace(expired, valid_until=clock() + timedelta(days=1))
    assert replay([first, visa, replace(signed, delegation=running)]).status is FolderStatus.COMPLETED
