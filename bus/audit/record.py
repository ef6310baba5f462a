"""One log record, its canonical encoding and the hash chain over records.

Every record is hashed in two steps, so a chain proof can carry a record's 32-byte digest instead of its
content::

    digest(k) = SHA-256( "govbus-audit-record/1" LF || F(field 1) || ... || F(field 22) )
    hash(k)   = SHA-256( "govbus-audit-chain/1" LF || hash(k-1) || digest(k) )     (raw 32-byte values)

``hash(base)`` is the log's base hash: 32 zero bytes for a new log, or the hash of the last archived
record. The fields, in ``HASHED_FIELDS`` order, are encoded as::

    F(null)  = 0x00
    F(int n) = 0x01 || n as 8-byte big-endian two's complement
    F(text)  = 0x02 || length of its UTF-8 bytes as 4-byte big-endian || its UTF-8 bytes

Stored envelope bytes are covered through ``stored_sha256`` (and the original bytes through ``sha256``).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bus.envelope import Header
from bus.envelope.model import format_timestamp

RECORD_DOMAIN = b"govbus-audit-record/1\n"
CHAIN_DOMAIN = b"govbus-audit-chain/1\n"
GENESIS_HASH = "00" * 32
RAW_CAP = 64 * 1024
REASON_CAP = 1024


class Direction(StrEnum):
    """Whether the participant received or sent the message."""

    IN = "in"
    OUT = "out"


class Outcome(StrEnum):
    """What became of the message at this participant."""

    ACCEPTED = "accepted"  # in: verified and handed to the handler or caller
    DUPLICATE = "duplicate"  # in: verified redelivery of a message already handled
    DUPLICATE_IN_FLIGHT = "duplicate-in-flight"  # in: verified redelivery while the first is handled
    REFUSED = "refused"  # in: verified, then refused (rights, recipient, id conflict)
    REJECTED = "rejected"  # in: failed verification; the bytes as received, capped
    FAULT = "fault"  # in: a verified fault message; out: a signed fault message sent
    SENT = "sent"  # out: signed and handed to the broker
    FAILED = "failed"  # out: signed but could not be sent


class LogMode(StrEnum):
    """What a record keeps: the envelope bytes (``full``) or only metadata and digests (``metadata``)."""

    FULL = "full"
    METADATA = "metadata"


class HeaderOrigin(StrEnum):
    """Where a record's header fields come from."""

    ENVELOPE = "envelope"  # the verified header (in) or the header signed (out)
    UNVERIFIED = "unverified"  # read by the log from bytes that failed verification: claims only
    NONE = "none"  # nothing readable


OUTCOMES_BY_DIRECTION: dict[Direction, frozenset[Outcome]] = {
    Direction.IN: frozenset(
        {
            Outcome.ACCEPTED,
            Outcome.DUPLICATE,
            Outcome.DUPLICATE_IN_FLIGHT,
            Outcome.REFUSED,
            Outcome.REJECTED,
            Outcome.FAULT,
        }
    ),
    Direction.OUT: frozenset({Outcome.SENT, Outcome.FAULT, Outcome.FAILED}),
}
NEEDS_FAULT_CODE = frozenset({Outcome.REFUSED, Outcome.REJECTED, Outcome.FAULT, Outcome.FAILED})
UNVERIFIED_OUTCOMES = frozenset({Outcome.REJECTED, Outcome.FAILED})
"""Outcomes whose envelope is not expected to verify: its bytes are checked only to be consistently recorded."""


