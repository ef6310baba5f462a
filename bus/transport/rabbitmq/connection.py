"""The pika connection of one transport and the I/O thread that owns it.

Invariants: only the I/O thread touches pika objects. Other threads hand it closures with ``submit``:
one ``add_callback_threadsafe`` wake-up per batch, callbacks run in submission order. A lost connection
is reopened with capped, jittered exponential backoff until ``shutdown``; collaborators learn of each
(re)opened connection and each loss through the listeners they register.

Several addresses (the nodes of one cluster): each attempt tries the next address in the list, so a
first connection goes to the first node that answers, and after a loss the node that was lost is tried
last. Failing addresses are skipped at once; the backoff applies after a whole round failed, and
``connect_attempts`` counts rounds.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import pika
import structlog
from pika.adapters.select_connection import IOLoop
from pika.adapters.utils.io_services_utils import _AsyncPlaintextTransport  # type: ignore[attr-defined]
from pika.channel import Channel

from bus.faults import Fault, FaultCode
from bus.transport.rabbitmq.common import describe, resolve

log = structlog.get_logger(__name__)

OpenListener = Callable[[], None]
LossListener = Callable[[BaseException], None]


class AmqpConnection:
    """One ``SelectConnection`` at a time on its own I/O thread, reopened after every loss."""

    def __init__(
        self,
        params: Sequence[pika.connection.Parameters],
        url: str,
        *,
        connect_attempts: int,
        max_backoff: float,
        addresses: Sequence[str] = (),
    ) -> None:
        if not params:
            raise ValueError("no broker address to connect to")
        self.url = url
        self.ioloop = IOLoop()
        self.connected = threading.Event()
        self.started: Future[None] = Future()
        self.reconnections = 0
        self._params = list(params)
        self._addresses = list(addresses) or [url] * len(self._params)
        self._next = 0  # index of the address the next attempt uses
        self._round_start = 0  # index of the address the current round of attempts began with
        self.address = self._addresses[0]  # the address of the current (or last) connection
        self._trying = self._addresses[0]  # the address of the latest attempt
        self._connect_attempts = max(1, connect_attempts)
        self._max_backoff = max_backoff
        self._opened: list[OpenListener] = []
        self._lost: list[LossListener] = []

        # Shared with caller threads (guarded by _lock): the only lock on the publish and ack paths.
        self._lock = threading.Lock()
        self._ops: deque[Callable[[], None]] = deque()
        self._wake_pending = False

        # I/O thread only.
        self.current: pika.SelectConnection | None = None
        self.closing = False
        self._attempts = 0
        self._reconnect_timer: Any = None
        self._thread = threading.Thread(target=self._run, name="govbus-amqp-io", daemon=True)

    def on_open(self, listener: OpenListener) -> None:
        """Call ``listener`` on the I/O thread each time a connection opens (register before ``start``)."""
        self._opened.append(listener)

    def on_lost(self, listener: LossListener) -> None:
        """Call ``listener`` on the I/O thread when the current connection is lost or closed."""
        self._lost.append(listener)

    def start(self) -> None:
        """Start the I/O thread; return once connected, or raise ``Fault(BROKER_UNAVAILABLE)``."""
        self._thread.start()
        try:
            self.started.result()
        except BaseException:
            self._thread.join(5)
            raise

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    # -- any thread -------------------------------------------------------------------------------

    def submit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the I/O thread (from any thread); callbacks run in submission order."""
        with self._lock:
            self._ops.append(callback)
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self.ioloop.add_callback_threadsafe(self._drain)
        except Exception:
            log.debug("transport I/O loop gone; callback dropped", url=self.url)

    def on_io_thread(self) -> bool:
        """True on this connection's own I/O thread (where a handler run inline is)."""
        return threading.get_ident() == self._thread.ident

    def check_may_wait(self, what: str) -> None:
        """Refuse to wait on the I/O thread for something only the I/O thread can do (it would hang)."""
        if self.on_io_thread():
            raise RuntimeError(
                f"{what} waits for the broker, which a handler running on the connection's own thread "
                "cannot do: consume with concurrency >= 1 (govbus run --threads N) to block in a handler"
            )

    def backoff(self, failures: int) -> float:
        """Delay before retry number ``failures``: exponential from 0.1 s, capped, jittered."""
        delay: float = min(self._max_backoff, 0.1 * 2 ** max(0, failures - 1))
        return delay * random.uniform(0.5, 1.0)

    # -- I/O thread -------------------------------------------------------------------------------

    def channel(self, on_open: Callable[[Channel], None]) -> Channel | None:
        """Open a channel on the current connection; None while disconnected."""
        connection = self.current
        if connection is None or not connection.is_open:
            return None
        return connection.channel(on_open_callback=on_open)

    def flush(self) -> None:
        """Send what pika holds for the socket now rather than at the loop's next writability event.

        pika writes only when the poller reports the socket writable, which comes after every frame
        already read has been dispatched: the reply of an inline handler would wait behind the handlers
        of the deliveries read with it. Plaintext connections only (TLS keeps pika's own pacing).
        """
        transport = getattr(self.current, "_transport", None)
        if isinstance(transport, _AsyncPlaintextTransport) and transport.get_write_buffer_size():
            transport._on_socket_writable()

    @property
    def is_open(self) -> bool:
        return self.current is not None and self.current.is_open

    def call_later(self, delay: float, callback: Callable[[], None]) -> Any:
        return self.ioloop.call_later(delay, callback)

    def remove_timeout(self, timer: Any) -> None:
        self.ioloop.remove_timeout(timer)

    def shutdown(self) -> None:
        """Stop reconnecting and close the connection; the I/O thread ends once it is closed."""
        self.closing = True
        if self._reconnect_timer is not None:
            self.ioloop.remove_timeout(self._reconnect_timer)
            self._reconnect_timer = None
        connection = self.current
        if connection is not None and connection.is_open:
            connection.close()
        elif connection is None or connection.is_closed:
            self.ioloop.stop()

    def _run(self) -> None:
        self._connect()
        try:
            while True:
                try:
                    self.ioloop.start()
                    return
                except Exception:
                    log.exception("transport I/O loop error; continuing", url=self.url)
        finally:
            self.ioloop.close()

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._ops:
                    self._wake_pending = False
                    return
                ops, self._ops = self._ops, deque()
            for callback in ops:
                try:
                    callback()
                except Exception:
                    log.exception("transport I/O callback failed", url=self.url)

    def _connect(self) -> None:
        self._reconnect_timer = None
        if self.closing:
            return
        index = self._next
        self._next = (index + 1) % len(self._params)
        if self._next == self._round_start:
            self._attempts += 1  # this attempt ends a round over the addresses
        self._trying = self._addresses[index]
        try:
            pika.SelectConnection(
                self._params[index],
                on_open_callback=self._on_open,  # type: ignore[arg-type]
                on_open_error_callback=self._on_open_error,  # type: ignore[arg-type]
                on_close_callback=self._on_closed,  # type: ignore[arg-type]
                custom_ioloop=self.ioloop,
            )
        except Exception as error:
            self._on_open_error(None, error)

    def _schedule_reconnect(self) -> None:
        if self._reconnect_timer is None and not self.closing:
            round_over = self._next == self._round_start
            delay = self.backoff(self._attempts) if round_over else 0.0
            self._reconnect_timer = self.ioloop.call_later(delay, self._connect)

    def _on_open(self, connection: pika.SelectConnection) -> None:
        if self.closing:
            connection.close()
            return
        reconnected = self.started.done()
        if reconnected:
            self.reconnections += 1
        self.current = connection
        self.address = self._trying
        self._attempts = 0
        self.connected.set()
        for listener in self._opened:
            listener()
        if reconnected:
            log.info("reconnected to broker", url=self.url, address=self.address)
        resolve(self.started)

    def _on_open_error(self, connection: pika.SelectConnection | None, error: BaseException) -> None:
        if not self.started.done() and self._attempts >= self._connect_attempts:
            self.closing = True
            fault = Fault(FaultCode.BROKER_UNAVAILABLE, f"cannot connect to {self.url}: {describe(error)}")
            resolve(self.started, error=fault)
            self.ioloop.stop()
            return
        log.warning(
            "broker connection failed; retrying", url=self.url, address=self._trying, error=describe(error)
        )
        self._schedule_reconnect()

    def _on_closed(self, connection: pika.SelectConnection, reason: BaseException) -> None:
        current = connection is self.current
        if current:
            self.current = None
            self.connected.clear()
            self._round_start = self._next  # the address just lost is tried last
            for listener in self._lost:
                listener(reason)
        if self.closing:
            self.ioloop.stop()
        elif current:
            log.warning(
                "broker connection lost; reconnecting", url=self.url, address=self.address, reason=str(reason)
            )
            self._schedule_reconnect()
