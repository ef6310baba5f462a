"""Log verifications run in the background, so a large log never blocks the web server's event loop.

Invariants: at most one running verification per log file (asking again returns the running one) and
at most ``limit`` running at once (more are refused with ``Busy``); each job belongs to the
administration that started it, and only that administration's auditors see it. Finished jobs are kept
(the last ``keep``) so their reports can be read after the progress page.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import structlog

from bus.audit import VerificationReport, verify_log
from bus.audit.checkpoint import Checkpoint
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify import count_records

log = structlog.get_logger("govbus.web.audit")


class Busy(Exception):
    """Too many verifications are running; the auditor is asked to try again shortly."""


@dataclass
class Job:
    id: str
    administration: str
    participant: str
    label: str
    paths: tuple[Path, ...]
    started_by: str
    total: int = 0
    done: int = 0
    state: str = "running"
    """``running``, ``done`` or ``failed`` (the verifier itself failed: not a finding about the log)."""
    report: VerificationReport | None = None
    error: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    @property
    def percent(self) -> int:
        if self.state != "running":
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
        }


class Verifications:
    def __init__(self, limit: int = 2, keep: int = 50) -> None:
        self.limit = limit
        self.keep = keep
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(
        self,
        *,
        administration: str,
        participant: str,
        label: str,
        paths: Sequence[Path],
        trust: TrustFiles,
        anchors: Sequence[Checkpoint],
        include_archives: bool,
        started_by: str,
        discard: bool = False,
    ) -> Job:
        """Start verifying ``paths`` in a thread, or return the verification of that log already running.

        ``discard``: the files are a copy made for this verification, deleted once it is done."""
        key = tuple(p.resolve() for p in paths)
        with self._lock:
            for job in self._jobs.values():
                if job.state == "running" and tuple(p.resolve() for p in job.paths) == key:
                    return job
            if sum(job.state == "running" for job in self._jobs.values()) >= self.limit:
                raise Busy()
            job = Job(secrets.token_urlsafe(12), administration, participant, label, tuple(paths), started_by)
            self._jobs[job.id] = job
            self._forget_old()
        thread = threading.Thread(
            target=self._run,
            args=(job, trust, list(anchors), include_archives, discard),
            name=f"govbus-audit-verify-{job.id}",
            daemon=True,
        )
        thread.start()
        return job

    def get(self, job_id: str, administration: str) -> Job | None:
        """The job, only for the administration that started it."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.administration == administration else None

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state != "running"]
        for job in sorted(finished, key=lambda j: j.started_at)[: max(0, len(finished) - self.keep)]:
            del self._jobs[job.id]

    def _run(
        self, job: Job, trust: TrustFiles, anchors: list[Checkpoint], include_archives: bool, discard: bool
    ) -> None:
        def advance(count: int) -> None:
            job.done += count

        try:
            job.total = count_records(job.paths, include_archives=include_archives)
            report = verify_log(
                job.paths, trust, anchors=anchors, include_archives=include_archives, progress=advance
            )
        except Exception as error:  # the verifier failing is reported on the page, never a traceback
            log.exception("web.audit_verification_failed", job=job.id, participant=job.participant)
            job.error = f"{type(error).__name__}: {error}"
            job.state = "failed"
        else:
            job.report = report
            job.state = "done"
            log.info(
                "web.audit_verified",
                job=job.id,
                participant=job.participant,
                log=job.label,
                result=report.result,
                records=report.records,
                agent=job.started_by,
            )
        finally:
            if discard:
                for path in job.paths:
                    path.unlink(missing_ok=True)
            job.finished_at = datetime.now(UTC)
