"""The receiving side of a book's events, for the submitting application (and a substitute's).

    receiver = EventReceiver(app, on_folder=folder_changed, on_delegation=delegated_to_me)

serves ``signature-book.event`` (when ``on_folder`` is given; ``contract`` for a ``notifyService`` of
another code) and ``signature-book.delegation-event`` (when ``on_delegation`` is given) on ``app``, and
answers each event with a signed ``EventAck``. The book delivers at least once: a lost acknowledgement
brings the same event again under a new message id, so an event already handled is acknowledged without
calling the function again (by ``eventId``, kept in ``signature_book_events.sqlite`` in the participant's
directory, a per-node resource).
A function that raises leaves the event unhandled: the caller gets a fault and the book delivers it
again later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sdk import App, Context, Environment, RequestReply, ServiceError, Store
from sdk.store import SchemaHistory, scalar
from teleservices.signature_book.contract import DELEGATION_EVENT, FOLDER_EVENT
from teleservices.signature_book.models import DelegationEvent, EventAck, FolderEvent

EVENTS_FILE = "signature_book_events.sqlite"

FolderHandler = Callable[[FolderEvent, Context], None]
DelegationHandler = Callable[[DelegationEvent, Context], None]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class _SeenEvents(Store):
    """Event ids being handled or handled (several workers may share the file)."""

    FILE_NAME = EVENTS_FILE
    MIGRATIONS = SchemaHistory("signature book events", MIGRATIONS_DIR / "signature_book_events")
    SCHEMA_VERSION = "0001"
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY, state TEXT NOT NULL, book TEXT NOT NULL)"
    )

    def claim(self, event_id: str, book: str) -> str | None:
        """``None`` when the event is new (and now claimed), else its state: ``done`` or ``running``."""
        with self.transaction() as db:
            inserted = db.execute(
                "INSERT INTO seen (event_id, state, book) VALUES (?, 'running', ?) ON CONFLICT DO NOTHING",
                (event_id, book),
            ).rowcount
            if inserted:
                return None
            return str(scalar(db, "SELECT state FROM seen WHERE event_id = ?", (event_id,)))

    def finish(self, event_id: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE seen SET state = 'done' WHERE event_id = ?", (event_id,))

    def abandon(self, event_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM seen WHERE event_id = ? AND state = 'running'", (event_id,))


def _open_seen(env: Environment) -> Iterator[_SeenEvents]:
    seen = _SeenEvents.open(env.storage)
    yield seen
    seen.close()


class EventReceiver:
    """Serves a book's event services on ``app``; each event reaches its function once."""

    def __init__(
        self,
        app: App,
        *,
        on_folder: FolderHandler | None = None,
        on_delegation: DelegationHandler | None = None,
        contract: RequestReply[FolderEvent, EventAck] = FOLDER_EVENT,
    ) -> None:
        if on_folder is None and on_delegation is None:
            raise ValueError("give on_folder, on_delegation or both")
        self.on_folder = on_folder
        self.on_delegation = on_delegation
        self.seen = app.resource(_open_seen)
        if on_folder is not None:
            app.implement(contract)(self.folder_event)
        if on_delegation is not None:
            app.implement(DELEGATION_EVENT)(self.delegation_event)

    def folder_event(self, event: FolderEvent, ctx: Context) -> EventAck:
        assert self.on_folder is not None
        return self._once(event, ctx, self.on_folder)

    def delegation_event(self, event: DelegationEvent, ctx: Context) -> EventAck:
        assert self.on_delegation is not None
        return self._once(event, ctx, self.on_delegation)

    def _once(self, event: Any, ctx: Context, function: Callable[[Any, Context], None]) -> EventAck:
        seen = ctx.use(self.seen)
        state = seen.claim(event.event_id, str(ctx.client))
        if state == "running":
            raise ServiceError(
                f"event {event.event_id} is being handled", code="SignatureBook.EventInProgress"
            )
        if state is None:
            try:
                function(event, ctx)
            except BaseException:
                seen.abandon(event.event_id)
                raise
            seen.finish(event.event_id)
        return EventAck(event_id=event.event_id)


__all__ = ["EventReceiver"]
