"""Verify a message log (with its sealed archives): chain, checkpoints, stored envelopes, anchors.

What is checked, per record in sequence order: the sequence is contiguous; the record matches its hash
(recomputed from the previous record's hash); stored bytes match their digest; the fields agree with each
other (direction and outcome, fault codes, modes, truncation); in ``full`` mode the stored envelope
verifies with the bus trust store at the record's own time (``EnvelopeVerifier.verify(raw, at=...)``,
no replay rule) and its verified header is the one recorded. Then every checkpoint's signature and signer,
and that its head equals the head recomputed from the records (so re-hashed edits are caught), and every
anchored checkpoint likewise. What cannot be checked (records after the last checkpoint, metadata-only
envelopes, missing archives) is counted and reported, never passed off as verified.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bus.audit import store
from bus.audit.checkpoint import Checkpoint, verify_checkpoint
from bus.audit.errors import AuditError
from bus.audit.record import (
    CHAIN_DOMAIN,
    HASHED_FIELDS,
    NEEDS_FAULT_CODE,
    OUTCOMES_BY_DIRECTION,
    UNVERIFIED_OUTCOMES,
    Direction,
    HeaderOrigin,
    LogMode,
    Outcome,
    Record,
    encode_fields,
    header_fields,
)
from bus.audit.trustfiles import TrustFiles
from bus.envelope import EnvelopeVerifier, VerifiedEnvelope
from bus.envelope.model import parse_timestamp
from bus.faults import Fault

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_INCOMPLETE = 4
PROGRESS_STEP = 1000
_FAULT_CODE = re.compile(r"(Client|Server)\.[A-Za-z]{1,64}")


class ProblemKind(StrEnum):
    """What broke."""

    UNREADABLE = "unreadable"  # not a readable govbus log file
    MISSING = "missing"  # a gap in the sequence: records were deleted
    ORDER = "order"  # a sequence number repeats or goes backwards
    MODIFIED = "modified"  # a record does not match its hash: changed, inserted or moved
    PAYLOAD = "payload"  # stored bytes do not match their recorded digest
    REHASHED = "rehashed"  # a signed checkpoint contradicts the recomputed chain
    CHECKPOINT = "checkpoint"  # a checkpoint's signature or signer is not valid
    TRUNCATED = "truncated"  # a checkpoint or anchor is beyond the end of the log
    LINK = "link"  # an archive or base link is missing, unsigned or wrong
    ENVELOPE = "envelope"  # a stored envelope does not verify
    INCONSISTENT = "inconsistent"  # fields contradict each other or the stored envelope
    ANCHOR = "anchor"  # an anchored checkpoint contradicts the log
    TIME = "time"  # recording times go backwards


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding; ``seq`` names the record (or the checkpoint's sequence) when there is one."""

    kind: ProblemKind
    message: str
    seq: int | None = None
    file: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "seq": self.seq, "file": self.file, "message": self.message}


@dataclass(slots=True)
class VerificationReport:
    """Everything ``verify_log`` found and everything it could not check."""

    participant: str | None = None
    log_id: str | None = None
    files: list[str] = field(default_factory=list)
    first_seq: int | None = None
    last_seq: int | None = None
    records: int = 0
    checkpoints: int = 0
    checkpoints_valid: int = 0
    covered_seq: int | None = None
    envelopes_verified: int = 0
    unverified_checked: int = 0
    truncated: int = 0
    metadata_only: int = 0
    anchors_checked: int = 0
    revocation_checked: bool = False
    signatures_checked: bool = True
    signatures_skipped: int = 0
    missing_archives: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        """The problem with the lowest sequence number (problems without one come last)."""
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.seq is None, p.seq or 0))

    @property
    def uncovered(self) -> int:
        """Records after the last checkpoint that verified and matched: not yet protected by a signature."""
        if self.last_seq is None:
            return 0
        return self.last_seq - (
            self.covered_seq if self.covered_seq is not None else (self.first_seq or 1) - 1
        )

    @property
    def exit_code(self) -> int:
        if self.problems:
            return EXIT_INVALID
        return EXIT_INCOMPLETE if self.missing_archives else EXIT_OK

    def as_json(self) -> dict[str, Any]:
        first = self.first_problem
        return {
            "result": "ok" if self.ok else "invalid",
            "exit_code": self.exit_code,
            "participant": self.participant,
            "log": self.log_id,
            "files": self.files,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "checkpoints_valid": self.checkpoints_valid,
            "covered_up_to": self.covered_seq,
            "uncovered_records": self.uncovered,
            "envelopes_verified": self.envelopes_verified,
            "unverified_outcomes_checked": self.unverified_checked,
            "truncated_records": self.truncated,
            "metadata_only_records": self.metadata_only,
            "anchors_checked": self.anchors_checked,
            "revocation_checked": self.revocation_checked,
            "signatures_checked": self.signatures_checked,
            "signatures_skipped": self.signatures_skipped,
            "missing_archives": self.missing_archives,
            "warnings": self.warnings,
            "first_problem": first.as_json() if first is not None else None,
            "problems": [p.as_json() for p in sorted(self.problems, key=_problem_order)],
        }


