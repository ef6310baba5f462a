"""Storage of a book: SQLite for folders, histories, delegations and the event outbox; files by digest.

::

    BOOK_DIR/
      config.json              the book's configuration (see ``config``)
      book.db                  SQLite (WAL): folders, history, members, awaiting, delegations, outbox
      blobs/ab/abcdef...       documents, signatures, manifests and seals, named by their SHA-256

Blobs are written before the transaction that refers to them (an orphan blob is harmless) and their
digest is checked on every read. ``BookStore`` is an ``sdk.Store``: each state change is one write
transaction, so several processes may serve the same book directory; its events wait in the SDK's
transactional outbox (``sdk.outbox``), written in the same transaction as the change.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sdk.outbox import OUTBOX_SCHEMA, Outbox
from sdk.store import Database, Locator, SchemaHistory, SqliteDatabase, Store
from teleservices.signature_book._bus import ParticipantId
from teleservices.signature_book.delegation import Delegation
from teleservices.signature_book.errors import StorageCorrupted, UnknownFolder
from teleservices.signature_book.events import BookEvent
from teleservices.signature_book.history import (
    DelegationRef,
    HistoryEntry,
    canonical_json,
    check_chain,
)
from teleservices.signature_book.models import FolderEvent
from teleservices.signature_book.times import format_timestamp, parse_timestamp
from teleservices.signature_book.workflow import FolderState

DB_FILE = "book.db"
BLOB_DIR = "blobs"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS folders (
    id TEXT PRIMARY KEY,
    submitter TEXT NOT NULL,
    business_type TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    current_step INTEGER,
    submitted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    head TEXT NOT NULL,
    manifest TEXT,
    seal TEXT
);
CREATE TABLE IF NOT EXISTS history (
    folder_id TEXT NOT NULL REFERENCES folders(id),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (folder_id, seq)
);
CREATE TABLE IF NOT EXISTS members (
    folder_id TEXT NOT NULL REFERENCES folders(id),
    participant TEXT NOT NULL,
    PRIMARY KEY (folder_id, participant)
);
CREATE TABLE IF NOT EXISTS awaiting (
    folder_id TEXT NOT NULL REFERENCES folders(id),
    participant TEXT NOT NULL,
    PRIMARY KEY (folder_id, participant)
);
CREATE INDEX IF NOT EXISTS awaiting_participant ON awaiting(participant);
CREATE TABLE IF NOT EXISTS delegations (
    id TEXT PRIMARY KEY,
    principal TEXT NOT NULL,
    substitute TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS delegations_substitute ON delegations(substitute);
CREATE INDEX IF NOT EXISTS delegations_principal ON delegations(principal);
"""

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@dataclass(frozen=True, slots=True)
class FolderRow:
    """The summary columns of a folder (the history is the truth; these serve queries)."""

    id: str
    submitter: str
    business_type: str
    title: str
    status: str
    current_step: int | None
    submitted_at: datetime
    updated_at: datetime
    manifest: str | None
    seal: str | None


