"""What a log verification found, and what it could not check: ``Problem`` and ``VerificationReport``.

A report says verified, invalid (problems found) or incomplete (everything present verified, archives
missing); the command line turns that into its exit code (``bus.cli.audit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
    def incomplete(self) -> bool:
        """Nothing found wrong, but linked archive files were missing, so not everything was verified."""
        return self.ok and bool(self.missing_archives)

    @property
    def result(self) -> str:
        """``ok``, ``incomplete`` or ``invalid``."""
        return "invalid" if not self.ok else "incomplete" if self.incomplete else "ok"

    def as_json(self) -> dict[str, Any]:
        first = self.first_problem
        return {
            "result": "ok" if self.ok else "invalid",
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
            "problems": [p.as_json() for p in sorted(self.problems, key=problem_order)],
        }


def problem_order(problem: Problem) -> tuple[bool, int]:
    return (problem.seq is None, problem.seq or 0)
