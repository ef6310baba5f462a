"""Signed heads against the recomputed chain: the log's own checkpoints, and the checkpoints an audit
participant anchored. The first contradiction is reported; later ones are counted as its consequences."""

from __future__ import annotations

from collections.abc import Iterable

from bus.audit import store
from bus.audit.checkpoint import Checkpoint, verify_checkpoint
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify.chain import Chain
from bus.audit.verify.report import Problem, ProblemKind, VerificationReport
from bus.faults import Fault


def distinct(checkpoints: Iterable[Checkpoint]) -> list[Checkpoint]:
    seen: dict[tuple[int, str, str, bytes], Checkpoint] = {}
    for checkpoint in checkpoints:
        seen.setdefault((checkpoint.seq, checkpoint.head, checkpoint.time, checkpoint.signature), checkpoint)
    return sorted(seen.values(), key=lambda c: (c.seq, c.time))


_CHAIN_KINDS = frozenset(
    {ProblemKind.MISSING, ProblemKind.ORDER, ProblemKind.MODIFIED, ProblemKind.UNREADABLE}
)


def _diverged_at(report: VerificationReport) -> int | None:
    """The first record from which the recomputed chain is already known to differ from the original."""
    seqs = [p.seq for p in report.problems if p.kind in _CHAIN_KINDS and p.seq is not None]
    return min(seqs) if seqs else None


def check_checkpoints(
    checkpoints: list[Checkpoint],
    chain: Chain,
    trust: TrustFiles,
    meta: store.LogMeta,
    report: VerificationReport,
) -> None:
    trust_store = trust.store()
    report.checkpoints = len(checkpoints)
    matcher = Matcher(chain, report, ProblemKind.REHASHED, "signed checkpoint")
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


class Matcher:
    """Compares signed heads with the recomputed chain; reports the first contradiction, counts the rest."""

    def __init__(self, chain: Chain, report: VerificationReport, kind: ProblemKind, what: str) -> None:
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


def check_anchors(
    anchors: list[Checkpoint], chain: Chain, trust: TrustFiles, report: VerificationReport
) -> None:
    trust_store = trust.store()
    matcher = Matcher(chain, report, ProblemKind.ANCHOR, "checkpoint anchored with the audit participant")
    for anchor in distinct(anchors):
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
