"""Participants as separate processes, started with ``govbus run`` like an agency runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from bus.pki import BusHome
from bus.registry.store import load_published
from bus.transport import connect
from sdk.testing import delete_topology as delete_catalogue_topology

REPO = Path(__file__).resolve().parents[2]
GOVBUS = [sys.executable, "-m", "bus.cli"]
START_DEADLINE = 90.0


class GovbusRun:
    """``govbus run TARGET --home HOME --broker URL --prefix PREFIX``, its log in a file."""

    def __init__(self, target: str, *, home: Path, broker: str, prefix: str, logs: Path) -> None:
        self.target = target
        self._start(
            ["run", target, "--home", str(home), "--broker", broker, "--prefix", prefix], logs, os.environ
        )

    @classmethod
    def command(cls, args: list[str], *, logs: Path, env: Mapping[str, str]) -> GovbusRun:
        """``govbus ARGS`` (a ``run`` command line as a user types it), in ``env``."""
        run = cls.__new__(cls)
        run.target = args[1]
        run._start(args, logs, env)
        return run

    def _start(self, args: list[str], logs: Path, env: Mapping[str, str]) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        name = self.target.replace(":", "-").replace("/", "-")
        self.log_path = logs / f"{name}-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [*GOVBUS, *args],
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**env, "PYTHONUNBUFFERED": "1"},
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_started(self, deadline: float = START_DEADLINE) -> None:
        """Until the app logs that it consumes its queues (or the process dies, or the deadline)."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if '"app.started"' in self.log():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"{self.target} exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.1)
        raise AssertionError(f"{self.target} did not start within {deadline:g} s:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM (the worker drains and exits), SIGKILL if it does not within 30 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def wait_until(condition, *, deadline: float = 60.0, interval: float = 0.1, what: str = "condition"):
    """Poll ``condition()`` until it returns something truthy; return it, or fail after ``deadline`` s."""
    end = time.monotonic() + deadline
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"{what} not reached within {deadline:g} s")
        time.sleep(interval)


def delete_topology(home: Path, broker: str, prefix: str) -> None:
    """Delete the queues and exchanges of every service, subscription and inbox of ``home``'s catalogue."""
    catalogue = load_published(BusHome.at(home))
    transport = connect(broker, prefix=prefix)
    try:
        delete_catalogue_topology(transport, catalogue)
    finally:
        transport.close()