class BookStore(Store):
    """One book directory: its database and its blobs. Serves many threads (a connection per transaction)."""

    FILE_NAME = DB_FILE
    MIGRATIONS = SchemaHistory("signature book", MIGRATIONS_DIR / "book")
    SCHEMA_VERSION = "0001"
    SCHEMA = _SCHEMA + OUTBOX_SCHEMA

    def __init__(self, database: Database, directory: Path) -> None:
        super().__init__(database)
        self.directory = Path(directory)
        self._blobs = self.directory / BLOB_DIR
        self.outbox = Outbox(database)

    @classmethod
    def open(cls, directory: Path, storage: Locator | None = None) -> BookStore:
        """The store of the book in ``directory`` (created if needed); its tables where ``storage`` says.

        Blobs always live in ``directory`` (several hosts of one book share it on a common file system).
        """
        database = SqliteDatabase(Path(directory) / DB_FILE) if storage is None else storage.database(DB_FILE)
        store = cls(database, directory)
        store.settle_schema()
        return store

    # Blobs

    def _blob_path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise StorageCorrupted(f"{digest!r} is not a SHA-256 digest")
        return self._blobs / digest[:2] / digest

    def put_blob(self, data: bytes) -> str:
        """Store ``data`` under its SHA-256 (hex), once; return the digest."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._blob_path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{digest}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return digest

    def get_blob(self, digest: str) -> bytes:
        """The bytes stored under ``digest``; ``StorageCorrupted`` when missing or altered."""
        path = self._blob_path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StorageCorrupted(f"stored content {digest} is missing") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise StorageCorrupted(f"stored content {digest} no longer matches its digest")
        return data

    # Folders and histories

    def history(self, conn: sqlite3.Connection, folder_id: str) -> list[HistoryEntry]:
        """The folder's checked history; ``UnknownFolder`` when there is none."""
        rows = conn.execute(
            "SELECT seq, hash, entry FROM history WHERE folder_id = ? ORDER BY seq", (folder_id,)
        ).fetchall()
        if not rows:
            raise UnknownFolder(f"no folder {folder_id}")
        entries = []
        for seq, digest, text in rows:
            entry = HistoryEntry.from_json(json.loads(text))
            if entry.seq != seq or entry.hash != digest:
                raise StorageCorrupted(f"history entry {seq} of folder {folder_id} was altered")
            entries.append(entry)
        check_chain(entries, folder_id)
        return entries

    def append(self, conn: sqlite3.Connection, entry: HistoryEntry) -> None:
        conn.execute(
            "INSERT INTO history (folder_id, seq, hash, entry) VALUES (?, ?, ?, ?)",
            (entry.folder, entry.seq, entry.hash, canonical_json(entry.as_json()).decode("utf-8")),
        )

    def save_folder(self, conn: sqlite3.Connection, state: FolderState) -> None:
        """Insert or update a folder's summary, members and awaited signatories from its state."""
        definition = state.definition
        assert state.last is not None
        first = conn.execute("SELECT submitted_at FROM folders WHERE id = ?", (definition.id,)).fetchone()
        if first is None:
            conn.execute(
                "INSERT INTO folders (id, submitter, business_type, title, status, current_step, submitted_at,"
                " updated_at, head) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    definition.id,
                    str(definition.submitter),
                    definition.business_type,
                    definition.title,
                    str(state.status),
                    state.current,
                    format_timestamp(state.last.at),
                    format_timestamp(state.last.at),
                    state.last.hash,
                ),
            )
            members = {str(definition.submitter)} | {
                str(s) for step in definition.circuit.steps for s in step.signatories
            }
            conn.executemany(
                "INSERT INTO members (folder_id, participant) VALUES (?, ?)",
                [(definition.id, m) for m in sorted(members)],
            )
        else:
            conn.execute(
                "UPDATE folders SET status = ?, current_step = ?, updated_at = ?, head = ? WHERE id = ?",
                (
                    str(state.status),
                    state.current,
                    format_timestamp(state.last.at),
                    state.last.hash,
                    definition.id,
                ),
            )
        conn.execute("DELETE FROM awaiting WHERE folder_id = ?", (definition.id,))
        conn.executemany(
            "INSERT INTO awaiting (folder_id, participant) VALUES (?, ?)",
            [(definition.id, str(p)) for p in state.awaiting()],
        )

    def set_sealed(self, conn: sqlite3.Connection, folder_id: str, manifest: str, seal: str) -> None:
        conn.execute("UPDATE folders SET manifest = ?, seal = ? WHERE id = ?", (manifest, seal, folder_id))

    def folder_row(self, conn: sqlite3.Connection, folder_id: str) -> FolderRow:
        query = f"SELECT {_FOLDER_COLUMNS} FROM folders WHERE id = ?"  # noqa: S608 - constant columns
        row = conn.execute(query, (folder_id,)).fetchone()
        if row is None:
            raise UnknownFolder(f"no folder {folder_id}")
        return _folder_row(row)

    def is_member(
        self, conn: sqlite3.Connection, folder_id: str, participants: Iterable[ParticipantId]
    ) -> bool:
        names = [str(p) for p in participants]
        marks = ",".join("?" * len(names))
        row = conn.execute(
            f"SELECT 1 FROM members WHERE folder_id = ? AND participant IN ({marks}) LIMIT 1",  # noqa: S608
            (folder_id, *names),
        ).fetchone()
        return row is not None

    def folder_rows(
        self,
        conn: sqlite3.Connection,
        *,
        status: str | None = None,
        awaiting: Iterable[ParticipantId] | None = None,
        members: Iterable[ParticipantId] | None = None,
    ) -> list[FolderRow]:
        """Folders filtered by status, by awaited signatory and by visibility, oldest update first."""
        clauses, args = [], []
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        for table, participants in (("awaiting", awaiting), ("members", members)):
            if participants is None:
                continue
            names = [str(p) for p in participants] or [""]
            marks = ",".join("?" * len(names))
            clauses.append(f"id IN (SELECT folder_id FROM {table} WHERE participant IN ({marks}))")  # noqa: S608
            args.extend(names)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = conn.execute(
            f"SELECT {_FOLDER_COLUMNS} FROM folders {where} ORDER BY updated_at, id",  # noqa: S608
            args,
        ).fetchall()
        return [_folder_row(row) for row in rows]

    # Delegations

    def add_delegation(self, conn: sqlite3.Connection, delegation: Delegation) -> None:
        ref = delegation.ref
        conn.execute(
            "INSERT INTO delegations (id, principal, substitute, valid_from, valid_until, reason, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                ref.id,
                str(ref.principal),
                str(ref.substitute),
                format_timestamp(ref.valid_from),
                format_timestamp(ref.valid_until),
                delegation.reason,
                format_timestamp(delegation.created_at),
            ),
        )

    def shorten_delegation(
        self, conn: sqlite3.Connection, delegation_id: str, valid_from: datetime, valid_until: datetime
    ) -> None:
        """Narrow a delegation's period (ending it early); its copies in history entries are untouched."""
        conn.execute(
            "UPDATE delegations SET valid_from = ?, valid_until = ? WHERE id = ?",
            (format_timestamp(valid_from), format_timestamp(valid_until), delegation_id),
        )

    def delegations(
        self,
        conn: sqlite3.Connection,
        *,
        substitute: ParticipantId | None = None,
        principal: ParticipantId | None = None,
    ) -> list[Delegation]:
        """Delegations to ``substitute`` and/or from ``principal``, oldest first."""
        clauses, args = [], []
        if substitute is not None:
            clauses.append("substitute = ?")
            args.append(str(substitute))
        if principal is not None:
            clauses.append("principal = ?")
            args.append(str(principal))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = conn.execute(
            "SELECT id, principal, substitute, valid_from, valid_until, reason, created_at FROM delegations "  # noqa: S608
            f"{where} ORDER BY created_at, id",
            args,
        ).fetchall()
        return [
            Delegation(
                DelegationRef(
                    row[0],
                    ParticipantId.parse(row[1]),
                    ParticipantId.parse(row[2]),
                    parse_timestamp(row[3]),
                    parse_timestamp(row[4]),
                ),
                parse_timestamp(row[6]),
                row[5],
            )
            for row in rows
        ]

    # Outbox

    def enqueue(self, conn: sqlite3.Connection, recipient: str, event: BookEvent) -> None:
        """Queue ``event`` for ``recipient`` in the transaction of the change it reports."""
        kind = event.kind if isinstance(event, FolderEvent) else "delegation"
        body = event.to_xml()
        body = body.encode("utf-8") if isinstance(body, str) else body
        Outbox.enqueue(conn, message_id=event.event_id, recipient=recipient, kind=str(kind), body=body)

    def outbox_size(self) -> int:
        """How many events still wait for delivery."""
        return self.outbox.size()


_FOLDER_COLUMNS = (
    "id, submitter, business_type, title, status, current_step, submitted_at, updated_at, manifest, seal"
)


def _folder_row(row: tuple[object, ...]) -> FolderRow:
    return FolderRow(
        id=str(row[0]),
        submitter=str(row[1]),
        business_type=str(row[2]),
        title=str(row[3]),
        status=str(row[4]),
        current_step=row[5] if isinstance(row[5], int) else None,
        submitted_at=parse_timestamp(str(row[6])),
        updated_at=parse_timestamp(str(row[7])),
        manifest=str(row[8]) if row[8] is not None else None,
        seal=str(row[9]) if row[9] is not None else None,
    )
