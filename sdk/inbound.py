"""The receiving pipeline of providers and subscribers, one instance per consumed queue.

verify -> admit (kind, service, catalogue rights) -> deduplicate -> decode -> handler -> encode -> sign
answer -> log the message and its answer (one transaction) -> store answer -> send answer -> acknowledge.
Every refusal is a signed fault to the sender when there is someone to tell, a log record always, and the
worker serves the next message.
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog

from bus.envelope import MessageKind, VerifiedEnvelope
from bus.envelope.model import Header
from bus.faults import Fault, FaultCode
from bus.ids import ServiceId
from bus.metrics import HANDLER_SECONDS
from bus.registry.catalogue import Right, ServiceStyle
from bus.transport.base import Delivery, OutgoingMessage
from sdk.context import Context
from sdk.contract import Contract, Payload, decode, encode, payload_models
from sdk.errors import ServiceError
from sdk.fault_message import bound_fault
from sdk.idempotency import Claim
from sdk.journal import LogEntry
from sdk.node import Node
from sdk.refusals import Refusals
from sdk.resources import Injected, Resource

log = structlog.get_logger(__name__)

IDEMPOTENCY_GRACE_SECONDS = 3600.0

HandlerFunction = Callable[..., Payload]
"""``handler(request, ctx, **injected)``: parameters defaulting to ``inject(RESOURCE)`` get the node's value."""


