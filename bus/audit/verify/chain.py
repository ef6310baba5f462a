"""The walk over a log's records: files (segments) in order, the hash chain recomputed, each record's
fields and stored bytes checked, and the links between a live log and its sealed archives."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bus.audit import store
from bus.audit.checkpoint import Checkpoint
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
)
from bus.audit.verify.envelopes import EnvelopeChecks
from bus.audit.verify.report import Problem, ProblemKind, VerificationReport

PROGRESS_STEP = 1000
_FAULT_CODE = re.compile(r"(Client|Server)\.[A-Za-z]{1,64}")


@dataclass(slots=True)
class Segment:
    path: Path
    conn: sqlite3.Connection
    meta: store.LogMeta
    count: int
    links: list[store.ArchiveLink]


def count_records(paths: Sequence[Path], *, include_archives: bool = True) -> int:
    """How many records ``verify_log`` will read (for a progress bar)."""
    report = VerificationReport()
    segments = open_segments(paths, include_archives, report)
    try:
        return sum(segment.count for segment in segments)
    finally:
        for segment in segments:
            segment.conn.close()


def open_segments(paths: Sequence[Path], include_archives: bool, report: VerificationReport) -> list[Segment]:
    segments: list[Segment] = []
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
        segments.append(Segment(path, conn, meta, count, links))
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
class Chain:
    """The walk over records: the recomputed chain and the stored one."""

    seq: int
    computed: bytes
    stored: str | None
    last_time: str | None
    wanted: set[int]
    heads: dict[int, str] = field(default_factory=dict)
    times: dict[int, str] = field(default_factory=dict)


def checkpoints_of(segment: Segment, report: VerificationReport) -> list[Checkpoint]:
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


def check_link(segment: Segment, chain: Chain, report: VerificationReport) -> None:
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


def check_seal(segment: Segment, chain: Chain, report: VerificationReport) -> None:
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


def check_base(segments: list[Segment], checkpoints: list[Checkpoint], report: VerificationReport) -> None:
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


def walk(
    segment: Segment,
    chain: Chain,
    envelopes: EnvelopeChecks,
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
    segment: Segment,
    chain: Chain,
    envelopes: EnvelopeChecks,
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
