"""Per-recipient exponential backoff for a participant's outbox: a failing recipient waits, others go on."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from sdk.errors import CallFailed

log = structlog.get_logger(__name__)


class RecipientBackoff:
    """After each failure a recipient is held for ``base * 2**failures`` seconds (at most ``maximum``);
    a success clears it. Not thread-safe: one outbox pump owns it."""

    def __init__(
        self,
        *,
        base: float,
        maximum: float,
        event: str,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.maximum = maximum
        self.event = event
        self._monotonic = monotonic
        self._held: dict[str, tuple[float, int]] = {}

    def ready(self, recipient: str) -> bool:
        held = self._held.get(recipient)
        return held is None or held[0] <= self._monotonic()

    def held(self) -> list[str]:
        """Recipients still waiting out their backoff."""
        now = self._monotonic()
        return [recipient for recipient, (until, _) in self._held.items() if until > now]

    def failed(self, recipient: str, error: Exception) -> float:
        """Hold ``recipient`` longer; log the failure's fault or service code; return the delay."""
        _, failures = self._held.get(recipient, (0.0, 0))
        delay = float(min(self.base * 2**failures, self.maximum))
        self._held[recipient] = (self._monotonic() + delay, failures + 1)
        code = (
            (error.service_code or str(error.code)) if isinstance(error, CallFailed) else type(error).__name__
        )
        log.info(self.event, recipient=recipient, seconds=delay, error=code)
        return delay

    def succeeded(self, recipient: str) -> None:
        self._held.pop(recipient, None)
