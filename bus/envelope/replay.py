"""Replay protection: a message id is accepted once while the message could still be valid."""

from __future__ import annotations

import heapq
import threading
import time
from datetime import datetime
from typing import Protocol


class ReplayCache(Protocol):
    """Remembers message ids until their expiry; shared by every verifier of a participant."""

    def check_and_remember(self, message_id: str, *, until: datetime) -> bool:
        """Record ``message_id`` until ``until``; return False when it was already recorded (a replay)."""
        ...


class MemoryReplayCache:
    """A thread-safe in-process replay cache that forgets ids once they have expired."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._expiry: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def check_and_remember(self, message_id: str, *, until: datetime) -> bool:
        with self._lock:
            self._forget_expired()
            if message_id in self._ids:
                return False
            self._ids.add(message_id)
            heapq.heappush(self._expiry, (until.timestamp(), message_id))
            return True

    def _forget_expired(self) -> None:
        moment = time.time()
        expiry = self._expiry
        while expiry and expiry[0][0] < moment:
            self._ids.discard(heapq.heappop(expiry)[1])

    def __len__(self) -> int:
        return len(self._ids)
