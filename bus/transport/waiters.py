"""Calls waiting for their reply, shared by every transport: the request/reply semantics written once.

A call registers under its request's message id; a reply resolves every call registered under its
``correlation_id`` (a retried call shares the id: the first reply wins for all). A reply nobody waits for
(late, duplicate or forged) is dropped.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future, InvalidStateError
from typing import Any, Generic, Protocol, TypeVar

import structlog

from bus.faults import Fault, FaultCode
from bus.transport.base import Message

log = structlog.get_logger(__name__)


class Waiting(Protocol):
    """Anything holding the future a reply resolves."""

    @property
    def future(self) -> Future[Any]: ...


W = TypeVar("W", bound=Waiting)


class ReplyWaiters(Generic[W]):
    """The calls of one transport waiting for replies; every method is safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, list[W]] = {}

    def add(self, message_id: str, waiter: W) -> None:
        with self._lock:
            self._by_id.setdefault(message_id, []).append(waiter)

    def discard(self, message_id: str, waiter: W) -> None:
        with self._lock:
            waiting = self._by_id.get(message_id, [])
            if waiter in waiting:
                waiting.remove(waiter)
            if not waiting:
                self._by_id.pop(message_id, None)

    def all(self) -> list[W]:
        """Every waiting call (to re-send after a lost channel, or to fail on close)."""
        with self._lock:
            return [waiter for waiting in self._by_id.values() for waiter in waiting]

    def deliver(self, reply: Message) -> bool:
        """Resolve the calls waiting for ``reply``; False (and the reply dropped) when there is none."""
        with self._lock:
            waiting = list(self._by_id.get(reply.correlation_id or "", ()))
        if not waiting:
            log.debug("late or unknown reply dropped", correlation_id=reply.correlation_id)
            return False
        for waiter in waiting:
            with contextlib.suppress(InvalidStateError):  # the first reply (or failure) wins
                waiter.future.set_result(reply)
        return True


def timeout_fault(message_id: str, service: str, timeout: float) -> Fault:
    """The fault of a call that got no reply in time."""
    return Fault(FaultCode.TIMEOUT, f"no reply to {message_id} from {service} within {timeout:g} s")
