"""Declaring a participant's handlers: ``Provider`` for request/reply, ``Subscriber`` for notifications.

Both are the same kind of object (an agency may provide services and subscribe at once); the two names
say what a module is mainly for. Declaring does nothing on the bus; ``start`` (or ``govbus run``) does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import structlog

from bus.ids import ParticipantId
from bus.pki import BusHome
from bus.registry.catalogue import Right
from bus.transport.base import INLINE, ConsumerHandle
from sdk.compose import open_node
from sdk.context import Context
from sdk.contract import Contract, Notification, Payload, RequestReply, check_catalogue
from sdk.discovery import META_DESCRIBE, META_SERVICES, describer, list_services
from sdk.environment import Environment, resource
from sdk.inbound import HandlerFunction, Inbound, injected_parameters
from sdk.node import Node
from sdk.receipts import ReceiptHandler
from sdk.refusals import Refusal, Refusals, default_code, default_reason
from sdk.resources import Resource

log = structlog.get_logger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
Hook = Callable[[Environment], None]


@dataclass
class Running:
    """An app started on a node.

    ``stop`` cancels its consumers (waiting for running handlers), then runs the app's ``on_stop`` hooks
    and tears its resources down in reverse order, once.
    """

    app: App
    node: Node
    environment: Environment
    consumers: list[ConsumerHandle] = field(default_factory=list)
    resources: ExitStack = field(default_factory=ExitStack)
    hooks_ran: bool = False
    stopped: bool = False

    @property
    def queues(self) -> list[str]:
        return [consumer.queue for consumer in self.consumers]

    def use(self, resource: Resource[T]) -> T:
        """The value of one of the app's resources on this node."""
        return self.node.resources.get(resource)

    def stop(self) -> None:
        for consumer in self.consumers:
            consumer.cancel()
        self.consumers.clear()
        if not self.stopped:
            self.stopped = True
            try:
                for hook in self.app.shutdown if self.hooks_ran else ():
                    hook(self.environment)
            finally:
                self.resources.close()


