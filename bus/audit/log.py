"""The writer: ``MessageLog`` appends records to a participant's log and signs checkpoints of its head.

Thread-safe with group commit: concurrent ``record`` calls queue their rows and whichever caller finds
the log idle writes every queued row in one transaction (one ``BEGIN IMMEDIATE ... COMMIT``), so a lone
caller pays one insert and a crowd shares commits. Sequence numbers and chain hashes are assigned inside
that transaction from the head read there, so several processes may append to one file, and processes
on several hosts to one PostgreSQL log (``PostgresLocation``): there the transaction holds the chain's
advisory lock from before the head is read until the commit (see ``bus.audit.connection``).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import lxml.etree as etree
import psycopg
import structlog

from bus.audit import store
from bus.audit.checkpoint import Checkpoint, CheckpointSigner
from bus.audit.claims import claimed_header
from bus.audit.connection import DATABASE_ERRORS, PostgresLocation, PostgresLog, SqliteLog
from bus.audit.errors import AuditError, LogClosed, LogDamaged
from bus.audit.record import (
    GENESIS_HASH,
    HASHED_FIELDS,
    HEADER_FIELDS,
    NEEDS_FAULT_CODE,
    OUTCOMES_BY_DIRECTION,
    RAW_CAP,
    REASON_CAP,
    UNVERIFIED_OUTCOMES,
    Direction,
    HeaderOrigin,
    LogMode,
    Outcome,
    chain_hash,
    encode_fields,
    header_fields,
    record_digest,
)
from bus.envelope import Header
from bus.envelope.model import format_timestamp, parse_timestamp, utc_now
from bus.ids import ParticipantId
from bus.pki import SigningIdentity

log = structlog.get_logger(__name__)

DEFAULT_CHECKPOINT_EVERY = 1000


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where a record landed: its sequence number, chain hash and recording time."""

    seq: int
    hash: str
    recorded_at: str


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """One record of ``MessageLog.record_many``: the arguments of ``MessageLog.record``."""

    direction: Direction | str
    raw: bytes
    header: Header | None
    outcome: Outcome | str
    fault_code: str | None = None
    fault_reason: str | None = None
    mode: LogMode | str | None = None


@dataclass(slots=True)
class _Pending:
    values: dict[str, Any]
    raw: bytes | None
    ref: RecordRef | None = None
    error: BaseException | None = None
    done: bool = False


