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

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from bus.audit.checkpoint import Checkpoint
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify.anchors import check_anchors, check_checkpoints, distinct
from bus.audit.verify.chain import (
    Chain,
    Segment,
    check_base,
    check_link,
    check_seal,
    checkpoints_of,
    count_records,
    open_segments,
    walk,
)
from bus.audit.verify.envelopes import (
    VERIFY_BATCH,
    EnvelopeChecks,
    check_envelope,
    check_envelopes,
    header_differences,
)
from bus.audit.verify.report import Problem, ProblemKind, VerificationReport


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
    segments = open_segments(paths, include_archives, report)
    try:
        if segments:
            _verify_segments(segments, trust, list(anchors), jobs, progress, report)
    finally:
        for segment in segments:
            segment.conn.close()
    return report


def _verify_segments(
    segments: list[Segment],
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
    all_checkpoints = distinct(cp for segment in segments for cp in checkpoints_of(segment, report))
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
    chain = Chain(
        seq=first.meta.base_seq,
        computed=bytes.fromhex(first.meta.base_hash),
        stored=first.meta.base_hash,
        last_time=first.meta.base_time,
        wanted=wanted,
    )
    chain.heads[first.meta.base_seq] = first.meta.base_hash
    report.first_seq = first.meta.base_seq + 1
    envelopes = EnvelopeChecks(trust, first.meta.participant, jobs, report)
    try:
        for index, segment in enumerate(segments):
            if index > 0:
                check_link(segment, chain, report)
            walk(segment, chain, envelopes, report, progress)
            if segment.meta.sealed:
                check_seal(segment, chain, report)
    finally:
        envelopes.finish()
    report.last_seq = chain.seq
    if first.meta.base_seq > 0:
        check_base(segments, all_checkpoints, report)
    check_checkpoints(all_checkpoints, chain, trust, first.meta, report)
    check_anchors(own_anchors, chain, trust, report)


__all__ = [
    "VERIFY_BATCH",
    "Problem",
    "ProblemKind",
    "VerificationReport",
    "check_envelope",
    "check_envelopes",
    "count_records",
    "header_differences",
    "verify_log",
]
