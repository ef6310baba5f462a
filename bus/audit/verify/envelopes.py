"""Stored envelopes of a log, verified at their recorded time and compared with their records.

In batches (``EnvelopeVerifier.verify_many``), inline or in worker processes (``jobs`` > 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from bus.audit.record import Direction, HeaderOrigin, Outcome, Record, header_fields
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify.report import Problem, ProblemKind, VerificationReport
from bus.envelope import EnvelopeVerifier, VerifiedEnvelope
from bus.envelope.model import parse_timestamp
from bus.faults import Fault


def header_differences(verified: VerifiedEnvelope, record: Record) -> list[str]:
    """Header fields whose recorded value is not the verified envelope's."""
    return [name for name, value in header_fields(verified.header).items() if getattr(record, name) != value]


# Envelopes verified together (``EnvelopeVerifier.verify_many``): a few dozen keep the XML and crypto
# libraries in the CPU caches; many more spill the trees out of them.
VERIFY_BATCH = 32


def check_envelope(
    verifier: EnvelopeVerifier, record: Record, participant: str
) -> tuple[Problem | None, VerifiedEnvelope | None]:
    """Verify a full-mode record's envelope at its recorded time and compare it with the record."""
    return check_envelopes(verifier, [record], participant)[0]


def check_envelopes(
    verifier: EnvelopeVerifier, records: Sequence[Record], participant: str
) -> list[tuple[Problem | None, VerifiedEnvelope | None]]:
    """``check_envelope`` for several records, their envelopes verified in batches of ``VERIFY_BATCH``."""
    results: list[VerifiedEnvelope | Fault] = []
    for start in range(0, len(records), VERIFY_BATCH):
        items = []
        for record in records[start : start + VERIFY_BATCH]:
            assert record.raw is not None
            items.append((bytes(record.raw), parse_timestamp(record.recorded_at)))
        results.extend(verifier.verify_many(items))
    return [_compare(result, record, participant) for record, result in zip(records, results, strict=True)]


def _compare(
    result: VerifiedEnvelope | Fault, record: Record, participant: str
) -> tuple[Problem | None, VerifiedEnvelope | None]:
    if isinstance(result, Fault):
        return Problem(
            ProblemKind.ENVELOPE,
            f"record {record.seq}: the stored envelope does not verify at its recorded time "
            f"{record.recorded_at}: {result.code}: {result.reason}",
            record.seq,
        ), None
    verified = result
    found = []
    if record.header_origin == HeaderOrigin.ENVELOPE:
        differences = header_differences(verified, record)
        if differences:
            found.append(
                f"recorded header field(s) {', '.join(differences)} differ from the verified envelope"
            )
    if record.direction == Direction.OUT and str(verified.signer.participant) != participant:
        found.append(
            f"an outgoing envelope signed by {verified.signer.participant}, not by the log's participant {participant}"
        )
    if record.outcome == Outcome.FAULT and str(verified.header.kind) != "fault":
        found.append(f"outcome fault but the envelope is a {verified.header.kind}")
    if found:
        return Problem(
            ProblemKind.INCONSISTENT, f"record {record.seq}: {'; '.join(found)}", record.seq
        ), verified
    return None, verified


_worker_verifier: EnvelopeVerifier | None = None


def _init_worker(trust: TrustFiles) -> None:
    global _worker_verifier
    _worker_verifier = EnvelopeVerifier(trust.store())


def _check_batch(records: list[Record], participant: str) -> list[Problem]:
    assert _worker_verifier is not None
    found = check_envelopes(_worker_verifier, records, participant)
    return [problem for problem, _ in found if problem is not None]


class EnvelopeChecks:
    """Envelope verification, inline or spread over worker processes (``jobs`` > 1)."""

    BATCH = 256  # records per job sent to a worker process

    def __init__(self, trust: TrustFiles, participant: str, jobs: int, report: VerificationReport) -> None:
        self.participant = participant
        self.report = report
        self.verifier = EnvelopeVerifier(trust.store())
        parallel = jobs > 1 and report.signatures_checked
        self.pool = (
            ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(trust,)) if parallel else None
        )
        self.jobs = jobs
        self.batch: list[Record] = []
        self.pending: list[Future[list[Problem]]] = []

    def add(self, record: Record) -> None:
        if not self.report.signatures_checked:
            self.report.signatures_skipped += 1
            return
        self.report.envelopes_verified += 1
        self.batch.append(record)
        if len(self.batch) >= (self.BATCH if self.pool is not None else VERIFY_BATCH):
            self._flush()

    def _flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        if self.pool is None:
            found = check_envelopes(self.verifier, batch, self.participant)
            self.report.problems.extend(problem for problem, _ in found if problem is not None)
            return
        self.pending.append(self.pool.submit(_check_batch, batch, self.participant))
        while len(self.pending) > 4 * self.jobs:
            self.report.problems.extend(self.pending.pop(0).result())

    def finish(self) -> None:
        try:
            self._flush()
            for future in self.pending:
                self.report.problems.extend(future.result())
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
