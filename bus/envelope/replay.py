"""Replay protection: a message id is accepted once while the message could still be valid."""

from __future__ import annotations

import heapq
import threading
from datetime import datetime
from typing import Protocol

from bus.envelope.model import utc_now


class ReplayCache(Protocol):
    """Remembers message ids until their expiry; shared by every verifier of a participant."""

    def check_and_remember(self, message_id: str, *, until: datetime) -> bool:
        """Record ``message_id`` until ``until``; return False when it was already recorded (a replay)."""
        ...


class MemoryReplayCache:
    """A thread-safe in-process replay cache that forgets ids once they have expired."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}
        self._expiry: list[tuple[datetime, str]] = []
        self._lock = threading.Lock()

    def check_and_remember(self, message_id: str, *, until: datetime) -> bool:
        with self._lock:
            self._forget_expired()
            if message_id in self._until:
                return False
            self._until[message_id] = until
            heapq.heappush(self._expiry, (until, message_id))
            return True

    def _forget_expired(self) -> None:
        moment = utc_now()
        while self._expiry and self._expiry[0][0] < moment:
            _, message_id = heapq.heappop(self._expiry)
            self._until.pop(message_id, None)

    def __len__(self) -> int:
        return len(self._until)
