"""Topology operations and ``get`` on RabbitMQ: short AMQP exchanges a caller thread waits for.

Invariants: a topology operation runs on its own short-lived channel, so a broker channel error (a
missing queue, different arguments) closes only that channel and becomes ``TopologyError``. An operation
interrupted by a lost connection is retried once reconnected, within ``operation_timeout``. ``get`` keeps
one channel open and serves one caller at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from typing import Any

import pika
from pika import spec
from pika.channel import Channel

from bus.faults import Fault, FaultCode
from bus.transport.base import Delivery, Settlement
from bus.transport.properties import from_pika
from bus.transport.rabbitmq.common import ConnectionLost, Step, chain, channel_error, resolve
from bus.transport.rabbitmq.connection import AmqpConnection
from bus.transport.topology import Topology

Settler = Callable[[Channel, int], Callable[[Settlement], None]]


class Operations:
    """Declarations, deletions, queue inspection and ``get`` for one transport."""

    def __init__(
        self, connection: AmqpConnection, topology: Topology, settler: Settler, *, operation_timeout: float
    ) -> None:
        self._io = connection
        self.url = connection.url
        self.topology = topology
        self._settler = settler
        self._operation_timeout = operation_timeout
        self._get_lock = threading.Lock()
        # I/O thread only.
        self._get_channel: Channel | None = None
        self._get_result: Future[Delivery | None] | None = None
        connection.on_lost(self._on_connection_lost)

    # -- caller threads ---------------------------------------------------------------------------

    def call(self, what: str, start: Callable[[Future[Any]], None]) -> Any:
        """Run ``start`` on the I/O thread until it resolves; retry when the connection is lost meanwhile."""
        self._io.check_may_wait(what)
        deadline = time.monotonic() + self._operation_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._io.connected.wait(remaining):
                raise Fault(FaultCode.BROKER_UNAVAILABLE, f"{self.url}: not connected; cannot {what}")
            result: Future[Any] = Future()
            self._io.submit(partial(start, result))
            try:
                return result.result(max(0.0, deadline - time.monotonic()))
            except ConnectionLost:
                continue
            except FutureTimeout:
                raise Fault(
                    FaultCode.BROKER_UNAVAILABLE,
                    f"{self.url}: no answer within {self._operation_timeout:g} s to {what}",
                ) from None

    def operate(self, what: str, steps: list[Step]) -> Any:
        """Run ``steps`` on a new channel; return the last reply frame."""
        return self.call(what, partial(self._run_steps, steps))

    def declare_exchanges(self) -> None:
        steps: list[Step] = [
            partial(
                lambda spec_, ch, next_: ch.exchange_declare(
                    spec_.name, exchange_type=spec_.kind.value, durable=True, callback=next_
                ),
                exchange,
            )
            for exchange in self.topology.exchanges()
        ]
        self.operate("declare the exchanges", steps)

    def declare_queue(
        self, name: str, arguments: Mapping[str, Any], bindings: Iterable[tuple[str, str]]
    ) -> None:
        steps: list[Step] = [
            lambda ch, next_: ch.queue_declare(name, durable=True, arguments=dict(arguments), callback=next_)
        ]
        for exchange, routing_key in bindings:
            steps.append(
                partial(
                    lambda e, k, ch, next_: ch.queue_bind(name, e, routing_key=k, callback=next_),
                    exchange,
                    routing_key,
                )
            )
        self.operate(f"declare queue {name!r}", steps)

    def delete_queue(self, name: str) -> None:
        self.operate(f"delete queue {name!r}", [lambda ch, next_: ch.queue_delete(name, callback=next_)])

    def delete_exchange(self, name: str) -> None:
        self.operate(
            f"delete exchange {name!r}", [lambda ch, next_: ch.exchange_delete(name, callback=next_)]
        )

    def purge_queue(self, name: str) -> int:
        frame = self.operate(
            f"purge queue {name!r}", [lambda ch, next_: ch.queue_purge(name, callback=next_)]
        )
        return int(frame.method.message_count)

    def queue_depth(self, name: str) -> int:
        frame = self.operate(
            f"inspect queue {name!r}",
            [lambda ch, next_: ch.queue_declare(name, passive=True, callback=next_)],
        )
        return int(frame.method.message_count)

    def get(self, queue: str) -> Delivery | None:
        with self._get_lock:
            delivery: Delivery | None = self.call(f"get from {queue!r}", partial(self._start_get, queue))
            return delivery

    # -- I/O thread -------------------------------------------------------------------------------

    def _run_steps(self, steps: list[Step], result: Future[Any]) -> None:
        def opened(channel: Channel) -> None:
            channel.add_on_close_callback(lambda _ch, reason: resolve(result, error=channel_error(reason)))

            def done(frame: Any) -> None:
                resolve(result, frame)
                channel.close()

            try:
                chain(channel, steps, done)
            except Exception as error:
                resolve(result, error=error)
                channel.close()

        if self._io.channel(opened) is None:
            resolve(result, error=ConnectionLost())

    def _start_get(self, queue: str, result: Future[Delivery | None]) -> None:
        channel = self._get_channel
        if channel is not None and channel.is_open:
            self._get_result = result
            channel.basic_get(queue, partial(self._on_get_ok, queue), auto_ack=False)
            return

        def opened(channel: Channel) -> None:
            channel.add_on_close_callback(self._on_get_closed)
            channel.add_callback(self._on_get_empty, [spec.Basic.GetEmpty], one_shot=False)
            self._start_get(queue, result)

        self._get_channel = self._io.channel(opened)
        if self._get_channel is None:
            resolve(result, error=ConnectionLost())

    def _on_get_ok(
        self, queue: str, channel: Channel, method: Any, properties: pika.BasicProperties, body: bytes
    ) -> None:
        result, self._get_result = self._get_result, None
        delivery = Delivery(
            from_pika(method, properties, body), queue, self._settler(channel, method.delivery_tag)
        )
        if result is not None:
            resolve(result, delivery)

    def _on_get_empty(self, _frame: Any) -> None:
        result, self._get_result = self._get_result, None
        if result is not None:
            resolve(result, None)

    def _on_connection_lost(self, reason: BaseException) -> None:
        if self._get_channel is not None:
            self._on_get_closed(self._get_channel, reason)

    def _on_get_closed(self, channel: Channel, reason: BaseException) -> None:
        if channel is self._get_channel:
            self._get_channel = None
        result, self._get_result = self._get_result, None
        if result is not None:
            resolve(result, error=channel_error(reason))
