"""The envelope header as a value: what a message says about itself (see schemas/envelope.xsd)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId

NAMESPACE = "urn:govbus:envelope:1"
PROTOCOL_VERSION = "1.0"
DEFAULT_TTL = timedelta(seconds=60)
MAX_LIFETIME = timedelta(days=30)
"""The longest lifetime (expires - issued) a verifier accepts by default, and a signer writes."""
MAX_TEXT = 256
"""userId and purpose: 1 to 256 characters (schemas/envelope.xsd, ShortTextType)."""

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class MessageKind(StrEnum):
    """What a message is for."""

    REQUEST = "request"
    RESPONSE = "response"
    NOTIFICATION = "notification"
    RECEIPT = "receipt"
    FAULT = "fault"


def utc_now() -> datetime:
    """Now, in UTC, truncated to the millisecond precision of the wire format."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def format_timestamp(moment: datetime) -> str:
    """``2026-11-21T10:15:30.123Z``: UTC with milliseconds (truncated, not rounded)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def parse_timestamp(text: str) -> datetime:
    """Inverse of ``format_timestamp``."""
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Header:
    """The signed header of an envelope. Field order and names follow the XSD."""

    id: str
    kind: MessageKind
    client: ParticipantId
    service: ServiceId
    issued: datetime
    expires: datetime
    user_id: str | None = None
    purpose: str | None = None
    data_subject: str | None = None
    correlation_id: str | None = None
    request_hash: str | None = None
    protocol_version: str = field(default=PROTOCOL_VERSION)

    @classmethod
    def new(
        cls,
        kind: MessageKind,
        client: ParticipantId,
        service: ServiceId,
        *,
        ttl: timedelta = DEFAULT_TTL,
        message_id: str | None = None,
        user_id: str | None = None,
        purpose: str | None = None,
        data_subject: str | None = None,
        correlation_id: str | None = None,
        request_hash: str | None = None,
        now: datetime | None = None,
    ) -> Header:
        """A header for a new message, issued now and expiring after ``ttl``."""
        issued = now or utc_now()
        return cls(
            id=message_id or str(uuid.uuid4()),
            kind=kind,
            client=client,
            service=service,
            issued=issued,
            expires=issued + ttl,
            user_id=user_id,
            purpose=purpose,
            data_subject=data_subject,
            correlation_id=correlation_id,
            request_hash=request_hash,
        )

    def as_json(self) -> dict[str, Any]:
        """The header as a JSON object whose keys are the XML element names."""
        data: dict[str, Any] = {
            "id": self.id,
            "kind": str(self.kind),
            "client": str(self.client),
            "service": str(self.service),
            "userId": self.user_id,
            "purpose": self.purpose,
            "dataSubject": self.data_subject,
            "issued": format_timestamp(self.issued),
            "expires": format_timestamp(self.expires),
            "correlationId": self.correlation_id,
            "requestHash": self.request_hash,
            "protocolVersion": self.protocol_version,
        }
        return {key: value for key, value in data.items() if value is not None}


def check_header(header: Header, *, max_lifetime: timedelta = MAX_LIFETIME) -> None:
    """Raise the ``Fault`` a verifier would refuse ``header`` with; signers call it before signing.

    ``Client.SchemaViolation`` for an id or correlationId that is not a lower-case UUID, a userId or
    purpose that is empty or over 256 characters, a requestHash that is not SHA-256 hex, another
    protocol version; ``Client.Expired`` for a lifetime that is negative or over ``max_lifetime``.
    """
    for name, value in (("id", header.id), ("correlationId", header.correlation_id)):
        if value is not None and not (isinstance(value, str) and _UUID.fullmatch(value)):
            raise Fault(FaultCode.SCHEMA_VIOLATION, f"{name} {str(value)[:80]!r} is not a lower-case UUID")
    for name, text in (("userId", header.user_id), ("purpose", header.purpose)):
        if text is not None and not (isinstance(text, str) and 1 <= len(text) <= MAX_TEXT):
            raise Fault(FaultCode.SCHEMA_VIOLATION, f"{name} must be 1 to {MAX_TEXT} characters")
    if header.request_hash is not None and not _SHA256_HEX.fullmatch(header.request_hash):
        raise Fault(FaultCode.SCHEMA_VIOLATION, "requestHash must be 64 lower-case hexadecimal digits")
    if header.protocol_version != PROTOCOL_VERSION:
        raise Fault(FaultCode.SCHEMA_VIOLATION, f"protocol version must be {PROTOCOL_VERSION}")
    if header.expires < header.issued:
        raise Fault(FaultCode.EXPIRED, "the message would expire before it was issued")
    if header.expires - header.issued > max_lifetime:
        raise Fault(FaultCode.EXPIRED, f"a lifetime over {max_lifetime} is refused by verifiers")
