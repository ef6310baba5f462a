"""Events for the submitting application, kept in an SQLite outbox until a sink has taken them.

Every state change writes its events in the same transaction as the change itself (a transactional
outbox), so none is lost when the process stops between the change and the delivery. A sink is
anything with ``deliver(recipient, event)``; ``Outbox.drain`` hands events over in order, marks each
delivered once the sink returns, and on a failure holds back that recipient's later events until the
next drain while other recipients' events go on (one unreachable application does not silence the
book for everyone). Delivery is at least once; ``eventId`` lets the receiver drop duplicates.

Recipients: folder events go to the folder's ``notifyService`` when the submitter gave one, else to
the submitter's participant id; a ``DelegationEvent`` goes to the substitute.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog

from teleservices.signature_book.history import EntryKind, HistoryEntry
from teleservices.signature_book.models import (
    DelegationEvent,
    EventKind,
    FolderEvent,
    FolderStatusName,
)
from teleservices.signature_book.workflow import FolderState, FolderStatus

if TYPE_CHECKING:
    from teleservices.signature_book.store import BookStore

log = structlog.get_logger(__name__)

BookEvent = FolderEvent | DelegationEvent


class EventSink(Protocol):
    """Where events go: the bus (``delivery.BusSink``), or a list in tests."""

    def deliver(self, recipient: str, event: BookEvent) -> None:
        """Deliver one event or raise; returning means the recipient has it."""
        ...


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event waiting in the outbox."""

    seq: int
    recipient: str
    event: BookEvent
    attempts: int


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


class Outbox:
    """Drains the store's outbox through a sink."""

    def __init__(self, store: BookStore) -> None:
        self._store = store

    def drain(self, sink: EventSink, *, limit: int = 100, exclude: Collection[str] = ()) -> int:
        """Deliver up to ``limit`` pending events in order, except to ``exclude``; return how many went.

        Events to one recipient keep their order: after a failure, its later events wait for the next drain.
        """
        count = 0
        failed: set[str] = set()
        for pending in self._store.pending_events(limit, exclude=exclude):
            if pending.recipient in failed:
                continue
            try:
                sink.deliver(pending.recipient, pending.event)
            except Exception as error:  # a sink failure leaves the event for the next drain
                self._store.mark_failed(pending.seq, f"{type(error).__name__}: {error}")
                log.warning(
                    "signature_book.event_not_delivered",
                    seq=pending.seq,
                    recipient=pending.recipient,
                    error=str(error),
                )
                failed.add(pending.recipient)
                continue
            self._store.mark_delivered(pending.seq)
            count += 1
        return count
