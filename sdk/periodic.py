"""A participant's background task (outbox drains, alerts): run every ``interval`` s, and soon after ``wake``."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)


class Periodic:
    """Runs ``task`` on its own daemon thread; an exception is logged and the next round tries again."""

    def __init__(self, name: str, task: Callable[[], object], *, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the interval of a periodic task is positive")
        self.name = name
        self.task = task
        self.interval = interval
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def start(self) -> Periodic:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Run the task soon (never blocks)."""
        self._wakeup.set()

    def stop(self, timeout: float = 15.0) -> None:
        """Let the running round finish (up to ``timeout`` s) and run no more."""
        self._stopping.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wakeup.clear()
            try:
                self.task()
            except Exception:
                log.exception("periodic.task_failed", task=self.name)
            self._wakeup.wait(self.interval)
