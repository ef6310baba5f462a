"""Operate the real RabbitMQ from tests with rabbitmqctl.

The node is ``$GOVBUS_TEST_RABBITMQ_NODE`` (``rabbitmqctl -n NODE``; default: rabbitmqctl's own default
node); it must be the node ``$GOVBUS_TEST_BROKER`` points at. ``close_connections`` touches only the
connections of one test; ``close_all_connections`` and ``restarted_app`` disturb everyone using the node,
so only run them on a broker of your own (CI runs the fault tests serially).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

NODE = os.environ.get("GOVBUS_TEST_RABBITMQ_NODE") or None
FORCE_CLOSE = os.environ.get("GOVBUS_TEST_FORCE_CLOSE", "prefix")

_NAME = re.compile(r'\{"connection_name","((?:[^"\\]|\\.)*)"\}')


def rabbitmqctl(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``rabbitmqctl -q [-n NODE] ARGS``; past ``timeout`` kill it and all it started, and raise."""
    command = ["rabbitmqctl", "-q", *(["-n", NODE] if NODE else []), *args]
    # Its own session: rabbitmqctl may run the CLI under su, which outlives a kill of rabbitmqctl alone.
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    if check:
        result.check_returncode()
    return result


@dataclass(frozen=True, slots=True)
class Connection:
    """A client connection as the broker lists it."""

    pid: str  # in the form ``close_connection`` accepts (the JSON formatter's #PID<...> is refused)
    name: str  # the client-provided connection name
    heartbeat: int  # seconds, as negotiated


def connections() -> list[Connection]:
    """The node's client connections."""
    listing = rabbitmqctl("list_connections", "--no-table-headers", "pid", "timeout", "client_properties")
    found = []
    for line in listing.stdout.splitlines():
        pid, heartbeat, properties = line.split("\t", 2)
        match = _NAME.search(properties)
        found.append(Connection(pid, match.group(1) if match else "", int(heartbeat)))
    return found


def close_connections(name_contains: str, reason: str = "govbus test: forced close") -> int:
    """Force-close every connection whose client-provided name contains ``name_contains``; return how many."""
    pids = [c.pid for c in connections() if name_contains in c.name]
    for pid in pids:
        rabbitmqctl("close_connection", pid, reason)
    return len(pids)


def close_all_connections(reason: str = "govbus test: forced close") -> int:
    """``rabbitmqctl close_all_connections``: every client of the node, not only this test's."""
    count = len(connections())
    rabbitmqctl("close_all_connections", reason)
    return count


def force_close(name_contains: str) -> int:
    """Close this test's connections, or all of the node's when ``$GOVBUS_TEST_FORCE_CLOSE=all``."""
    if FORCE_CLOSE == "all":
        return close_all_connections()
    return close_connections(name_contains)


@contextmanager
def restarted_app(timeout: float = 120) -> Iterator[None]:
    """Stop the RabbitMQ application (the node keeps running); start it again on exit, whatever happens."""
    rabbitmqctl("stop_app", timeout=timeout)
    try:
        yield
    finally:
        rabbitmqctl("start_app", timeout=timeout)
        rabbitmqctl("await_startup", timeout=timeout)
