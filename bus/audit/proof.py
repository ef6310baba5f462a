"""Chain proofs: that given records sit, unchanged, in a log whose head a signed checkpoint fixes.

A proof starts at a record's hash (or the log's base hash), lists the digest of every record from there
up to the checkpoint's sequence number, and ends with the checkpoint. Recomputing
``hash = chain_hash(hash, digest)`` over the digests must give the checkpoint's head, and each record
shown in full must have the digest listed at its position. Omitted records appear only as digests.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bus.audit import store
from bus.audit.checkpoint import Checkpoint
from bus.audit.errors import AuditError
from bus.audit.record import Record, chain_hash, record_digest


class NotCovered(AuditError):
    """No signed checkpoint covers the records yet (normal for the newest records of a live log)."""


@dataclass(frozen=True, slots=True)
class ChainProof:
    """From the hash after record ``start_seq`` through ``digests`` to ``checkpoint``."""

    start_seq: int
    start_hash: str
    digests: tuple[str, ...]
    checkpoint: Checkpoint

    def as_json(self) -> dict[str, Any]:
        return {"start_seq": self.start_seq, "start_hash": self.start_hash, "digests": list(self.digests)}


def covering_checkpoint(conn: sqlite3.Connection, seq: int) -> Checkpoint | None:
    """The earliest checkpoint at or after ``seq`` (the shortest proof for a record at ``seq``)."""
    row = conn.execute(
        store.SELECT_CHECKPOINTS + " WHERE seq >= ? ORDER BY seq, time LIMIT 1", (seq,)
    ).fetchone()
    return store.to_checkpoint(row) if row is not None else None


def build_proof(conn: sqlite3.Connection, meta: store.LogMeta, seqs: Iterable[int]) -> ChainProof:
    """A proof covering the records ``seqs`` of the log on ``conn``; ``AuditError`` when no checkpoint covers them."""
    wanted = sorted(set(seqs))
    if not wanted:
        raise AuditError("a proof needs at least one record")
    checkpoint = covering_checkpoint(conn, wanted[-1])
    if checkpoint is None:
        raise NotCovered(
            f"record {wanted[-1]} is not yet covered by a signed checkpoint: sign one first "
            "('govbus audit checkpoint' with the participant's key)"
        )
    start = wanted[0] - 1
    if start == meta.base_seq:
        start_hash = meta.base_hash
    else:
        row = conn.execute("SELECT hash FROM records WHERE seq = ?", (start,)).fetchone()
        if row is None:
            raise AuditError(f"record {start} is missing: the log is damaged; run 'govbus audit verify'")
        start_hash = row[0]
    digests = []
    expected = start + 1
    for record in store.records(conn, first=start + 1, last=checkpoint.seq, with_raw=False):
        if record.seq != expected:
            raise AuditError(f"record {expected} is missing: the log is damaged; run 'govbus audit verify'")
        try:
            digests.append(record_digest(record))
        except TypeError as error:
            raise AuditError(
                f"record {record.seq} is malformed ({error}); run 'govbus audit verify'"
            ) from None
        expected += 1
    if expected != checkpoint.seq + 1:
        raise AuditError(f"records {expected}..{checkpoint.seq} are missing; run 'govbus audit verify'")
    return ChainProof(start, start_hash, tuple(digests), checkpoint)


def check_proof(proof: ChainProof, records: Mapping[int, Record]) -> list[str]:
    """What is wrong with a proof for ``records`` (empty when it holds). The checkpoint's signature is
    checked separately (``verify_checkpoint``)."""
    problems = []
    checkpoint = proof.checkpoint
    if len(proof.digests) != checkpoint.seq - proof.start_seq:
        problems.append(
            f"the proof lists {len(proof.digests)} digests from record {proof.start_seq + 1} to the checkpoint "
            f"at {checkpoint.seq}, which needs {checkpoint.seq - proof.start_seq}"
        )
        return problems
    for seq, record in sorted(records.items()):
        index = seq - proof.start_seq - 1
        if not 0 <= index < len(proof.digests):
            problems.append(f"record {seq} is outside the proof ({proof.start_seq + 1}..{checkpoint.seq})")
            continue
        try:
            digest = record_digest(record)
        except TypeError as error:
            problems.append(f"record {seq} is malformed: {error}")
            continue
        if digest != proof.digests[index]:
            problems.append(f"record {seq} is not the record the chain holds at {seq} (changed)")
    head = proof.start_hash
    try:
        for digest in proof.digests:
            head = chain_hash(head, digest)
    except ValueError:
        problems.append("the proof holds a digest that is not hex")
        return problems
    if head != checkpoint.head:
        problems.append(
            f"the chain from record {proof.start_seq + 1} does not reach the head signed at {checkpoint.seq}"
        )
    return problems
