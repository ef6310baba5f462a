"""Check a tracker entry against the answering provider's message log.

The entry holds if the provider's log has an accepted incoming record with the entry's message id whose
bytes hash to the entry's request hash, from the entry's client, for its service and purpose; if the
record's chain and stored envelope check (``bus.audit.evidence``); and, when the envelope is stored,
if its signed ``dataSubject`` is the entry's subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lxml.etree as etree

from bus.audit import store
from bus.audit.errors import AuditError
from bus.audit.evidence import gather
from bus.audit.trustfiles import TrustFiles
from bus.envelope.codec import read_header
from bus.ids import ParticipantId
from bus.pki import BusHome
from teleservices.access_tracker.contract import AccessFields


@dataclass(frozen=True, slots=True)
class AccessCheck:
    """Whether an entry matches the provider's log, and why not."""

    ok: bool
    detail: str


def provider_log(home: BusHome, provider: str) -> Path:
    """Where ``provider`` keeps its message log in ``home``."""
    return home.participant_dir(ParticipantId.parse(provider)) / store.LOG_FILENAME


def check_access(entry: AccessFields, log_path: Path, trust: TrustFiles | None) -> AccessCheck:
    """Check ``entry`` against the message log at ``log_path`` (verifying envelopes when ``trust`` is given)."""
    if not log_path.is_file():
        return AccessCheck(False, f"no message log at {log_path}")
    conn = store.connect(log_path, readonly=True)
    try:
        meta = store.read_meta(conn, log_path)
        if meta.participant is not None and meta.participant != entry.provider:
            return AccessCheck(False, f"the log is {meta.participant}'s, not {entry.provider}'s")
        evidence = gather(conn, meta, entry.message_id, trust)
    except AuditError as error:
        return AccessCheck(False, str(error))
    finally:
        conn.close()
    found = [
        item
        for item in evidence.records
        if item.record.direction == "in" and item.record.message_id == entry.message_id
    ]
    accepted = [item for item in found if item.record.outcome == "accepted"]
    if not accepted:
        return AccessCheck(False, f"the provider's log has no accepted request {entry.message_id}")
    item = accepted[0]
    record = item.record
    mismatches = [
        name
        for name, logged, reported in (
            ("request hash", record.sha256, entry.request_hash),
            ("client", record.client, entry.client),
            ("service", record.service, entry.service),
            ("purpose", record.purpose, entry.purpose),
        )
        if logged != reported
    ]
    if record.raw is not None and not record.truncated:
        root = etree.fromstring(bytes(record.raw), etree.XMLParser(resolve_entities=False, no_network=True))
        if read_header(root).data_subject != entry.subject:
            mismatches.append("data subject")
    if mismatches:
        return AccessCheck(False, "the log differs in " + ", ".join(mismatches))
    if not evidence.ok:
        return AccessCheck(
            False, "the log record does not verify: " + (item.detail or "; ".join(evidence.chain_problems))
        )
    return AccessCheck(True, f"matches record {record.seq} of {entry.provider}'s message log")
