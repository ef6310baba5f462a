"""Declaring a participant's handlers: ``Provider`` for request/reply, ``Subscriber`` for notifications.

Both are the same kind of object (an agency may provide services and subscribe at once); the two names
say what a module is mainly for. Declaring does nothing on the bus; ``start`` (or ``govbus run``) does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import structlog

from bus.ids import ParticipantId
from bus.pki import BusHome
from bus.registry.catalogue import Right
from bus.transport.base import ConsumerHandle
from sdk.context import Context
from sdk.contract import Contract, Notification, Payload, RequestReply, check_catalogue
from sdk.inbound import HandlerFunction, Inbound
from sdk.node import Node
from sdk.receipts import ReceiptHandler

log = structlog.get_logger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Running:
    """An app started on a node.

    ``stop`` cancels its consumers (waiting for running handlers), then runs the app's ``on_stop`` hooks once.
    """

    app: App
    node: Node
    consumers: list[ConsumerHandle] = field(default_factory=list)
    stopped: bool = False

    @property
    def queues(self) -> list[str]:
        return [consumer.queue for consumer in self.consumers]

    def stop(self) -> None:
        for consumer in self.consumers:
            consumer.cancel()
        self.consumers.clear()
        if not self.stopped:
            self.stopped = True
            for hook in self.app.shutdown:
                hook(self.node)


class App:
    """A participant's declared handlers and start-up hooks."""

    def __init__(self, participant: ParticipantId | str) -> None:
        self.participant = (
            participant if isinstance(participant, ParticipantId) else ParticipantId.parse(participant)
        )
        self.implementations: dict[RequestReply[Any, Any], HandlerFunction] = {}
        self.subscriptions: dict[Notification[Any, Any], HandlerFunction] = {}
        self.receipt_handlers: dict[Notification[Any, Any], ReceiptHandler] = {}
        self.startup: list[Callable[[Node], None]] = []
        self.shutdown: list[Callable[[Node], None]] = []

    def implement(self, contract: RequestReply[Any, Any]) -> Callable[[F], F]:
        """Serve ``contract``: the function gets the typed request and a ``Context``, returns the response."""

        def register(function: F) -> F:
            self.implementations[contract] = function
            return function

        return register

    def teleservice(self, code: str, version: int = 1, *, schema: str) -> Callable[[F], F]:
        """Serve a request/reply teleservice whose models are the function's type hints."""

        def register(function: F) -> F:
            hints = get_type_hints(function)
            request = next(v for k, v in hints.items() if k != "return" and v is not Context)
            contract = RequestReply(code, version, schema, request=request, response=hints["return"])
            self.implementations[contract] = function
            function.contract = contract  # type: ignore[attr-defined]
            return function

        return register

    def on(self, contract: Notification[Any, Any]) -> Callable[[F], F]:
        """Subscribe to ``contract`` notifications: the function returns the receipt to sign and send back."""

        def register(function: F) -> F:
            self.subscriptions[contract] = function
            return function

        return register

    def on_receipt(self, contract: Notification[Any, Any]) -> Callable[[F], F]:
        """Handle every receipt for notifications of ``contract`` this participant sent (late ones too)."""

        def register(function: F) -> F:
            self.receipt_handlers[contract] = function
            return function

        return register

    def on_start(self, function: Callable[[Node], None]) -> Callable[[Node], None]:
        """Run ``function(node)`` when the app starts, before any message (open stores, seed data)."""
        self.startup.append(function)
        return function

    def on_stop(self, function: Callable[[Node], None]) -> Callable[[Node], None]:
        """Run ``function(node)`` when the app stops, after its consumers ended (stop timers, close stores)."""
        self.shutdown.append(function)
        return function

    def _served(self) -> dict[RequestReply[Any, Any], HandlerFunction]:
        """The request/reply services to consume: the app's own, plus discovery when it has any."""
        if not self.implementations:
            return {}
        from sdk.discovery import META_DESCRIBE, META_SERVICES, describer, list_services

        describe = describer(self.contracts())
        return {**self.implementations, META_SERVICES: list_services, META_DESCRIBE: describe}

    def contracts(self) -> list[Contract]:
        return [*self.implementations, *self.subscriptions, *self.receipt_handlers]

    def start(self, node: Node, *, concurrency: int = 4, prefetch: int = 32) -> Running:
        """Declare this app's queues and start consuming them on ``node``."""
        if node.participant != self.participant:
            raise ValueError(f"this app is {self.participant}; the node is {node.participant}")
        check_catalogue(self.contracts(), node.catalogue)
        for hook in self.startup:
            hook(node)
        running = Running(self, node)
        transport = node.transport
        for contract, function in self._served().items():
            service = contract.service_of(self.participant)
            queue, _ = transport.declare_service(str(service))
            handler = Inbound(node, contract, function, service)
            running.consumers.append(
                transport.consume(queue, handler, prefetch=prefetch, concurrency=concurrency)
            )
        catalogue = node.catalogue
        for contract, function in self.subscriptions.items():
            for entry in catalogue.providers_of(contract.code, contract.version):
                if not catalogue.allows(self.participant, entry.service, Right.SUBSCRIBE):
                    continue
                queue, _ = transport.declare_subscription(str(self.participant), str(entry.service))
                handler = Inbound(node, contract, function, entry.service)
                running.consumers.append(
                    transport.consume(queue, handler, prefetch=prefetch, concurrency=concurrency)
                )
        if self.receipt_handlers:
            inbox = node.inbox()
            for contract, receipt_handler in self.receipt_handlers.items():
                inbox.register(contract, receipt_handler)
        log.info("app.started", participant=str(self.participant), queues=running.queues)
        return running

    def run(
        self,
        *,
        home: BusHome | str | Path,
        broker: str,
        prefix: str = "govbus",
        concurrency: int = 4,
        prefetch: int = 32,
        stop: threading.Event | None = None,
    ) -> None:
        """Start on a new node and serve until SIGTERM/SIGINT (or ``stop`` is set); then drain and close."""
        stop = stop or threading.Event()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        with Node(self.participant, home=home, broker=broker, prefix=prefix) as node:
            running = self.start(node, concurrency=concurrency, prefetch=prefetch)
            stop.wait()
            log.info("app.stopping", participant=str(self.participant))
            running.stop()


class Provider(App):
    """A participant that publishes request/reply teleservices."""


class Subscriber(App):
    """A participant that subscribes to notifications and answers each with a signed receipt."""


__all__ = ["App", "Payload", "Provider", "Running", "Subscriber"]
