"""Events for the submitting application, kept in the book's outbox until a sink has taken them.

Every state change writes its events in the same transaction as the change itself (the SDK's
transactional outbox, ``sdk.outbox``), so none is lost when the process stops between the change and
the delivery. A sink is anything with ``deliver(recipient, event)``; the SDK's ``OutboxPump`` hands
events over in order, marks each delivered once the sink returns, and on a failure holds back that
recipient's later events while other recipients' events go on (one unreachable application does not
silence the book for everyone). Delivery is at least once; ``eventId`` lets the receiver drop duplicates.

Recipients: folder events go to the folder's ``notifyService`` when the submitter gave one, else to
the submitter's participant id; a ``DelegationEvent`` goes to the substitute.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Protocol

import pydantic
import structlog

from sdk.outbox import OutboxMessage
from teleservices.signature_book.errors import StorageCorrupted
from teleservices.signature_book.history import EntryKind, HistoryEntry
from teleservices.signature_book.models import (
    DelegationEvent,
    EventKind,
    FolderEvent,
    FolderStatusName,
)
from teleservices.signature_book.workflow import FolderState, FolderStatus

log = structlog.get_logger(__name__)

BookEvent = FolderEvent | DelegationEvent


class EventSink(Protocol):
    """Where events go: the bus (``delivery.BusSink``), or a list in tests."""

    def deliver(self, recipient: str, event: BookEvent) -> None:
        """Deliver one event or raise; returning means the recipient has it."""
        ...


def event_of(message: OutboxMessage) -> BookEvent:
    """The event an outbox message carries; ``StorageCorrupted`` when it no longer reads."""
    model: type[BookEvent] = DelegationEvent if message.kind == "delegation" else FolderEvent
    try:
        return model.from_xml(message.body)
    except (pydantic.ValidationError, ValueError) as error:
        raise StorageCorrupted(f"outbox event {message.seq} is unreadable: {error}") from None


def sender(sink: EventSink) -> Callable[[OutboxMessage], None]:
    """Sends outbox messages through ``sink`` (what an ``OutboxPump`` of the book calls)."""

    def send(message: OutboxMessage) -> None:
        sink.deliver(message.recipient, event_of(message))

    return send


class MemorySink:
    """Keeps delivered events in a list (local use and tests)."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, BookEvent]] = []

    def deliver(self, recipient: str, event: BookEvent) -> None:
        self.delivered.append((recipient, event))

    def events(self, kind: EventKind | None = None) -> list[FolderEvent]:
        return [
            e for _, e in self.delivered if isinstance(e, FolderEvent) and (kind is None or e.kind == kind)
        ]


def recipient_of(state: FolderState) -> str:
    """Who hears about a folder: its notify service, else its submitter."""
    return state.definition.notify_service or str(state.definition.submitter)


_KIND = {
    EntryKind.SUBMITTED: EventKind.SUBMITTED,
    EntryKind.APPROVED: EventKind.APPROVED,
    EntryKind.SIGNED: EventKind.SIGNED,
    EntryKind.REJECTED: EventKind.REJECTED,
    EntryKind.UNDONE: EventKind.UNDONE,
}


def folder_events(state: FolderState, entry: HistoryEntry) -> list[FolderEvent]:
    """The events of one recorded entry, given the state it led to."""
    common = {
        "folder_id": state.id,
        "seq": entry.seq,
        "status": FolderStatusName(str(state.status)),
        "current_step": state.current,
        "step": entry.step,
        "actor": str(entry.actor),
        "on_behalf_of": str(entry.on_behalf_of) if entry.on_behalf_of else None,
        "at": entry.at,
    }
    events = [
        FolderEvent(event_id=str(uuid.uuid4()), kind=_KIND[entry.kind], reason=entry.reason, **common)  # type: ignore[arg-type]
    ]
    if state.status is FolderStatus.COMPLETED:
        events.append(FolderEvent(event_id=str(uuid.uuid4()), kind=EventKind.COMPLETED, **common))  # type: ignore[arg-type]
    return events