def injected_parameters(function: Callable[..., Any]) -> dict[str, Resource[Any]]:
    """The parameters of ``function`` whose default is ``inject(...)``, with their resources."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}
    return {
        name: parameter.default.resource
        for name, parameter in parameters.items()
        if isinstance(parameter.default, Injected)
    }


class Inbound:
    """Handles the deliveries of one request queue or one subscription queue."""

    def __init__(
        self,
        node: Node,
        contract: Contract,
        function: HandlerFunction,
        service: ServiceId,
        refusals: Refusals | None = None,
    ) -> None:
        self.node = node
        self.contract = contract
        self.function = function
        self.injected = injected_parameters(function)
        self.refusals = refusals or Refusals()
        self.service = service
        self.inbound_model, self.outbound_model = payload_models(contract)
        self.notification = contract.style is ServiceStyle.NOTIFICATION
        self.expected_kind = MessageKind.NOTIFICATION if self.notification else MessageKind.REQUEST
        self.answer_kind = MessageKind.RECEIPT if self.notification else MessageKind.RESPONSE

    def __call__(self, delivery: Delivery) -> None:
        started = time.perf_counter()
        raw = delivery.body
        try:
            if delivery.refusal is not None:  # refused by its AMQP properties (bus.transport.properties)
                raise delivery.refusal
            reply_to = delivery.reply_to
            if (
                reply_to
                and not self.notification
                and not self.node.transport.topology.is_reply_address(reply_to)
            ):
                raise Fault(
                    FaultCode.INVALID_REPLY_ADDRESS, f"reply_to {reply_to[:100]!r} is no reply address"
                )
            verified = self.node.verifier.verify(raw)
        except Fault as fault:
            self.node.record(
                "in",
                raw,
                header=None,
                outcome="rejected",
                fault=fault,
                started=started,
                service=str(self.service),
            )
            if fault.code is FaultCode.INVALID_REPLY_ADDRESS:
                log.warning("reply address refused", reason=fault.reason, service=str(self.service))
            elif not self.notification:
                self._send_fault(delivery, fault, request=raw, correlation_id=None)
            delivery.reject()  # kept in the dead-letter queue, with the log record naming the fault
            return
        header = verified.header
        with structlog.contextvars.bound_contextvars(  # on every log line written while handling it
            message_id=header.id, correlation_id=header.correlation_id, peer=str(header.client)
        ):
            self._handle(delivery, verified, started)

    def _handle(self, delivery: Delivery, verified: VerifiedEnvelope, started: float) -> None:
        header, raw = verified.header, delivery.body
        try:
            self._admit(header)
            verified = self._open(verified)
            begin = self.node.handled.begin(
                _claim(header),
                verified.digest,
                redelivered=delivery.redelivered,
                keep_until=header.expires.timestamp() + IDEMPOTENCY_GRACE_SECONDS,
            )
            if begin.claim is Claim.CONFLICT:
                raise Fault(FaultCode.REPLAY, f"message id {header.id} was already used for other content")
        except Fault as fault:
            self.node.record("in", raw, header=header, outcome="refused", fault=fault, started=started)
            self._send_fault(delivery, fault, request=raw, correlation_id=header.id, to=header)
            return
        if begin.claim is Claim.DONE:
            self.node.record("in", raw, header=header, outcome="duplicate", started=started)
            assert begin.response is not None
            self._send(delivery, header, begin.response, message_id=str(uuid.uuid4()))
            return
        if begin.claim is Claim.IN_FLIGHT:
            self.node.record("in", raw, header=header, outcome="duplicate-in-flight", started=started)
            return
        try:
            answer_header, answer, outcome = self._run(verified, delivery.redelivered)
            self.node.record_many(  # the message and its answer, in one log transaction
                [
                    LogEntry("in", raw, header, "accepted", started=started),
                    LogEntry(
                        "out",
                        answer,
                        answer_header,
                        "fault" if outcome else "sent",
                        outcome,
                        started,
                        peer=str(header.client),
                    ),
                ]
            )
            self.node.handled.finish(_claim(header), answer)
        except BaseException:
            self.node.handled.abandon(_claim(header))  # no answer exists: a redelivery or retry runs it again
            raise
        self._send(delivery, header, answer, message_id=answer_header.id)
        HANDLER_SECONDS.labels(str(self.service)).observe(time.perf_counter() - started)

    def _admit(self, header: Header) -> None:
        if header.kind is not self.expected_kind:
            raise Fault(
                FaultCode.WRONG_RECIPIENT, f"a {header.kind} message cannot be sent to {self.service}"
            )
        if header.service != self.service:
            raise Fault(FaultCode.WRONG_RECIPIENT, f"message for {header.service} arrived at {self.service}")
        catalogue = self.node.catalogue
        if self.notification:
            if header.client != header.service.provider:
                raise Fault(
                    FaultCode.SENDER_MISMATCH, f"{header.client} cannot notify as {header.service.provider}"
                )
            catalogue.check(self.node.participant, header.service, Right.SUBSCRIBE)
        else:
            entry = catalogue.check(header.client, header.service, Right.CALL)
            if entry.personal and (header.purpose is None or header.data_subject is None):
                raise Fault(
                    FaultCode.PERSONAL_DATA_UNDECLARED,
                    f"{header.service} handles personal data: declare purpose and dataSubject",
                )

    def _open(self, verified: VerifiedEnvelope) -> VerifiedEnvelope:
        """Decrypt a confidential message before anything acts on it; a request is refused before its
        handler runs when its caller has no encryption certificate to seal the response for."""
        if not self.node.confidential(verified.header):
            return verified
        opened = self.node.open(verified)
        if not self.notification:
            self.node.keys.recipient(verified.header.client)
        return opened

    def _run(self, verified: VerifiedEnvelope, redelivered: bool) -> tuple[Header, bytes, Fault | None]:
        header = verified.header
        fault: Fault
        try:
            request = decode(verified.payload, self.inbound_model, self.contract.schema)
            ctx = Context(header, self.node.scope, redelivered, verified.digest)
            resources = {name: ctx.use(resource) for name, resource in self.injected.items()}
            result = self.function(request, ctx, **resources)
            if not isinstance(result, self.outbound_model):
                raise TypeError(
                    f"handler returned {type(result).__name__}, not {self.outbound_model.__name__}"
                )
            try:
                payload = encode(result, self.contract.schema)
            except Fault as broken:  # the provider's own answer breaks its contract: not the caller's fault
                raise TypeError(broken.reason) from None
            answer_header, answer = self.node.answer(self.answer_kind, verified, payload)
            return answer_header, answer, None
        except ServiceError as error:
            fault = error.as_fault()
        except Fault as fault_raised:
            fault = fault_raised
        except Exception as error:
            refused = self.refusals.fault_of(error)
            if refused is None:
                log.exception("handler failed", service=str(self.service), id=header.id)
                refused = Fault(
                    FaultCode.HANDLER_ERROR,
                    f"the service failed on message {header.id}; the provider logged it",
                )
            fault = refused
        answer_header, answer = bound_fault(
            self.node, fault, service=header.service, request=verified.raw, correlation_id=header.id
        )
        return answer_header, answer, fault

    def _send(self, delivery: Delivery, request: Header, answer: bytes, *, message_id: str) -> None:
        message = OutgoingMessage(answer, message_id=message_id, correlation_id=request.id)
        if self.notification:  # the transport settles the notification once the receipt is confirmed
            try:
                self.node.transport.answer_to_inbox(delivery, str(request.client), message)
            except Fault:  # the transport is closing: the broker redelivers, the stored receipt goes then
                delivery.requeue()
            return
        try:
            if delivery.reply_to:
                self.node.transport.reply(delivery, message)
        except Fault as fault:
            if fault.code is FaultCode.BROKER_UNAVAILABLE:
                delivery.requeue()  # the stored answer is sent again on redelivery
                return
            log.warning("answer not delivered", id=request.id, fault=str(fault.code), reason=fault.reason)

    def _send_fault(
        self,
        delivery: Delivery,
        fault: Fault,
        *,
        request: bytes,
        correlation_id: str | None,
        to: Header | None = None,
    ) -> None:
        """Sign and send a fault bound to ``request`` as received; ``correlation_id`` only when verified."""
        if self.notification and to is None:
            return
        header, answer = bound_fault(
            self.node, fault, service=self.service, request=request, correlation_id=correlation_id
        )
        peer = str(to.client) if to is not None else None
        self.node.record("out", answer, header=header, outcome="fault", fault=fault, peer=peer)
        if to is not None:
            self._send(delivery, to, answer, message_id=header.id)
        elif delivery.reply_to:
            try:
                self.node.transport.reply(
                    delivery,
                    OutgoingMessage(answer, message_id=header.id, correlation_id=delivery.message_id),
                )
            except Fault as error:
                log.warning("fault not delivered", fault=str(error.code), reason=error.reason)


def _claim(header: Header) -> str:
    """The idempotency key: the sender and its id. Ids are chosen by senders, so one participant's id
    must never collide with another's (a co-subscriber reusing a notification's id would otherwise make
    this participant refuse the genuine notification as a replay)."""
    return f"{header.client} {header.id}"
