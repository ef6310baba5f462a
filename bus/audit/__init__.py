"""The tamper-evident message log every participant keeps, and the tools auditors verify it with.

- ``record``: one record, its canonical encoding and the hash chain.
- ``checkpoint``: signed checkpoints of the chain head.
- ``log``: ``MessageLog``, the thread-safe writer (SQLite, WAL, group commit).
- ``anchor``: checkpoints as bus payloads, and the audit participant's ``AnchorStore``.
- ``verify``: ``verify_log``, checking chain, checkpoints, envelopes and anchors.
- ``proof``, ``evidence``, ``bundle``: chain proofs, a message's evidence, offline evidence bundles.
- ``archive``: retention, moving old records into sealed archive files.
- ``query``: search and message conversations.

The formats are specified in docs/audit-log.md.
"""

from bus.audit.anchor import AnchorStore, checkpoint_from_payload, checkpoint_payload
from bus.audit.checkpoint import Checkpoint, verify_checkpoint
from bus.audit.errors import AuditError, LogClosed, LogDamaged
from bus.audit.log import MessageLog, RecordRef
from bus.audit.record import Direction, LogMode, Outcome, Record
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify import Problem, ProblemKind, VerificationReport, verify_log

__all__ = [
    "AnchorStore",
    "AuditError",
    "Checkpoint",
    "Direction",
    "LogClosed",
    "LogDamaged",
    "LogMode",
    "MessageLog",
    "Outcome",
    "Problem",
    "ProblemKind",
    "Record",
    "RecordRef",
    "TrustFiles",
    "VerificationReport",
    "checkpoint_from_payload",
    "checkpoint_payload",
    "verify_checkpoint",
    "verify_log",
]
