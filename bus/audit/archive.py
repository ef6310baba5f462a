"""Retention: move a log's oldest records into a sealed archive file that stays linked to the live log.

``archive_log`` first verifies the live log (nothing tampered is ever sealed), makes sure a signed
checkpoint covers the last record to archive (``k``), writes records ``base+1..k`` and the checkpoints up
to ``k`` to ``messages.archive.<first>-<k>.sqlite`` (sealed: read-only, rollback journal, ``sealed=1``
with its end sequence and hash in ``meta``), then in one transaction deletes them from the live log,
whose base becomes (``k``, hash of ``k``). The live log keeps the checkpoint at ``k`` (the signed link) and
a row in ``archives`` naming the file. ``verify_log`` on the live log verifies the archives with it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bus.audit import store
from bus.audit.checkpoint import Checkpoint, CheckpointSigner
from bus.audit.errors import AuditError
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify import verify_log
from bus.envelope.model import format_timestamp, parse_timestamp, utc_now
from bus.pki import SigningIdentity


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    """A sealed archive file and the records it holds."""

    path: Path
    first_seq: int
    last_seq: int
    checkpoint: Checkpoint


def archive_name(first: int, last: int) -> str:
    return f"messages.archive.{first:012d}-{last:012d}.sqlite"


def archive_log(
    log_path: Path,
    before: datetime,
    *,
    identity: SigningIdentity,
    trust: TrustFiles,
    directory: Path | None = None,
) -> ArchiveResult | None:
    """Archive every record recorded before ``before``; None when there is none to archive.

    ``identity`` (the log's participant) signs the checkpoint that seals the archive when none covers
    its last record yet. The archive is written to ``directory`` (default: beside the log), where
    ``govbus audit verify`` looks for it.
    """
    report = verify_log([log_path], trust)
    if not report.ok:
        first = report.first_problem
        raise AuditError(
            f"{log_path} does not verify ({first.message if first else 'see verify'}): nothing archived"
        )
    conn = store.connect(log_path)
    try:
        meta = store.read_meta(conn, log_path)
        if meta.sealed:
            raise AuditError(f"{log_path} is itself a sealed archive")
        if str(identity.participant) != meta.participant:
            raise AuditError(f"{log_path} is the log of {meta.participant}, not of {identity.participant}")
        cutoff = format_timestamp(before)
        row = conn.execute(
            "SELECT max(seq) FROM records WHERE seq < coalesce("
            "(SELECT min(seq) FROM records WHERE recorded_at >= ?), 9223372036854775807)",
            (cutoff,),
        ).fetchone()
        last = row[0]
        if last is None or last <= meta.base_seq:
            return None
        checkpoint = _seal_checkpoint(conn, meta, last, identity)
        folder = directory or log_path.parent
        target = folder / archive_name(meta.base_seq + 1, last)
        _write_archive(log_path, target, meta, last, checkpoint)
        _cut(conn, meta, target, last, checkpoint)
        return ArchiveResult(target, meta.base_seq + 1, last, checkpoint)
    except sqlite3.Error as error:
        raise AuditError(f"{log_path}: archiving failed ({error})") from None
    finally:
        conn.close()


def _seal_checkpoint(
    conn: sqlite3.Connection, meta: store.LogMeta, last: int, identity: SigningIdentity
) -> Checkpoint:
    head, recorded_at = conn.execute(
        "SELECT hash, recorded_at FROM records WHERE seq = ?", (last,)
    ).fetchone()
    for checkpoint in store.checkpoints(conn):
        if checkpoint.seq == last and checkpoint.head == head:
            return checkpoint
    moment = max(utc_now(), parse_timestamp(recorded_at))
    checkpoint = CheckpointSigner(identity).sign(meta.log_id, last, head, moment)
    with conn:
        conn.execute(store.INSERT_CHECKPOINT, store.checkpoint_row(checkpoint))
    return checkpoint


def _write_archive(log_path: Path, target: Path, meta: store.LogMeta, last: int, seal: Checkpoint) -> None:
    if target.exists():
        raise AuditError(f"{target} already exists")
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    archive = sqlite3.connect(tmp.resolve().as_uri(), uri=True, isolation_level=None)
    try:
        archive.execute("PRAGMA journal_mode = DELETE")
        archive.execute("BEGIN")
        store.create(
            archive,
            {
                "format": store.LOG_FORMAT,
                "log_id": meta.log_id,
                "participant": meta.participant,
                "created_at": meta.created_at,
                "base_seq": str(meta.base_seq),
                "base_hash": meta.base_hash,
                **({"base_time": meta.base_time} if meta.base_time else {}),
                "sealed": "1",
                "end_seq": str(last),
                "end_hash": seal.head,
                "archived_at": format_timestamp(utc_now()),
            },
        )
        archive.execute("COMMIT")
        archive.execute("ATTACH DATABASE ? AS live", (log_path.resolve().as_uri() + "?mode=ro",))
        columns = ", ".join(store.RECORD_COLUMNS)
        archive.execute("BEGIN")
        archive.execute(
            f"INSERT INTO main.records ({columns}) SELECT {columns} FROM live.records WHERE seq <= ? ORDER BY seq",  # noqa: S608
            (last,),
        )
        archive.execute(
            f"INSERT INTO main.checkpoints ({store.CHECKPOINT_COLUMNS}) SELECT {store.CHECKPOINT_COLUMNS} "  # noqa: S608
            "FROM live.checkpoints WHERE seq <= ? ORDER BY seq, time",
            (last,),
        )
        count = archive.execute("SELECT count(*) FROM main.records").fetchone()[0]
        if count != last - meta.base_seq:
            raise AuditError(f"expected {last - meta.base_seq} records to archive, found {count}")
        archive.execute("COMMIT")
        archive.execute("DETACH DATABASE live")
    except BaseException:
        archive.close()
        tmp.unlink(missing_ok=True)
        raise
    archive.close()
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    target.chmod(0o444)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _cut(conn: sqlite3.Connection, meta: store.LogMeta, target: Path, last: int, seal: Checkpoint) -> None:
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT hash, recorded_at FROM records WHERE seq = ?", (last,)).fetchone()
        if row is None or row[0] != seal.head:
            raise AuditError(f"record {last} changed while it was archived; the live log was left as it was")
        conn.execute("DELETE FROM records WHERE seq <= ?", (last,))
        conn.execute("DELETE FROM checkpoints WHERE seq < ?", (last,))
        store.set_meta(conn, base_seq=str(last), base_hash=seal.head, base_time=row[1])
        conn.execute(
            "INSERT INTO archives (file, first_seq, last_seq, last_hash, sha256, archived_at) VALUES (?, ?, ?, ?, ?, ?)",
            (target.name, meta.base_seq + 1, last, seal.head, digest, format_timestamp(utc_now())),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
