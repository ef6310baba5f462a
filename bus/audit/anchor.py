"""Anchoring: checkpoints travel to the audit participant, which keeps them so history cannot be rewritten.

A participant sends ``checkpoint_payload(checkpoint)`` as the payload of a signed envelope to the audit
participant. There, ``AnchorStore.accept_envelope`` (or ``accept``) checks the checkpoint's own signature
and that it comes from the participant it is about, and keeps it. Anyone can later ask the store to
confirm a participant's chain head at a sequence number, and ``govbus audit verify --anchors`` compares a
log against every checkpoint anchored for it: a log that was rewritten, or cut short, no longer matches.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import lxml.etree as etree
import structlog

from bus.audit import store
from bus.audit.checkpoint import Checkpoint, verify_checkpoint
from bus.audit.connection import PostgresLocation, PostgresLog, SqliteLog
from bus.envelope import VerifiedEnvelope
from bus.envelope.model import format_timestamp, utc_now
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId
from bus.pki import TrustStore
from bus.schema_versions import SchemaHistory, has_tables, refusal, stamp, stored_revision
from bus.sql import postgres_ddl
from bus.xml import whole_text
from schemas import load_schema

log = structlog.get_logger(__name__)

NAMESPACE = "urn:govbus:audit:1"
SCHEMA = "audit.xsd"
ANCHOR_SERVICE_CODE = "audit.checkpoint"
"""The service code (v1, request/reply) of the audit participant that anchors checkpoints (teleservices.audit_anchor)."""
_NS = "{" + NAMESPACE + "}"


def checkpoint_payload(checkpoint: Checkpoint) -> etree._Element:
    """The checkpoint as an ``audit:Checkpoint`` payload element (schemas/audit.xsd)."""
    root = etree.Element(_NS + "Checkpoint", nsmap={"audit": NAMESPACE})
    for name, value in (
        ("participant", checkpoint.participant),
        ("log", checkpoint.log_id),
        ("sequence", str(checkpoint.seq)),
        ("head", checkpoint.head),
        ("time", checkpoint.time),
    ):
        etree.SubElement(root, _NS + name).text = value
    signature = etree.SubElement(root, _NS + "signature", algorithm=checkpoint.algorithm)
    signature.text = base64.b64encode(checkpoint.signature).decode("ascii")
    etree.SubElement(root, _NS + "certificate").text = base64.b64encode(checkpoint.certificate_der).decode(
        "ascii"
    )
    return root


def checkpoint_from_payload(payload: etree._Element) -> Checkpoint:
    """Read a checkpoint payload; raise ``Client.PayloadSchemaViolation`` when it is not one."""
    schema = load_schema(SCHEMA)
    if not schema.validate(payload):
        error = cast(Any, schema.error_log).last_error  # lxml-stubs leave _ErrorLog empty
        raise Fault(FaultCode.PAYLOAD_SCHEMA_VIOLATION, f"checkpoint payload: {error.message}")
    fields = {etree.QName(child).localname: child for child in payload if isinstance(child.tag, str)}

    def text(name: str) -> str:
        return (whole_text(fields[name]) or "").strip()

    try:
        return Checkpoint(
            participant=text("participant"),
            log_id=text("log"),
            seq=int(text("sequence")),
            head=text("head"),
            time=text("time"),
            algorithm=fields["signature"].get("algorithm", ""),
            signature=base64.b64decode(text("signature"), validate=False),
            certificate_der=base64.b64decode(text("certificate"), validate=False),
        )
    except (ValueError, KeyError) as error:
        raise Fault(FaultCode.PAYLOAD_SCHEMA_VIOLATION, f"checkpoint payload: {error}") from None


class AnchorStatus(StrEnum):
    """What accepting a checkpoint found."""

    NEW = "new"
    DUPLICATE = "duplicate"  # the same checkpoint was anchored before
    CONFLICT = "conflict"  # another head was anchored for the same log and sequence: history was rewritten


@dataclass(frozen=True, slots=True)
class Anchored:
    """An accepted checkpoint, when the audit participant received it, and what that revealed."""

    checkpoint: Checkpoint
    received_at: str
    status: AnchorStatus
    conflicts_with: Checkpoint | None = None


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS anchors (participant TEXT NOT NULL, log_id TEXT NOT NULL, seq INTEGER NOT NULL, "
    "head TEXT NOT NULL, time TEXT NOT NULL, algorithm TEXT NOT NULL, signature BLOB NOT NULL, "
    "certificate BLOB NOT NULL, received_at TEXT NOT NULL, status TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS anchors_log ON anchors (participant, log_id, seq)",
)
_COLUMNS = store.CHECKPOINT_COLUMNS
_SELECT = "SELECT " + _COLUMNS + ", received_at, status FROM anchors"  # noqa: S608


class AnchorStore:
    """The audit participant's store of checkpoints anchored by others (SQLite or PostgreSQL; thread-safe).

    Under PostgreSQL every host of the audit participant shares one store: ``accept`` holds the store's
    advisory lock from reading the anchors of a sequence number until its insert commits. Its schema is
    versioned (``MIGRATIONS``): a new store is stamped ``SCHEMA_VERSION``, one at another revision refused.
    """

    FILE_NAME = "anchors.sqlite"
    MIGRATIONS = SchemaHistory("anchor store", Path(__file__).with_name("anchor_migrations"))
    SCHEMA_VERSION = "0001"

    def __init__(self, path: Path | str, conn: SqliteLog | PostgresLog, trust: TrustStore | None) -> None:
        self.path = path
        self._conn = conn
        self._trust = trust
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | Path | PostgresLocation, trust: TrustStore) -> AnchorStore:
        """Open (creating if needed) an anchor store that verifies what it accepts against ``trust``:
        a SQLite file, or a schema in PostgreSQL."""
        conn: SqliteLog | PostgresLog
        if isinstance(path, PostgresLocation):
            conn = PostgresLog(path.url, path.schema)
        else:
            conn = SqliteLog(store.connect(Path(path)), Path(path))
        try:
            conn.begin()
            current = stored_revision(conn, conn.dialect)
            if current is None and not has_tables(conn, conn.dialect):
                for statement in _SCHEMA:
                    conn.execute(postgres_ddl(statement) if conn.dialect == "postgresql" else statement)
                stamp(conn, cls.SCHEMA_VERSION)
            elif current != cls.SCHEMA_VERSION:
                raise refusal(cls.MIGRATIONS.name, path, current, cls.SCHEMA_VERSION)
            conn.commit()
        except BaseException:
            conn.rollback()
            conn.close()
            raise
        return cls(conn.name if isinstance(path, PostgresLocation) else Path(path), conn, trust)

    @classmethod
    def read(cls, path: str | Path) -> AnchorStore:
        """Open an existing store read-only (to hand its checkpoints to a verifier)."""
        path = Path(path)
        return cls(path, SqliteLog(store.connect(path, readonly=True), path), None)

    def accept_envelope(self, envelope: VerifiedEnvelope) -> Anchored:
        """Accept the checkpoint carried by a verified envelope; its sender must be the checkpoint's participant."""
        return self.accept(envelope.payload, sender=envelope.header.client)

    def accept(
        self, payload: etree._Element, *, sender: ParticipantId | str, received_at: datetime | None = None
    ) -> Anchored:
        """Verify and keep a checkpoint payload sent by ``sender``; raise the ``Fault`` that refuses it.

        A checkpoint whose sequence was already anchored with another head is kept too, marked
        ``conflict``: it is the evidence that the participant rewrote its log.
        """
        if self._trust is None:
            raise ValueError(f"{self.path} was opened read-only")
        checkpoint = checkpoint_from_payload(payload)
        verify_checkpoint(checkpoint, self._trust)
        if checkpoint.participant != str(sender):
            raise Fault(
                FaultCode.SENDER_MISMATCH, f"{sender} cannot anchor a checkpoint of {checkpoint.participant}"
            )
        received = format_timestamp(received_at or utc_now())
        with self._lock:
            self._conn.begin()
            try:
                rows = self._conn.execute(
                    _SELECT + " WHERE participant = ? AND log_id = ? AND seq = ?",
                    (checkpoint.participant, checkpoint.log_id, checkpoint.seq),
                ).fetchall()
                known = [(_checkpoint(row), row[8]) for row in rows]
                duplicate = next(
                    (
                        (other, at)
                        for other, at in known
                        if (other.head, other.time) == (checkpoint.head, checkpoint.time)
                    ),
                    None,
                )
                conflict = next((other for other, _ in known if other.head != checkpoint.head), None)
                status = AnchorStatus.CONFLICT if conflict is not None else AnchorStatus.NEW
                if duplicate is None:
                    self._conn.execute(
                        f"INSERT INTO anchors ({_COLUMNS}, received_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                        (*store.checkpoint_row(checkpoint), received, str(status)),
                    )
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise
        if duplicate is not None:
            return Anchored(duplicate[0], duplicate[1], AnchorStatus.DUPLICATE)
        if conflict is not None:
            log.error(
                "audit.anchor_conflict",
                participant=checkpoint.participant,
                log=checkpoint.log_id,
                seq=checkpoint.seq,
                anchored=conflict.head,
                received=checkpoint.head,
            )
        return Anchored(checkpoint, received, status, conflict)

    def checkpoints(
        self, participant: ParticipantId | str | None = None, *, log_id: str | None = None
    ) -> list[Checkpoint]:
        """Anchored checkpoints (of one participant, of one log), by sequence."""
        clauses, params = [], []
        if participant is not None:
            clauses.append("participant = ?")
            params.append(str(participant))
        if log_id is not None:
            clauses.append("log_id = ?")
            params.append(log_id)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        with self._lock:
            rows = self._conn.execute(
                _SELECT + where + " ORDER BY participant, log_id, seq, time", params
            ).fetchall()
        return [_checkpoint(row) for row in rows]

    def latest(self, participant: ParticipantId | str, *, log_id: str | None = None) -> Checkpoint | None:
        """The anchored checkpoint with the highest sequence number (latest time) for a participant."""
        found = self.checkpoints(participant, log_id=log_id)
        return max(found, key=lambda c: (c.seq, c.time)) if found else None

    def confirm(self, participant: ParticipantId | str, log_id: str, seq: int, head: str) -> bool | None:
        """Whether the participant's log had ``head`` at ``seq``: True or False when a checkpoint was anchored
        at that sequence (False also when anchors there disagree), None when none was."""
        heads = {c.head for c in self.checkpoints(participant, log_id=log_id) if c.seq == seq}
        if not heads:
            return None
        return heads == {head}

    def conflicts(self) -> list[Checkpoint]:
        """Checkpoints anchored with a head that contradicts an earlier anchor for the same sequence."""
        with self._lock:
            rows = self._conn.execute(
                _SELECT + " WHERE status = ? ORDER BY received_at, participant, log_id, seq",
                (str(AnchorStatus.CONFLICT),),
            ).fetchall()
        return [_checkpoint(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> AnchorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _checkpoint(row: tuple[object, ...]) -> Checkpoint:
    return store.to_checkpoint(row[:8])
