"""Message logs of real signed envelopes for the audit tests, and the edits an attacker would make."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bus.audit import MessageLog
from bus.audit.record import HASHED_FIELDS, chain_hash, record_digest
from bus.audit.store import RECORD_COLUMNS, to_record
from bus.envelope import Header, MessageKind
from bus.envelope.codec import read_header
from bus.xml import parse_untrusted
from tests.helpers import envelopes
from tests.helpers.pki import CLIENT, PROVIDER, ThrowawayPki

MARKER = "Atlas Travaux SARL"
"""Text inside every test payload: it must never appear in a metadata-only log."""


@dataclass(frozen=True)
class Exchange:
    """One call seen by the client: its request out, then the provider's response in (or a rejection)."""

    mode: str = "full"
    rejected: bool = False


def request(home: ThrowawayPki) -> tuple[Header, bytes]:
    identity = home.identity(CLIENT)
    header = envelopes.header(identity)
    return header, envelopes.signed(identity, head=header)


def response(
    home: ThrowawayPki, to: Header, raw: bytes, kind: MessageKind = MessageKind.RESPONSE
) -> tuple[Header, bytes]:
    identity = home.identity(PROVIDER)
    header = envelopes.header(
        identity, kind=kind, correlation_id=to.id, request_hash=hashlib.sha256(raw).hexdigest()
    )
    return header, envelopes.signed(identity, head=header)


def header_of(raw: bytes) -> Header:
    return read_header(parse_untrusted(raw))


def record_exchange(log: MessageLog, home: ThrowawayPki, exchange: Exchange) -> tuple[Header, Header]:
    head, raw = request(home)
    log.record("out", raw, header=head, outcome="sent", mode=exchange.mode)
    answer, reply = response(home, head, raw)
    if exchange.rejected:
        forged = reply.replace(MARKER.encode(), b"Atlas Travaux SARX")
        log.record("in", forged, header=None, outcome="rejected", fault_code="Client.InvalidSignature")
    else:
        log.record("in", reply, header=answer, outcome="accepted", mode=exchange.mode)
    return head, answer


def write_log(
    path: Path, home: ThrowawayPki, exchanges: list[Exchange], *, checkpoint_every: int | None = 4
) -> list[tuple[Header, Header]]:
    with MessageLog.open(path, identity=home.identity(CLIENT), checkpoint_every=checkpoint_every) as log:
        return [record_exchange(log, home, exchange) for exchange in exchanges]


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def rows(conn: sqlite3.Connection) -> list[list[object]]:
    return [
        list(row) for row in conn.execute(f"SELECT {', '.join(RECORD_COLUMNS)} FROM records ORDER BY seq")
    ]


def rewrite(conn: sqlite3.Connection, records: list[list[object]], *, rehash: bool) -> None:
    """Replace every record; with ``rehash``, recompute every hash from the base as a careful attacker would."""
    base = conn.execute("SELECT value FROM meta WHERE key = 'base_hash'").fetchone()[0]
    conn.execute("BEGIN")
    conn.execute("DELETE FROM records")
    head = base
    placeholders = ", ".join("?" * len(RECORD_COLUMNS))
    for values in records:
        if rehash:
            head = chain_hash(head, record_digest(to_record(tuple(values))))
            values[-1] = head
        conn.execute(f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({placeholders})", values)
    conn.execute("COMMIT")


FIELD = {name: index for index, name in enumerate(HASHED_FIELDS)}
