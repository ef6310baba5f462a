"""The message logs an auditor may open, their checkpoints and anchors, search and evidence.

An auditor of an administration (``MA/GOV/MEF/bureau-ordre``) sees the logs of that administration's
participants only: those whose instance, class and member are the same (``MA/GOV/MEF/*``). A log is
named in addresses by its participant id; the file is always ``BusHome.participant_dir(p) /
"messages.sqlite"``, so no path typed by anyone is ever opened.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lxml.etree as etree

from bus.audit import AnchorStore, AuditError, store
from bus.audit.checkpoint import Checkpoint
from bus.audit.query import SearchFilter, search
from bus.audit.record import Record
from bus.envelope.codec import HEADER_TAG
from bus.faults import Fault
from bus.ids import ParticipantId
from bus.pki.home import BusHome
from bus.xml import parse_untrusted, whole_text

LOG_FILE = "messages.sqlite"
SUBJECT_SCAN = 20_000
"""Records whose envelopes are read at most to search by data subject (it is not a hashed field)."""


def administration_key(participant: str) -> tuple[str, str, str] | None:
    """(instance, class, member) of a participant id; None when it is not one."""
    try:
        pid = ParticipantId.parse(participant)
    except (Fault, ValueError):
        return None
    return pid.instance, pid.member_class, pid.member


def same_administration(participant: str, administration: str) -> bool:
    key = administration_key(participant)
    return key is not None and key == administration_key(administration)


@dataclass(frozen=True, slots=True)
class LogInfo:
    participant: str
    path: Path
    records: int
    last_seq: int | None
    last_time: str | None
    checkpoint: Checkpoint | None
    anchored: Checkpoint | None = None
    anchor_matches: bool | None = None
    """Whether the log still holds the anchored head at the anchored sequence (None: nothing anchored)."""
    unreadable: str | None = None
    """Why the log could not be read (then only its verification says more)."""

    @property
    def uncovered(self) -> int:
        return (self.last_seq or 0) - (self.checkpoint.seq if self.checkpoint else 0)


def logs_of(home: BusHome, administration: str) -> list[str]:
    """The participants of ``administration`` that keep a message log in ``home``, sorted."""
    root = home.root / "participants"
    found = []
    if root.is_dir():
        for directory in root.iterdir():
            participant = directory.name.replace("+", "/")
            if (directory / LOG_FILE).is_file() and same_administration(participant, administration):
                found.append(participant)
    return sorted(found)


def log_path(home: BusHome, participant: str) -> Path:
    return home.participant_dir(ParticipantId.parse(participant)) / LOG_FILE


def read_info(path: Path, participant: str, anchors: AnchorStore | None) -> LogInfo:
    """Counts, last record and checkpoint of a log (read only), and how its latest anchor compares."""
    conn = store.connect(path, readonly=True)
    try:
        meta = store.read_meta(conn, path)
        count, last_seq = conn.execute("SELECT count(*), max(seq) FROM records").fetchone()
        last = store.last_record(conn)
        checkpoint = store.latest_checkpoint(conn)
        anchored, matches = None, None
        if anchors is not None:
            anchored = anchors.latest(meta.participant, log_id=meta.log_id)
            if anchored is not None:
                at = store.record_at(conn, anchored.seq)
                held = at.hash if at is not None else None
                matches = (
                    held is not None
                    and anchors.confirm(meta.participant, meta.log_id, anchored.seq, held) is True
                )
    finally:
        conn.close()
    return LogInfo(
        participant, path, count, last_seq, last.recorded_at if last else None, checkpoint, anchored, matches
    )


@dataclass(frozen=True, slots=True)
class Criteria:
    service: str | None = None
    client: str | None = None
    data_subject: str | None = None
    outcome: str | None = None
    since: str | None = None
    until: str | None = None

    @property
    def empty(self) -> bool:
        return not any((self.service, self.client, self.data_subject, self.outcome, self.since, self.until))


@dataclass
class Found:
    records: list[tuple[Record, str | None]]
    """Each record with the data subject its envelope names (None when it names none or is not kept)."""
    limited: bool
    scanned_out: bool = False
    """The data-subject search stopped after ``SUBJECT_SCAN`` records: narrow it by time or service."""


def data_subject(raw: bytes | None) -> str | None:
    """The ``dataSubject`` the stored envelope's header names (hardened parser; not verified here)."""
    if not raw:
        return None
    try:
        root = parse_untrusted(bytes(raw))
    except Fault:
        return None
    header = root.find(HEADER_TAG)
    if header is None:
        return None
    for child in header:
        if isinstance(child.tag, str) and etree.QName(child).localname == "dataSubject":
            return (whole_text(child) or "")[:256]
    return None


def find(path: Path, criteria: Criteria, limit: int) -> Found:
    """Records matching every criterion, in sequence order, at most ``limit``."""
    conn = store.connect(path, readonly=True)
    try:
        wanted = SearchFilter(
            service=criteria.service,
            client=criteria.client,
            since=criteria.since,
            until=criteria.until,
            outcome=criteria.outcome,
        )
        results: list[tuple[Record, str | None]] = []
        scanned = 0
        for record in search(conn, wanted):
            subject = data_subject(_raw(conn, record.seq))
            if criteria.data_subject is not None:
                scanned += 1
                if scanned > SUBJECT_SCAN:
                    return Found(results, False, scanned_out=True)
                if subject != criteria.data_subject:
                    continue
            results.append((record, subject))
            if len(results) > limit:
                return Found(results[:limit], True)
        return Found(results, False)
    finally:
        conn.close()


def _raw(conn: sqlite3.Connection, seq: int) -> bytes | None:
    row = conn.execute("SELECT raw FROM records WHERE seq = ?", (seq,)).fetchone()
    return bytes(row[0]) if row is not None and row[0] is not None else None


def anchored_checkpoints(anchors: Path | None) -> list[Checkpoint]:
    """Every checkpoint the audit participant holds (empty without an anchor store)."""
    if anchors is None or not anchors.is_file():
        return []
    with AnchorStore.read(anchors) as held:
        return held.checkpoints()


def open_anchors(anchors: Path | None) -> AnchorStore | None:
    if anchors is None or not anchors.is_file():
        return None
    try:
        return AnchorStore.read(anchors)
    except (AuditError, sqlite3.DatabaseError):
        return None


def iter_participants(home: BusHome, administration: str) -> Iterator[tuple[str, Path]]:
    for participant in logs_of(home, administration):
        yield participant, log_path(home, participant)
