"""The evidence about one message: its records in the log, each with its verification status, and the
chain proof from them up to a signed checkpoint. ``govbus audit show`` prints it; ``export`` bundles it."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from enum import StrEnum

from bus.audit import store
from bus.audit.checkpoint import verify_checkpoint
from bus.audit.errors import AuditError
from bus.audit.proof import ChainProof, NotCovered, build_proof, check_proof
from bus.audit.query import conversation
from bus.audit.record import UNVERIFIED_OUTCOMES, LogMode, Record, chain_hash, record_digest
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify import check_envelope
from bus.envelope import EnvelopeVerifier
from bus.faults import Fault


class EnvelopeStatus(StrEnum):
    """What can be said of a record's envelope."""

    VALID = "valid"  # the stored envelope verifies at its recorded time and matches the record
    INVALID = "invalid"  # it does not, or it contradicts the record
    AS_RECEIVED = "as-received"  # a rejected or failed message: kept as received, not expected to verify
    METADATA_ONLY = "metadata-only"  # no bytes stored: the signature cannot be re-checked
    NOT_CHECKED = "not-checked"  # no trust store was given


@dataclass(frozen=True, slots=True)
class RecordEvidence:
    """One record and what verifying it found."""

    record: Record
    hash_ok: bool
    bytes_ok: bool | None
    envelope: EnvelopeStatus
    detail: str
    signer_der: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.hash_ok and self.bytes_ok is not False and self.envelope is not EnvelopeStatus.INVALID


@dataclass(slots=True)
class Evidence:
    """A message's records, their status, and the proof that ties them to a signed checkpoint."""

    message_id: str
    meta: store.LogMeta
    records: list[RecordEvidence]
    proof: ChainProof | None = None
    chain_problems: list[str] = field(default_factory=list)
    checkpoint_signer: str | None = None
    not_covered: str | None = None

    @property
    def ok(self) -> bool:
        """Nothing found wrong (records not yet covered by a checkpoint are not wrong, only unproven)."""
        return not self.chain_problems and all(r.ok for r in self.records)


def gather(
    conn: sqlite3.Connection, meta: store.LogMeta, message_id: str, trust: TrustFiles | None
) -> Evidence:
    """Collect and check the evidence about ``message_id``; ``AuditError`` when the log has no record of it."""
    records = conversation(conn, message_id)
    if not records:
        raise AuditError(f"no record of message {message_id} in this log")
    verifier = EnvelopeVerifier(trust.store()) if trust is not None else None
    evidence = Evidence(message_id, meta, [_examine(conn, meta, r, verifier) for r in records])
    try:
        evidence.proof = build_proof(conn, meta, [r.seq for r in records])
    except NotCovered as error:
        evidence.not_covered = str(error)
        return evidence
    except AuditError as error:
        evidence.chain_problems.append(str(error))
        return evidence
    evidence.chain_problems.extend(check_proof(evidence.proof, {r.seq: r for r in records}))
    if trust is not None:
        try:
            signer = verify_checkpoint(evidence.proof.checkpoint, trust.store())
            evidence.checkpoint_signer = str(signer.participant)
        except Fault as fault:
            evidence.chain_problems.append(f"the checkpoint is not valid: {fault.code}: {fault.reason}")
    return evidence


def _examine(
    conn: sqlite3.Connection, meta: store.LogMeta, record: Record, verifier: EnvelopeVerifier | None
) -> RecordEvidence:
    previous: str | None
    if record.seq == meta.base_seq + 1:
        previous = meta.base_hash
    else:
        row = conn.execute("SELECT hash FROM records WHERE seq = ?", (record.seq - 1,)).fetchone()
        previous = row[0] if row is not None else None
    try:
        hash_ok = previous is not None and chain_hash(previous, record_digest(record)) == record.hash
    except (TypeError, ValueError):
        hash_ok = False
    raw = bytes(record.raw) if record.raw is not None else None
    bytes_ok = None if raw is None else hashlib.sha256(raw).hexdigest() == record.stored_sha256
    if record.mode == LogMode.METADATA or raw is None:
        return RecordEvidence(
            record,
            hash_ok,
            bytes_ok,
            EnvelopeStatus.METADATA_ONLY,
            "metadata mode: the signature cannot be re-checked",
        )
    if record.outcome in UNVERIFIED_OUTCOMES:
        kept = (
            f"{record.stored_size} of {record.size} bytes kept"
            if record.truncated
            else f"{record.size} bytes"
        )
        return RecordEvidence(
            record,
            hash_ok,
            bytes_ok,
            EnvelopeStatus.AS_RECEIVED,
            f"{record.outcome} with {record.fault_code}; {kept}",
        )
    if verifier is None:
        return RecordEvidence(
            record, hash_ok, bytes_ok, EnvelopeStatus.NOT_CHECKED, "no CA certificate given"
        )
    problem, verified = check_envelope(verifier, record, meta.participant)
    signer_der = verified.signer.der if verified is not None else None
    if problem is not None:
        return RecordEvidence(record, hash_ok, bytes_ok, EnvelopeStatus.INVALID, problem.message, signer_der)
    assert verified is not None
    return RecordEvidence(
        record,
        hash_ok,
        bytes_ok,
        EnvelopeStatus.VALID,
        f"signed by {verified.signer.participant}",
        signer_der,
    )