class App:
    """A participant's declared handlers and start-up hooks."""

    def __init__(self, participant: ParticipantId | str) -> None:
        self.participant = (
            participant if isinstance(participant, ParticipantId) else ParticipantId.parse(participant)
        )
        self.implementations: dict[RequestReply[Any, Any], HandlerFunction] = {}
        self.subscriptions: dict[Notification[Any, Any], HandlerFunction] = {}
        self.receipt_handlers: dict[Notification[Any, Any], ReceiptHandler] = {}
        self.resources: list[Resource[Any]] = []
        self.refusals = Refusals()
        self.startup: list[Hook] = []
        self.shutdown: list[Hook] = []

    def _uses(self, function: Callable[..., Any]) -> None:
        for needed in injected_parameters(function).values():
            self.use(needed)

    def use(self, needed: Resource[T]) -> Resource[T]:
        """Set ``needed`` up on every node this app starts on (once, in the order first used)."""
        if needed not in self.resources:
            self.resources.append(needed)
        return needed

    def resource(self, setup: Callable[[Environment], Iterator[T]]) -> Resource[T]:
        """Declare a per-node resource from a generator and use it (see ``sdk.environment.resource``)."""
        return self.use(resource(setup))

    def refuse(
        self,
        error: type[BaseException],
        *,
        code: Callable[[Any], str | None] = default_code,
        reason: Callable[[Any], str] = default_reason,
    ) -> None:
        """Answer ``error`` raised by a handler as a refusal with the error's code (see ``sdk.refusals``)."""
        self.refusals.add(Refusal(error, code, reason))

    def implement(self, contract: RequestReply[Any, Any]) -> Callable[[F], F]:
        """Serve ``contract``: the function gets the typed request and a ``Context``, returns the response.

        Parameters defaulting to ``inject(RESOURCE)`` get the resource's value on the handling node.
        """

        def register(function: F) -> F:
            self._uses(function)
            self.implementations[contract] = function
            return function

        return register

    def teleservice(self, code: str, version: int = 1, *, schema: str) -> Callable[[F], F]:
        """Serve a request/reply teleservice whose models are the function's type hints."""

        def register(function: F) -> F:
            hints = get_type_hints(function)
            request = next(v for k, v in hints.items() if k != "return" and v is not Context)
            contract = RequestReply(code, version, schema, request=request, response=hints["return"])
            self._uses(function)
            self.implementations[contract] = function
            function.contract = contract  # type: ignore[attr-defined]
            return function

        return register

    def on(self, contract: Notification[Any, Any]) -> Callable[[F], F]:
        """Subscribe to ``contract`` notifications: the function returns the receipt to sign and send back."""

        def register(function: F) -> F:
            self._uses(function)
            self.subscriptions[contract] = function
            return function

        return register

    def on_receipt(self, contract: Notification[Any, Any]) -> Callable[[F], F]:
        """Handle every receipt for notifications of ``contract`` this participant sent (late ones too)."""

        def register(function: F) -> F:
            self.receipt_handlers[contract] = function
            return function

        return register

    def on_start(self, function: Hook) -> Hook:
        """Run ``function(environment)`` when the app starts, after its resources are set up (seed data)."""
        self.startup.append(function)
        return function

    def on_stop(self, function: Hook) -> Hook:
        """Run ``function(environment)`` when the app stops, after its consumers ended, before teardown."""
        self.shutdown.append(function)
        return function

    def _served(self) -> dict[RequestReply[Any, Any], HandlerFunction]:
        """The request/reply services to consume: the app's own, plus discovery when it has any."""
        if not self.implementations:
            return {}
        describe = describer(self.contracts())
        return {**self.implementations, META_SERVICES: list_services, META_DESCRIBE: describe}

    def contracts(self) -> list[Contract]:
        return [*self.implementations, *self.subscriptions, *self.receipt_handlers]

    def start(self, node: Node, *, concurrency: int = 4, prefetch: int = 32, inline: bool = False) -> Running:
        """Set up the app's resources on ``node``, run its start hooks, declare its queues and consume them.

        ``concurrency`` handler threads per queue; with ``inline``, handlers run on the broker connection's
        own thread instead (``bus.transport.INLINE``: no hand-over; such a handler must not call the bus
        synchronously, and holds every other delivery while it runs). A receipt never makes a handler
        wait: the transport acks the notification when the broker confirmed its receipt.

        If any step fails, what was set up is torn down again before the error propagates.
        """
        if node.participant != self.participant:
            raise ValueError(f"this app is {self.participant}; the node is {node.participant}")
        check_catalogue(self.contracts(), node.catalogue)
        running = Running(self, node, Environment(node))
        try:
            self._start(running, concurrency, prefetch, inline)
        except BaseException:
            running.stop()
            raise
        log.info("app.started", participant=str(self.participant), queues=running.queues)
        return running

    def _start(self, running: Running, concurrency: int, prefetch: int, inline: bool) -> None:
        node, environment = running.node, running.environment
        for needed in self.resources:
            value = running.resources.enter_context(needed.setup(environment))
            node.resources.add(needed, value)
            running.resources.callback(node.resources.remove, needed)
        running.hooks_ran = True
        for hook in self.startup:
            hook(environment)
        transport = node.transport
        for contract, function in self._served().items():
            service = contract.service_of(self.participant)
            queue, _ = transport.declare_service(str(service))
            handler = Inbound(node, contract, function, service, self.refusals)
            running.consumers.append(
                transport.consume(
                    queue, handler, prefetch=prefetch, concurrency=INLINE if inline else concurrency
                )
            )
        catalogue = node.catalogue
        for subscribed, function in self.subscriptions.items():
            for entry in catalogue.providers_of(subscribed.code, subscribed.version):
                if not catalogue.allows(self.participant, entry.service, Right.SUBSCRIBE):
                    continue
                queue, _ = transport.declare_subscription(str(self.participant), str(entry.service))
                handler = Inbound(node, subscribed, function, entry.service, self.refusals)
                running.consumers.append(
                    transport.consume(
                        queue, handler, prefetch=prefetch, concurrency=INLINE if inline else concurrency
                    )
                )
        if self.receipt_handlers:
            inbox = node.inbox()
            for notified, receipt_handler in self.receipt_handlers.items():
                inbox.register(notified, receipt_handler)

    def run(
        self,
        *,
        home: BusHome | str | Path,
        broker: str,
        prefix: str = "govbus",
        concurrency: int = 4,
        prefetch: int = 32,
        stop: threading.Event | None = None,
        storage: str | None = None,
    ) -> None:
        """Start on a new node and serve until SIGTERM/SIGINT (or ``stop`` is set); then drain and close."""
        stop = stop or threading.Event()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        with open_node(self.participant, home=home, broker=broker, prefix=prefix, storage=storage) as node:
            running = self.start(node, concurrency=concurrency, prefetch=prefetch)
            stop.wait()
            log.info("app.stopping", participant=str(self.participant))
            running.stop()


class Provider(App):
    """A participant that publishes request/reply teleservices."""


class Subscriber(App):
    """A participant that subscribes to notifications and answers each with a signed receipt."""


__all__ = ["App", "Payload", "Provider", "Running", "Subscriber"]
