"""Live events for open pages: bus threads publish, each server-sent-events stream consumes its own queue.

``publish`` is called from the DepositorSystem's handler threads; it hands the event to every stream of
that account through its event loop (``call_soon_threadsafe``) and never blocks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from teleservices.mail_office import Deposit, StatusChange


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A step of one of the account's letters (``letter`` is its public id)."""

    letter: str
    office: str
    change: StatusChange


@dataclass(frozen=True, slots=True)
class ReplyEvent:
    """An office's reply addressed to the account."""

    office: str
    reply: Deposit


Event = StatusEvent | ReplyEvent
QUEUE_LIMIT = 100


class EventHub:
    def __init__(self) -> None:
        self._streams: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def subscribe(self, owner_id: int) -> Iterator[asyncio.Queue[Event]]:
        """A queue receiving the account's events while the block runs (call from the event loop)."""
        entry = (asyncio.get_running_loop(), asyncio.Queue[Event](QUEUE_LIMIT))
        with self._lock:
            self._streams.setdefault(owner_id, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                streams = self._streams.get(owner_id, set())
                streams.discard(entry)
                if not streams:
                    self._streams.pop(owner_id, None)

    def publish(self, owner_id: int, event: Event) -> None:
        """Hand ``event`` to every open stream of the account (a full queue drops it: the page reloads)."""
        with self._lock:
            streams = list(self._streams.get(owner_id, ()))
        for loop, queue in streams:
            try:
                loop.call_soon_threadsafe(_offer, queue, event)
            except RuntimeError:  # the loop closed meanwhile
                continue

    def listeners(self, owner_id: int) -> int:
        with self._lock:
            return len(self._streams.get(owner_id, ()))


def _offer(queue: asyncio.Queue[Event], event: Event) -> None:
    if not queue.full():
        queue.put_nowait(event)