@dataclass(frozen=True, slots=True)
class Record:
    """A record as stored. Text fields keep the exact stored text; ``raw`` and ``hash`` are not hashed."""

    seq: int
    recorded_at: str
    direction: str
    outcome: str
    fault_code: str | None
    fault_reason: str | None
    mode: str
    header_origin: str
    message_id: str | None
    kind: str | None
    client: str | None
    service: str | None
    user_id: str | None
    purpose: str | None
    issued: str | None
    expires: str | None
    correlation_id: str | None
    request_hash: str | None
    size: int
    sha256: str
    stored_size: int
    stored_sha256: str | None
    raw: bytes | None = None
    hash: str | None = None

    @property
    def truncated(self) -> bool:
        """Whether only the first ``stored_size`` of ``size`` bytes were kept."""
        return self.stored_sha256 is not None and self.stored_size < self.size

    def as_json(self) -> dict[str, Any]:
        """The hashed fields and the hash, as a JSON object (no bytes)."""
        data: dict[str, Any] = {name: getattr(self, name) for name in HASHED_FIELDS}
        data["hash"] = self.hash
        return data


HASHED_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Record) if f.name not in ("raw", "hash"))
INT_FIELDS = frozenset({"seq", "size", "stored_size"})
_IS_INT = tuple(name in INT_FIELDS for name in HASHED_FIELDS)


_PACK_INT = struct.Struct(">q").pack
_PACK_LEN = struct.Struct(">I").pack
_NULL = b"\x00"
_INT = b"\x01"
_TEXT = b"\x02"


def encode_fields(values: Sequence[object]) -> bytes:
    """The canonical encoding of a record's hashed field values, given in ``HASHED_FIELDS`` order."""
    if len(values) != len(HASHED_FIELDS):
        raise TypeError(f"a record has {len(HASHED_FIELDS)} hashed fields, not {len(values)}")
    parts = [RECORD_DOMAIN]
    append = parts.append
    for integer, value in zip(_IS_INT, values, strict=True):
        if value is None:
            append(_NULL)
        elif integer:
            if type(value) is not int:
                raise TypeError(f"record field must be an integer, not {value!r}")
            append(_INT + _PACK_INT(value))
        elif type(value) is str:
            data = value.encode("utf-8")
            append(_TEXT + _PACK_LEN(len(data)) + data)
        else:
            raise TypeError(f"record field must be text or null, not {value!r}")
    return b"".join(parts)


def field_values(record: Record | Mapping[str, object]) -> tuple[object, ...]:
    """A record's hashed field values in ``HASHED_FIELDS`` order."""
    if isinstance(record, Record):
        return tuple(getattr(record, name) for name in HASHED_FIELDS)
    return tuple(record.get(name) for name in HASHED_FIELDS)


def encode_record(record: Record | Mapping[str, object]) -> bytes:
    """The canonical encoding of a record's hashed fields (see the module docstring)."""
    return encode_fields(field_values(record))


def record_digest(record: Record | Mapping[str, object]) -> str:
    """SHA-256 (hex) of the canonical encoding: what a chain proof carries for a record it omits."""
    return hashlib.sha256(encode_record(record)).hexdigest()


def chain_hash(previous: str, digest: str) -> str:
    """The chain hash (hex) of a record whose digest is ``digest``, after a record whose hash is ``previous``."""
    return hashlib.sha256(CHAIN_DOMAIN + bytes.fromhex(previous) + bytes.fromhex(digest)).hexdigest()


HEADER_FIELDS = (
    "message_id",
    "kind",
    "client",
    "service",
    "user_id",
    "purpose",
    "issued",
    "expires",
    "correlation_id",
    "request_hash",
)


def header_fields(header: Header) -> dict[str, str | None]:
    """A header's record fields, as the record stores them."""
    return {
        "message_id": header.id,
        "kind": str(header.kind),
        "client": str(header.client),
        "service": str(header.service),
        "user_id": header.user_id,
        "purpose": header.purpose,
        "issued": timestamp(header.issued),
        "expires": timestamp(header.expires),
        "correlation_id": header.correlation_id,
        "request_hash": header.request_hash,
    }


def timestamp(moment: datetime) -> str:
    """``format_timestamp``, faster for the UTC datetimes headers hold."""
    if moment.tzinfo is UTC:
        return moment.isoformat(timespec="milliseconds")[:-6] + "Z"
    return format_timestamp(moment)
