"""The tamper-evident message log every participant keeps, and the tools auditors verify it with.

- ``record``: one record, its canonical encoding and the hash chain.
- ``checkpoint``: signed checkpoints of the chain head.
- ``log``: ``MessageLog``, the thread-safe writer (SQLite, WAL, group commit).
- ``anchor``: checkpoints as bus payloads, and the audit participant's ``AnchorStore``.
- ``verify``: ``verify_log``, checking chain, checkpoints, envelopes and anchors.
- ``proof``, ``bundle``: chain proofs and offline evidence bundles.
- ``archive``: retention, moving old records into sealed archive files.
- ``query``: search and message conversations.

The formats are specified in docs/audit-log.md.
"""

from bus.audit.checkpoint import Checkpoint, verify_checkpoint
from bus.audit.errors import AuditError, LogClosed, LogDamaged
from bus.audit.log import MessageLog, RecordRef
from bus.audit.record import Direction, LogMode, Outcome, Record

__all__ = [
    "AuditError",
    "Checkpoint",
    "Direction",
    "LogClosed",
    "LogDamaged",
    "LogMode",
    "MessageLog",
    "Outcome",
    "Record",
    "RecordRef",
    "verify_checkpoint",
]