class MessageLog:
    """A participant's append-only, hash-chained message log: one SQLite file (WAL) or one PostgreSQL schema.

    ``path`` is the SQLite file (None for PostgreSQL); ``where`` names the log in messages.
    """

    def __init__(
        self,
        path: Path | None,
        conn: SqliteLog | PostgresLog,
        meta: store.LogMeta,
        *,
        identity: SigningIdentity | None,
        checkpoint_every: int | None,
        checkpoint_interval: float | None,
        default_mode: LogMode,
        service_modes: Mapping[str, LogMode],
        raw_cap: int,
        on_checkpoint: Callable[[Checkpoint], None] | None,
    ) -> None:
        self.path = path
        self.where = conn.name
        self.log_id = meta.log_id
        self.participant = ParticipantId.parse(meta.participant)
        self._conn = conn
        self._signer = CheckpointSigner(identity) if identity is not None else None
        self._checkpoint_every = checkpoint_every
        self._default_mode = default_mode
        self._service_modes = dict(service_modes)
        self._raw_cap = raw_cap
        self._on_checkpoint = on_checkpoint
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._busy = False
        self._closed = False
        last = store.latest_checkpoint(conn)
        self._seq = self._read_head()[0]
        self._checkpointed_seq = last.seq if last is not None else meta.base_seq
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if checkpoint_interval is not None and self._signer is not None:
            self._ticker = threading.Thread(
                target=self._tick, args=(checkpoint_interval,), name="govbus-audit-checkpoints", daemon=True
            )
            self._ticker.start()

    @classmethod
    def open(
        cls,
        path: str | Path | PostgresLocation,
        *,
        identity: SigningIdentity | None,
        participant: ParticipantId | str | None = None,
        checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
        checkpoint_interval: float | None = None,
        default_mode: LogMode | str = LogMode.FULL,
        service_modes: Mapping[str, LogMode | str] | None = None,
        synchronous: Literal["normal", "full"] = "normal",
        raw_cap: int = RAW_CAP,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> MessageLog:
        """Open (creating if needed) the log at ``path``, a SQLite file or a ``PostgresLocation``.

        ``identity`` signs checkpoints every ``checkpoint_every`` records, every ``checkpoint_interval``
        seconds when records were added, and on ``close``; without it the log records but cannot sign.
        ``service_modes`` maps service ids to ``full`` or ``metadata``; others use ``default_mode``.
        ``synchronous="full"`` makes every commit durable against power loss (fsync per group commit);
        ``"normal"`` survives process crashes and may lose the last commits on power loss (PostgreSQL:
        ``synchronous_commit`` off for the log's session, so a crash of the database server may lose the
        last commits; ``"full"`` waits for each commit to reach the server's disk).
        ``on_checkpoint`` receives each new checkpoint (to anchor it) on the thread that made it.
        """
        if identity is not None and participant is not None and str(participant) != str(identity.participant):
            raise ValueError(f"identity {identity.participant} is not participant {participant}")
        who = (
            str(identity.participant) if identity is not None else (str(participant) if participant else None)
        )
        conn: SqliteLog | PostgresLog
        if isinstance(path, PostgresLocation):
            try:
                conn = PostgresLog(path.url, path.schema, durable=synchronous == "full")
            except DATABASE_ERRORS as error:
                raise AuditError(f"{path}: cannot open the message log ({error})") from None
            file = None
        else:
            file = Path(path)
            conn = SqliteLog(store.connect(file, synchronous=synchronous.upper()), file)
        try:
            meta = cls._prepare(conn, conn.name, who)
        except BaseException:
            conn.close()
            raise
        modes = {str(service): LogMode(mode) for service, mode in (service_modes or {}).items()}
        opened = cls(
            file,
            conn,
            meta,
            identity=identity,
            checkpoint_every=checkpoint_every,
            checkpoint_interval=checkpoint_interval,
            default_mode=LogMode(default_mode),
            service_modes=modes,
            raw_cap=raw_cap,
            on_checkpoint=on_checkpoint,
        )
        return opened

    @staticmethod
    def _prepare(conn: SqliteLog | PostgresLog, path: str, participant: str | None) -> store.LogMeta:
        try:
            conn.begin()
            if not store.has_meta(conn):
                if participant is None:
                    raise AuditError(f"{path}: a new log needs an identity or a participant")
                store.create(
                    conn,
                    {
                        "format": store.LOG_FORMAT,
                        "log_id": str(uuid.uuid4()),
                        "participant": participant,
                        "created_at": format_timestamp(utc_now()),
                        "base_seq": "0",
                        "base_hash": GENESIS_HASH,
                        "sealed": "0",
                    },
                )
            conn.commit()
            meta = store.read_meta(conn, path)
            _check_tail(conn, meta, path)
        except DATABASE_ERRORS as error:
            conn.rollback()
            raise AuditError(f"{path}: cannot open the message log ({error})") from None
        if meta.sealed:
            raise AuditError(f"{path} is a sealed archive: nothing can be appended to it")
        if participant is not None and meta.participant != participant:
            raise AuditError(f"{path} is the log of {meta.participant}, not {participant}")
        return meta

    def record(
        self,
        direction: Direction | str,
        raw: bytes,
        *,
        header: Header | None,
        outcome: Outcome | str,
        fault_code: str | None = None,
        fault_reason: str | None = None,
        mode: LogMode | str | None = None,
    ) -> RecordRef:
        """Append one record and commit it before returning (call it before acknowledging a message).

        ``header`` is the verified header (received) or the signed one (sent); it may be None only for
        ``rejected`` messages, whose claimed header is then read from ``raw`` and marked unverified.
        ``fault_code`` is required for refused, rejected, fault and failed outcomes. Rejected and failed
        messages keep at most ``raw_cap`` bytes; ``metadata`` mode keeps none (size and SHA-256 only).
        """
        values = self._values(
            Direction(direction), bytes(raw), header, Outcome(outcome), fault_code, fault_reason, mode
        )
        item = _Pending(values=values[0], raw=values[1])
        return self._submit([item])[0]

    def record_many(self, entries: Iterable[RecordEntry]) -> list[RecordRef]:
        """Append several records in one transaction (as ``record`` each), committed before returning."""
        items = []
        for entry in entries:
            values, stored = self._values(
                Direction(entry.direction),
                bytes(entry.raw),
                entry.header,
                Outcome(entry.outcome),
                entry.fault_code,
                entry.fault_reason,
                entry.mode,
            )
            items.append(_Pending(values=values, raw=stored))
        return self._submit(items) if items else []

    def _values(
        self,
        direction: Direction,
        raw: bytes,
        header: Header | None,
        outcome: Outcome,
        fault_code: str | None,
        fault_reason: str | None,
        mode: LogMode | str | None,
    ) -> tuple[dict[str, Any], bytes | None]:
        if outcome not in OUTCOMES_BY_DIRECTION[direction]:
            raise ValueError(f"outcome {outcome} is not possible for direction {direction}")
        if outcome in NEEDS_FAULT_CODE and not fault_code:
            raise ValueError(f"a {outcome} record needs a fault code")
        if header is None and outcome is not Outcome.REJECTED:
            raise ValueError(f"a {outcome} record needs the message header")
        if header is not None:
            fields: dict[str, str | None] = header_fields(header)
            origin = HeaderOrigin.ENVELOPE
        else:
            claimed = claimed_header(raw)
            fields = claimed if claimed is not None else dict.fromkeys(HEADER_FIELDS)
            origin = HeaderOrigin.UNVERIFIED if claimed is not None else HeaderOrigin.NONE
        chosen = (
            LogMode(mode)
            if mode is not None
            else self._service_modes.get(fields["service"] or "", self._default_mode)
        )
        digest = hashlib.sha256(raw).hexdigest()
        stored: bytes | None = None
        stored_sha256: str | None = None
        if chosen is LogMode.FULL:
            stored = raw
            stored_sha256 = digest
            if outcome in UNVERIFIED_OUTCOMES and len(raw) > self._raw_cap:
                stored = raw[: self._raw_cap]
                stored_sha256 = hashlib.sha256(stored).hexdigest()
        values: dict[str, Any] = {
            "direction": str(direction),
            "outcome": str(outcome),
            "fault_code": str(fault_code) if fault_code else None,
            "fault_reason": fault_reason[:REASON_CAP] if fault_reason else None,
            "mode": str(chosen),
            "header_origin": str(origin),
            **fields,
            "size": len(raw),
            "sha256": digest,
            "stored_size": len(stored) if stored is not None else 0,
            "stored_sha256": stored_sha256,
        }
        return values, stored

    def _submit(self, items: list[_Pending]) -> list[RecordRef]:
        item = items[-1]  # queued together, so written in the same batch
        with self._cond:
            if self._closed:
                raise LogClosed(f"{self.where} is closed")
            self._queue.extend(items)
            while not item.done and self._busy:
                self._cond.wait()
            if not item.done:
                self._busy = True
                batch, self._queue = self._queue, []
        if not item.done:
            checkpoint = None
            try:
                try:
                    refs = self._write(batch)
                except Exception as error:
                    failure = (
                        AuditError(f"{self.where}: the record was not written ({error})")
                        if isinstance(error, DATABASE_ERRORS)
                        else error
                    )
                    for pending in batch:
                        pending.error = failure
                else:
                    for pending, ref in zip(batch, refs, strict=True):
                        pending.ref = ref
                    checkpoint = self._checkpoint_if_due()
            finally:
                with self._cond:
                    for pending in batch:
                        pending.done = True
                    self._busy = False
                    self._cond.notify_all()
            if checkpoint is not None:
                self._announce(checkpoint)
        if item.error is not None:
            raise item.error
        return [pending.ref for pending in items if pending.ref is not None]

    def _read_head(self) -> tuple[int, str, str | None]:
        row = self._conn.execute(
            "SELECT seq, hash, recorded_at FROM records ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row is not None:
            return row[0], row[1], row[2]
        meta = store.read_meta(self._conn, self.where)
        return meta.base_seq, meta.base_hash, meta.base_time

    def _write(self, batch: list[_Pending]) -> list[RecordRef]:
        conn = self._conn
        conn.begin()
        try:
            seq, head, last_time = self._read_head()
            now = format_timestamp(utc_now())
            recorded_at = now if last_time is None or now >= last_time else last_time
            rows = []
            refs = []
            for pending in batch:
                seq += 1
                values = pending.values
                values["seq"] = seq
                values["recorded_at"] = recorded_at
                row = tuple(values[name] for name in HASHED_FIELDS)
                head = chain_hash(head, hashlib.sha256(encode_fields(row)).hexdigest())
                rows.append((*row, pending.raw, head))
                refs.append(RecordRef(seq, head, recorded_at))
            conn.executemany(store.INSERT_RECORD, rows)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        self._seq = seq
        return refs

    def _checkpoint_if_due(self) -> Checkpoint | None:
        if self._signer is None or self._checkpoint_every is None:
            return None
        if self._seq - self._checkpointed_seq < self._checkpoint_every:
            return None
        try:
            return self._make_checkpoint()
        except (sqlite3.Error, psycopg.Error, AuditError):
            log.exception("audit.checkpoint_failed", path=self.where)
            return None

    def _make_checkpoint(self) -> Checkpoint | None:
        """Sign the current head unless the latest checkpoint already covers it; None when it does."""
        if self._signer is None:
            raise AuditError(f"{self.where}: no signing identity: the log cannot sign checkpoints")
        conn = self._conn
        conn.begin()
        try:
            seq, head, last_time = self._read_head()
            latest = store.latest_checkpoint(conn)
            if latest is not None and latest.seq == seq and latest.head == head:
                conn.commit()
                self._checkpointed_seq = seq
                return None
            moment = utc_now()
            if last_time is not None and format_timestamp(moment) < last_time:
                moment = parse_timestamp(last_time)
            checkpoint = self._signer.sign(self.log_id, seq, head, moment)
            conn.execute(store.INSERT_CHECKPOINT, store.checkpoint_row(checkpoint))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        self._checkpointed_seq = seq
        self._seq = max(self._seq, seq)
        return checkpoint

    def _announce(self, checkpoint: Checkpoint) -> None:
        if self._on_checkpoint is None:
            return
        try:
            self._on_checkpoint(checkpoint)
        except Exception:
            log.exception("audit.on_checkpoint_failed", path=self.where, seq=checkpoint.seq)

    def _acquire(self) -> None:
        with self._cond:
            while self._busy:
                self._cond.wait()
            if self._closed:
                raise LogClosed(f"{self.where} is closed")
            self._busy = True

    def _release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def checkpoint(self) -> Checkpoint:
        """Sign a checkpoint of the current head now (or return the latest one if it already covers it)."""
        self._acquire()
        try:
            made = self._make_checkpoint()
            latest = made or store.latest_checkpoint(self._conn)
        finally:
            self._release()
        if made is not None:
            self._announce(made)
        assert latest is not None
        return latest

    def latest_checkpoint(self) -> Checkpoint | None:
        """The most recent checkpoint stored in the log."""
        self._acquire()
        try:
            return store.latest_checkpoint(self._conn)
        finally:
            self._release()

    def checkpoint_payload(self) -> etree._Element:
        """A checkpoint of the current head as an anchoring payload for the bus (see ``bus.audit.anchor``)."""
        from bus.audit.anchor import checkpoint_payload

        return checkpoint_payload(self.checkpoint())

    def head(self) -> tuple[int, str]:
        """The sequence number and chain hash of the last record (the base when empty)."""
        self._acquire()
        try:
            seq, head, _ = self._read_head()
        finally:
            self._release()
        return seq, head

    def _tick(self, interval: float) -> None:
        while not self._stop.wait(interval):
            if self._seq <= self._checkpointed_seq:
                continue
            try:
                self.checkpoint()
            except LogClosed:
                return
            except (sqlite3.Error, psycopg.Error, AuditError):
                log.exception("audit.checkpoint_failed", path=self.where)

    def close(self) -> None:
        """Sign a final checkpoint when records were added since the last one, then close the file."""
        self._stop.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join()
        with self._cond:
            while self._busy:
                self._cond.wait()
            if self._closed:
                return
            self._busy = True
        made = None
        try:
            if self._signer is not None and self._seq > self._checkpointed_seq:
                try:
                    made = self._make_checkpoint()
                except (sqlite3.Error, psycopg.Error, AuditError):
                    log.exception("audit.checkpoint_failed", path=self.where)
        finally:
            self._conn.close()
            with self._cond:
                self._closed = True
                self._busy = False
                self._cond.notify_all()
        if made is not None:
            self._announce(made)

    def __enter__(self) -> MessageLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_tail(conn: SqliteLog | PostgresLog, meta: store.LogMeta, path: str) -> None:
    """Refuse to append after a last record that does not match its hash (torn or edited)."""
    last = store.last_record(conn)
    if last is None:
        return
    if last.seq == meta.base_seq + 1:
        previous = meta.base_hash
    else:
        before = conn.execute("SELECT hash FROM records WHERE seq = ?", (last.seq - 1,)).fetchone()
        if before is None:
            raise LogDamaged(f"{path}: record {last.seq - 1} is missing; run 'govbus audit verify {path}'")
        previous = before[0]
    try:
        expected = chain_hash(previous, record_digest(last))
    except (TypeError, ValueError):
        expected = None
    stored_ok = last.raw is None or hashlib.sha256(last.raw).hexdigest() == last.stored_sha256
    if expected != last.hash or not stored_ok:
        raise LogDamaged(
            f"{path}: the last record ({last.seq}) does not match its hash; "
            f"nothing is appended until the log is examined with 'govbus audit verify {path}'"
        )
