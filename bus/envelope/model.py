"""The envelope header as a value: what a message says about itself (see schemas/envelope.xsd)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bus.ids import ParticipantId, ServiceId

NAMESPACE = "urn:govbus:envelope:1"
PROTOCOL_VERSION = "1.0"
DEFAULT_TTL = timedelta(seconds=60)


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