def _problem_order(problem: Problem) -> tuple[bool, int]:
    return (problem.seq is None, problem.seq or 0)


@dataclass(slots=True)
class _Segment:
    path: Path
    conn: sqlite3.Connection
    meta: store.LogMeta
    count: int
    links: list[store.ArchiveLink]


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


class _EnvelopeChecks:
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


def verify_log(
    paths: Sequence[Path],
    trust: TrustFiles,
    *,
    anchors: Iterable[Checkpoint] = (),
    include_archives: bool = True,
    signatures: bool = True,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> VerificationReport:
    """Verify one log made of ``paths`` (a live log and/or sealed archives, in any order).

    With ``include_archives`` the archives a live log lists are added from its directory; those not
    found are reported in ``missing_archives``. ``anchors`` are checkpoints an audit participant
    holds; those of this log must match it. ``signatures=False`` skips the stored envelopes' signatures
    (a quick integrity check: chain, checkpoints, anchors). ``jobs`` > 1 verifies envelope signatures in
    that many worker processes. ``progress`` is called with the number of records done since the last call.
    """
    report = VerificationReport(revocation_checked=trust.checks_revocation, signatures_checked=signatures)
    segments = _open_segments(paths, include_archives, report)
    try:
        if segments:
            _verify_segments(segments, trust, list(anchors), jobs, progress, report)
    finally:
        for segment in segments:
            segment.conn.close()
    return report


def count_records(paths: Sequence[Path], *, include_archives: bool = True) -> int:
    """How many records ``verify_log`` will read (for a progress bar)."""
    report = VerificationReport()
    segments = _open_segments(paths, include_archives, report)
    try:
        return sum(segment.count for segment in segments)
    finally:
        for segment in segments:
            segment.conn.close()


def _open_segments(
    paths: Sequence[Path], include_archives: bool, report: VerificationReport
) -> list[_Segment]:
    segments: list[_Segment] = []
    missing: list[tuple[Path, store.ArchiveLink]] = []
    seen: set[Path] = set()
    queue = [Path(p) for p in paths]
    while queue:
        path = queue.pop(0)
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        try:
            conn = store.connect(path, readonly=True)
        except AuditError as error:
            report.problems.append(Problem(ProblemKind.UNREADABLE, str(error), file=str(path)))
            continue
        try:
            meta = store.read_meta(conn, path)
            count = conn.execute("SELECT count(*) FROM records").fetchone()[0]
            links = store.archive_links(conn) if not meta.sealed else []
        except (AuditError, sqlite3.DatabaseError) as error:
            conn.close()
            message = str(error) if isinstance(error, AuditError) else f"{path}: {error}"
            report.problems.append(Problem(ProblemKind.UNREADABLE, message, file=str(path)))
            continue
        segments.append(_Segment(path, conn, meta, count, links))
        report.files.append(str(path))
        if include_archives:
            for link in links:
                candidate = path.parent / Path(link.file).name
                if candidate.resolve() in seen:
                    continue
                if candidate.is_file():
                    queue.append(candidate)
                else:
                    missing.append((candidate, link))
    sealed = {(s.meta.log_id, s.meta.base_seq + 1, s.meta.end_seq) for s in segments if s.meta.sealed}
    for candidate, link in missing:
        if not any(
            (log_id, link.first_seq, link.last_seq) in sealed for log_id in {s.meta.log_id for s in segments}
        ):
            report.missing_archives.append(f"{candidate} (records {link.first_seq}..{link.last_seq})")
    segments.sort(key=lambda s: (s.meta.base_seq, not s.meta.sealed))
    return segments


@dataclass(slots=True)
class _Chain:
    """The walk over records: the recomputed chain and the stored one."""

    seq: int
    computed: bytes
    stored: str | None
    last_time: str | None
    wanted: set[int]
    heads: dict[int, str] = field(default_factory=dict)
    times: dict[int, str] = field(default_factory=dict)


def _verify_segments(
    segments: list[_Segment],
    trust: TrustFiles,
    anchors: list[Checkpoint],
    jobs: int,
    progress: Callable[[int], None] | None,
    report: VerificationReport,
) -> None:
    first = segments[0]
    report.participant = first.meta.participant
    report.log_id = first.meta.log_id
    for segment in segments[1:]:
        if (segment.meta.log_id, segment.meta.participant) != (first.meta.log_id, first.meta.participant):
            report.problems.append(
                Problem(
                    ProblemKind.LINK,
                    f"{segment.path} belongs to log {segment.meta.log_id} of {segment.meta.participant}, "
                    f"not to log {first.meta.log_id} of {first.meta.participant}",
                    file=str(segment.path),
                )
            )
            return
    all_checkpoints = _distinct(cp for segment in segments for cp in _checkpoints_of(segment, report))
    own_anchors = [
        a for a in anchors if (a.participant, a.log_id) == (first.meta.participant, first.meta.log_id)
    ]
    others = sorted(
        {a.log_id for a in anchors if a.participant == first.meta.participant} - {first.meta.log_id}
    )
    if others:
        report.warnings.append(
            f"the anchors hold checkpoints of {len(others)} other log(s) of {first.meta.participant} "
            f"({', '.join(others)}): this log is not the only one it has kept"
        )
    wanted = {cp.seq for cp in all_checkpoints} | {a.seq for a in own_anchors}
    chain = _Chain(
        seq=first.meta.base_seq,
        computed=bytes.fromhex(first.meta.base_hash),
        stored=first.meta.base_hash,
        last_time=first.meta.base_time,
        wanted=wanted,
    )
    chain.heads[first.meta.base_seq] = first.meta.base_hash
    report.first_seq = first.meta.base_seq + 1
    envelopes = _EnvelopeChecks(trust, first.meta.participant, jobs, report)
    try:
        for index, segment in enumerate(segments):
            if index > 0:
                _check_link(segment, chain, report)
            _walk(segment, chain, envelopes, report, progress)
            if segment.meta.sealed:
                _check_seal(segment, chain, report)
    finally:
        envelopes.finish()
    report.last_seq = chain.seq
    if first.meta.base_seq > 0:
        _check_base(segments, all_checkpoints, report)
    _check_checkpoints(all_checkpoints, chain, trust, first.meta, report)
    _check_anchors(own_anchors, chain, trust, report)


def _checkpoints_of(segment: _Segment, report: VerificationReport) -> list[Checkpoint]:
    try:
        return store.checkpoints(segment.conn)
    except sqlite3.DatabaseError as error:
        report.problems.append(
            Problem(
                ProblemKind.UNREADABLE,
                f"{segment.path}: checkpoints unreadable ({error})",
                file=str(segment.path),
            )
        )
        return []


def _distinct(checkpoints: Iterable[Checkpoint]) -> list[Checkpoint]:
    seen: dict[tuple[int, str, str, bytes], Checkpoint] = {}
    for checkpoint in checkpoints:
        seen.setdefault((checkpoint.seq, checkpoint.head, checkpoint.time, checkpoint.signature), checkpoint)
    return sorted(seen.values(), key=lambda c: (c.seq, c.time))


def _check_link(segment: _Segment, chain: _Chain, report: VerificationReport) -> None:
    meta = segment.meta
    if meta.base_seq != chain.seq or meta.base_hash != chain.computed.hex():
        report.problems.append(
            Problem(
                ProblemKind.LINK,
                f"{segment.path} starts after record {meta.base_seq} with hash {meta.base_hash[:16]}..., but the "
                f"files before it end at record {chain.seq} with hash {chain.computed.hex()[:16]}...",
                meta.base_seq + 1,
                str(segment.path),
            )
        )
        chain.seq = meta.base_seq
        chain.computed = bytes.fromhex(meta.base_hash)
        chain.stored = meta.base_hash


def _check_seal(segment: _Segment, chain: _Chain, report: VerificationReport) -> None:
    meta = segment.meta
    if meta.end_seq != chain.seq or meta.end_hash != chain.computed.hex():
        report.problems.append(
            Problem(
                ProblemKind.LINK,
                f"sealed archive {segment.path} says it ends at record {meta.end_seq}, but its records end at "
                f"{chain.seq} with another hash",
                chain.seq,
                str(segment.path),
            )
        )


def _check_base(segments: list[_Segment], checkpoints: list[Checkpoint], report: VerificationReport) -> None:
    """A log that starts after record 0 must hold a valid checkpoint of its base (the archive link)."""
    first = segments[0]
    base = first.meta.base_seq
    if not any(cp.seq == base and cp.head == first.meta.base_hash for cp in checkpoints):
        report.problems.append(
            Problem(
                ProblemKind.LINK,
                f"{first.path} starts after record {base}, and no signed checkpoint proves where it links",
                base + 1,
                str(first.path),
            )
        )
    links = sorted({link for segment in segments for link in segment.links}, key=lambda link: link.first_seq)
    archived = [link for link in links if link.last_seq <= base]
    if archived and archived[0].first_seq == 1 and archived[-1].last_seq == base:
        if not report.missing_archives:
            report.warnings.append(f"records 1..{base} are archived and were not verified here")
    else:
        report.problems.append(
            Problem(
                ProblemKind.MISSING,
                f"records 1..{base} are not in the files given and no archive of them is recorded",
                1,
                str(first.path),
            )
        )


def _walk(
    segment: _Segment,
    chain: _Chain,
    envelopes: _EnvelopeChecks,
    report: VerificationReport,
    progress: Callable[[int], None] | None,
) -> None:
    done = 0
    try:
        cursor = segment.conn.execute(store.SELECT_RECORDS + " ORDER BY seq, rowid")
        while rows := cursor.fetchmany(512):
            for row in rows:
                _check_row(row, segment, chain, envelopes, report)
            done += len(rows)
            if progress is not None and done >= PROGRESS_STEP:
                progress(done)
                done = 0
    except sqlite3.DatabaseError as error:
        report.problems.append(
            Problem(
                ProblemKind.UNREADABLE,
                f"{segment.path}: reading stopped after record {chain.seq}: {error}",
                chain.seq + 1,
                str(segment.path),
            )
        )
    if progress is not None and done:
        progress(done)


def _check_row(
    row: tuple[Any, ...],
    segment: _Segment,
    chain: _Chain,
    envelopes: _EnvelopeChecks,
    report: VerificationReport,
) -> None:
    record = store.to_record(row)
    seq = record.seq
    where = str(segment.path)
    problems = report.problems
    report.records += 1
    if type(seq) is not int:
        problems.append(Problem(ProblemKind.INCONSISTENT, f"a record has sequence {seq!r}", None, where))
        return
    gap = False
    if seq != chain.seq + 1:
        gap = True
        if seq > chain.seq + 1:
            missing = f"{chain.seq + 1}" if seq == chain.seq + 2 else f"{chain.seq + 1}..{seq - 1}"
            problems.append(
                Problem(ProblemKind.MISSING, f"records {missing} are missing (deleted)", chain.seq + 1, where)
            )
        else:
            problems.append(
                Problem(ProblemKind.ORDER, f"record {seq} comes after record {chain.seq}", seq, where)
            )
    try:
        digest = hashlib.sha256(encode_fields(row[: len(HASHED_FIELDS)])).digest()
    except TypeError as error:
        problems.append(
            Problem(ProblemKind.MODIFIED, f"record {seq} has a malformed field: {error}", seq, where)
        )
        chain.seq = seq
        chain.stored = record.hash if isinstance(record.hash, str) else None
        return
    chain.computed = hashlib.sha256(CHAIN_DOMAIN + chain.computed + digest).digest()
    if chain.stored is not None and not gap:
        try:
            local = hashlib.sha256(CHAIN_DOMAIN + bytes.fromhex(chain.stored) + digest).hexdigest()
        except ValueError:
            local = None
        if local != record.hash:
            problems.append(
                Problem(
                    ProblemKind.MODIFIED,
                    f"record {seq} does not match its hash: its fields were changed, or it was inserted "
                    "or moved here",
                    seq,
                    where,
                )
            )
    chain.seq = seq
    chain.stored = record.hash if isinstance(record.hash, str) else None
    if seq in chain.wanted:
        chain.heads[seq] = chain.computed.hex()
        chain.times[seq] = record.recorded_at
    if (
        chain.last_time is not None
        and isinstance(record.recorded_at, str)
        and record.recorded_at < chain.last_time
    ):
        problems.append(
            Problem(
                ProblemKind.TIME,
                f"record {seq} was recorded at {record.recorded_at}, before the previous record ({chain.last_time})",
                seq,
                where,
            )
        )
    chain.last_time = record.recorded_at
    if _check_fields(record, where, report):
        envelopes.add(record)


def _check_fields(record: Record, where: str, report: VerificationReport) -> bool:
    """Check a record's fields and stored bytes; True when its envelope should be verified."""
    seq = record.seq
    found: list[str] = []
    payload_broken = False
    try:
        direction = Direction(record.direction)
        outcome = Outcome(record.outcome)
        mode = LogMode(record.mode)
        origin = HeaderOrigin(record.header_origin)
    except ValueError as error:
        report.problems.append(Problem(ProblemKind.INCONSISTENT, f"record {seq}: {error}", seq, where))
        return False
    if outcome not in OUTCOMES_BY_DIRECTION[direction]:
        found.append(f"outcome {outcome} is not possible for direction {direction}")
    if outcome in NEEDS_FAULT_CODE and not record.fault_code:
        found.append(f"a {outcome} record has no fault code")
    if record.fault_code is not None and not _FAULT_CODE.fullmatch(record.fault_code):
        found.append(f"fault code {record.fault_code!r} is not a govbus fault code")
    if outcome is not Outcome.REJECTED and origin is not HeaderOrigin.ENVELOPE:
        found.append(f"a {outcome} record must carry the envelope's header, not a {origin} one")
    raw = record.raw
    if mode is LogMode.METADATA:
        report.metadata_only += 1
        if raw is not None or record.stored_size != 0 or record.stored_sha256 is not None:
            found.append("a metadata-mode record stores envelope bytes")
    else:
        if raw is None or record.stored_sha256 is None:
            found.append("a full-mode record has no stored bytes")
        else:
            raw = bytes(raw)
            if len(raw) != record.stored_size or hashlib.sha256(raw).hexdigest() != record.stored_sha256:
                payload_broken = True
                report.problems.append(
                    Problem(
                        ProblemKind.PAYLOAD,
                        f"record {seq}: the stored envelope bytes do not match their recorded digest (changed)",
                        seq,
                        where,
                    )
                )
            if record.stored_size > record.size:
                found.append("more bytes are stored than were received")
            elif record.stored_size < record.size:
                report.truncated += 1
                if outcome not in UNVERIFIED_OUTCOMES:
                    found.append(
                        f"only {record.stored_size} of {record.size} bytes kept of a {outcome} message"
                    )
            elif record.stored_sha256 != record.sha256:
                found.append("the complete stored bytes have another digest than the message")
    if found:
        report.problems.append(
            Problem(ProblemKind.INCONSISTENT, f"record {seq}: {'; '.join(found)}", seq, where)
        )
        return False
    if mode is LogMode.METADATA or payload_broken:
        return False
    if outcome in UNVERIFIED_OUTCOMES:
        report.unverified_checked += 1
        return False
    return True


_CHAIN_KINDS = frozenset(
    {ProblemKind.MISSING, ProblemKind.ORDER, ProblemKind.MODIFIED, ProblemKind.UNREADABLE}
)


def _diverged_at(report: VerificationReport) -> int | None:
    """The first record from which the recomputed chain is already known to differ from the original."""
    seqs = [p.seq for p in report.problems if p.kind in _CHAIN_KINDS and p.seq is not None]
    return min(seqs) if seqs else None


def _check_checkpoints(
    checkpoints: list[Checkpoint],
    chain: _Chain,
    trust: TrustFiles,
    meta: store.LogMeta,
    report: VerificationReport,
) -> None:
    trust_store = trust.store()
    report.checkpoints = len(checkpoints)
    matcher = _Matcher(chain, report, ProblemKind.REHASHED, "signed checkpoint")
    for checkpoint in checkpoints:
        seq = checkpoint.seq
        if (checkpoint.participant, checkpoint.log_id) != (meta.participant, meta.log_id):
            report.problems.append(
                Problem(
                    ProblemKind.CHECKPOINT,
                    f"checkpoint at {seq} is about log {checkpoint.log_id} of {checkpoint.participant}, "
                    f"not this log ({meta.log_id} of {meta.participant})",
                    seq,
                )
            )
            continue
        try:
            verify_checkpoint(checkpoint, trust_store)
        except Fault as fault:
            report.problems.append(
                Problem(
                    ProblemKind.CHECKPOINT,
                    f"checkpoint at {seq} ({checkpoint.time}) is not valid: {fault.code}: {fault.reason}",
                    seq,
                )
            )
            continue
        if not matcher.matches(checkpoint):
            continue
        report.checkpoints_valid += 1
        recorded = chain.times.get(seq)
        if recorded is not None and checkpoint.time < recorded:
            report.problems.append(
                Problem(
                    ProblemKind.TIME,
                    f"checkpoint at {seq} is dated {checkpoint.time}, before its record ({recorded})",
                    seq,
                )
            )
    matcher.summarise()
    report.covered_seq = matcher.good_seq


class _Matcher:
    """Compares signed heads with the recomputed chain; reports the first contradiction, counts the rest."""

    def __init__(self, chain: _Chain, report: VerificationReport, kind: ProblemKind, what: str) -> None:
        self.chain = chain
        self.report = report
        self.kind = kind
        self.what = what
        self.good_seq: int | None = None
        self.diverged = _diverged_at(report)
        self.consequences = 0
        self.beyond: list[Checkpoint] = []

    def matches(self, checkpoint: Checkpoint) -> bool:
        seq, chain, report = checkpoint.seq, self.chain, self.report
        if seq > chain.seq:
            self.beyond.append(checkpoint)
            return False
        computed = chain.heads.get(seq)
        if computed is None:
            report.warnings.append(
                f"a {self.what} at record {seq} precedes the records given and was not compared"
            )
            return False
        if computed == checkpoint.head:
            self.good_seq = seq if self.good_seq is None else max(self.good_seq, seq)
            return True
        if self.diverged is not None and self.diverged <= seq:
            self.consequences += 1
            return False
        since = f"after record {self.good_seq}" if self.good_seq is not None else "from the start"
        report.problems.append(
            Problem(
                self.kind,
                f"the {self.what} at record {seq} ({checkpoint.time}) signs head {checkpoint.head[:16]}..., but "
                f"the records give {computed[:16]}...: records {since} up to {seq} were changed and re-hashed, "
                "inserted or removed",
                seq,
            )
        )
        self.diverged = (self.good_seq or 0) + 1
        return False

    def summarise(self) -> None:
        if self.beyond:
            last = max(self.beyond, key=lambda c: (c.seq, c.time))
            end = self.chain.seq
            self.report.problems.append(
                Problem(
                    ProblemKind.TRUNCATED,
                    f"the log ends at record {end}, but a {self.what} at record {last.seq} ({last.time}) exists: "
                    f"records {end + 1}..{last.seq} were removed",
                    end + 1,
                )
            )
        if self.consequences:
            self.report.warnings.append(
                f"{self.consequences} later {self.what}(s) no longer match, as a consequence of the first break"
            )


def _check_anchors(
    anchors: list[Checkpoint], chain: _Chain, trust: TrustFiles, report: VerificationReport
) -> None:
    trust_store = trust.store()
    matcher = _Matcher(chain, report, ProblemKind.ANCHOR, "checkpoint anchored with the audit participant")
    for anchor in _distinct(anchors):
        try:
            verify_checkpoint(anchor, trust_store)
        except Fault as fault:
            report.warnings.append(
                f"an anchored checkpoint at {anchor.seq} is not valid and was ignored: {fault.reason}"
            )
            continue
        report.anchors_checked += 1
        matcher.matches(anchor)
    matcher.summarise()
