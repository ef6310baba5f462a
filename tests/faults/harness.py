"""Worker processes (``govbus run``) and client traffic for the fault tests."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bus.faults import FaultCode
from sdk import CallFailed, Client, Node
from sdk.testing import TestBus
from tests.faults.service import EVENT, HOLD, PROVIDER, WORK, Effect, Event, Work, read_effects

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


class Worker:
    """One ``govbus run tests.faults.service:APP`` process; each start logs (JSON lines) to its own file."""

    def __init__(
        self,
        bus: TestBus,
        app: str,
        participant: str,
        logs: Path,
        *,
        broker: str,
        threads: int,
        prefetch: int,
    ) -> None:
        self.bus = bus
        self.app = app
        self.participant = participant
        self.broker = broker
        self.threads = threads
        self.prefetch = prefetch
        self.logs = logs
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def data_dir(self) -> Path:
        return self.bus.home.participant_dir(self.participant)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _log(self, start: int) -> Path:
        return self.logs / f"{self.app}-{start}.log"

    def start(self, timeout: float = 60) -> None:
        """Start the process and wait until it consumes its queues."""
        assert not self.alive
        self.starts += 1
        command = [
            *(sys.executable, "-m", "bus.cli", "run", f"tests.faults.service:{self.app}"),
            *("--home", str(self.bus.root), "--broker", self.broker, "--prefix", self.bus.prefix),
            *("--threads", str(self.threads), "--prefetch", str(self.prefetch)),
        ]
        with self._log(self.starts).open("wb") as stderr:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        wait_for(
            lambda: not self.alive or any(e.get("event") == "app.started" for e in self.lines(self.starts)),
            timeout,
            f"{self.app} to start",
        )
        assert self.alive, f"{self.app} exited at start:\n{self._log(self.starts).read_text()[-3000:]}"

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, no log flush."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not drain within 30 s; return the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(30)

    def lines(self, start: int | None = None) -> list[dict[str, Any]]:
        """The JSON log lines of one start (default: of every start)."""
        starts = [start] if start is not None else range(1, self.starts + 1)
        found = []
        for index in starts:
            path = self._log(index)
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    try:
                        found.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue  # a line cut short by SIGKILL
        return found

    def errors(self) -> list[dict[str, Any]]:
        """Log lines at error level: a handler or the pipeline crashed."""
        return [line for line in self.lines() if line.get("level") in ("error", "critical")]

    def effects(self) -> dict[str, Effect]:
        return read_effects(self.data_dir)


@dataclass
class Outcomes:
    """What each call and notification of a ``Traffic`` run came to."""

    answered: dict[str, str] = field(default_factory=dict)  # request text -> response text
    failed: dict[str, FaultCode] = field(default_factory=dict)  # request text -> fault code
    confirmed: dict[str, str] = field(default_factory=dict)  # notification id -> text
    unconfirmed: dict[str, FaultCode] = field(default_factory=dict)  # notification text -> fault code
    crashes: list[BaseException] = field(default_factory=list)  # anything but CallFailed


class Traffic:
    """Client threads calling WORK on the provider and a notifier sending EVENTs, all in this process.

    ``delay(n)`` is the handler delay of request or notification ``n``; numbers in ``hold`` are held
    mid-run (see tests.faults.service); ``pace`` is a pause in seconds between notifications.
    """

    def __init__(
        self,
        client: Node,
        notifier: Node,
        *,
        requests: int,
        notifications: int,
        threads: int = 4,
        timeout: float = 30.0,
        provider: str = PROVIDER,
        delay: Callable[[int], int | None] = lambda n: None,
        hold: frozenset[int] = frozenset(),
        pace: float = 0.0,
    ) -> None:
        self.outcomes = Outcomes()
        self._lock = threading.Lock()
        self._client, self._notifier = client, notifier
        self._timeout = timeout
        self._provider = provider
        self._delay = delay
        self._hold = hold
        self._pace = pace
        self._threads = [
            threading.Thread(target=self._guard, args=(self._call, range(i, requests, threads)), daemon=True)
            for i in range(threads)
        ]
        if notifications:
            self._threads.append(
                threading.Thread(target=self._guard, args=(self._notify, range(notifications)), daemon=True)
            )

    def start(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float) -> None:
        """Wait for every thread; fail the test if one still runs after ``timeout`` s (a hung call)."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        hung = sum(thread.is_alive() for thread in self._threads)
        assert hung == 0, f"{hung} traffic threads still blocked after {timeout:g} s"

    def progress(self) -> int:
        with self._lock:
            outcomes = self.outcomes
            return len(outcomes.answered) + len(outcomes.failed) + len(outcomes.confirmed)

    def text(self, kind: str, n: int) -> str:
        """The text of request (``r``) or notification (``n``) number ``n``."""
        return f"{HOLD if n in self._hold else ''}{kind}{n}"

    def _guard(self, loop: Callable[[range], None], numbers: range) -> None:
        try:
            loop(numbers)
        except BaseException as error:
            with self._lock:
                self.outcomes.crashes.append(error)

    def _call(self, numbers: range) -> None:
        client = Client(node=self._client)
        for n in numbers:
            text = self.text("r", n)
            try:
                done = client.call(
                    self._provider, WORK, Work(text=text, delay_ms=self._delay(n)), timeout=self._timeout
                )
            except CallFailed as failure:
                with self._lock:
                    self.outcomes.failed[text] = failure.code
            else:
                with self._lock:
                    self.outcomes.answered[text] = done.text

    def _notify(self, numbers: range) -> None:
        notifier = Client(node=self._notifier)
        for n in numbers:
            text = self.text("n", n)
            try:
                result = notifier.notify(EVENT, Event(text=text, delay_ms=self._delay(n)), timeout=0)
            except CallFailed as failure:
                with self._lock:
                    self.outcomes.unconfirmed[text] = failure.code
            else:
                with self._lock:
                    self.outcomes.confirmed[result.notification_id] = text
            time.sleep(self._pace)
