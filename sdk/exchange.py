"""One signed request/reply exchange from a node: sign, log, send (with retries), verify the reply.

``Client.call`` and the node's anchoring both go through ``call``; nothing here holds state.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import TypeVar

import lxml.etree as etree

from bus.envelope import DataSubject, Header, MessageKind, VerifiedEnvelope
from bus.envelope.subject import subject_text
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.transport.base import OutgoingMessage
from sdk.anchoring import ANCHOR_CHECKPOINT, PURPOSE, AnchorCall, Anchored, CheckpointMessage
from sdk.contract import Payload, RequestReply, decode, encode
from sdk.errors import CallFailed
from sdk.fault_message import fault_from_payload
from sdk.node import Node

R = TypeVar("R", bound=Payload)
Q = TypeVar("Q", bound=Payload)


def call(
    node: Node,
    provider: ParticipantId | str,
    contract: RequestReply[Q, R],
    request: Q,
    *,
    purpose: str | None = None,
    user_id: str | None = None,
    timeout: float = 10.0,
    retries: int = 2,
    data_subject: DataSubject | str | None = None,
) -> R:
    """``provider``'s typed response to ``request``; ``CallFailed`` on a fault, a bad reply or no reply."""
    service = contract.service_of(provider)
    payload = outgoing(request, contract.schema)
    verified = exchange(node, service, payload, purpose, user_id, timeout, retries, data_subject)
    try:
        return decode(verified.payload, contract.response, contract.schema)
    except Fault as fault:
        raise CallFailed(fault.code, fault.reason) from None


def outgoing(payload: Payload, schema: str) -> etree._Element:
    """``payload`` encoded and checked against ``schema``; ``CallFailed`` (nothing sent) when it breaks it."""
    try:
        return encode(payload, schema)
    except Fault as fault:
        raise CallFailed(fault.code, fault.reason) from None
    except ValueError as error:  # text XML cannot carry (a NUL byte, a control character)
        raise CallFailed(
            FaultCode.PAYLOAD_SCHEMA_VIOLATION, f"outgoing payload is not XML: {error}"
        ) from None


def exchange(
    node: Node,
    service: ServiceId,
    payload: etree._Element,
    purpose: str | None,
    user_id: str | None,
    timeout: float,
    retries: int,
    data_subject: DataSubject | str | None = None,
) -> VerifiedEnvelope:
    """Sign, send (with retries), verify the reply; return the verified response or raise CallFailed."""
    try:
        node.catalogue.service(service)
        subject = subject_text(data_subject)
    except Fault as fault:
        raise CallFailed(fault.code, fault.reason) from None
    header = Header.new(
        MessageKind.REQUEST,
        node.participant,
        service,
        ttl=timedelta(seconds=timeout + 30),
        purpose=purpose,
        user_id=user_id,
        data_subject=subject,
    )
    raw = node.sign(header, payload)
    started = time.perf_counter()
    node.record("out", raw, header=header, outcome="sent")
    reply = _request(node, service, header, raw, timeout=timeout, retries=retries)
    try:
        verified = node.answer_verifier.verify(reply)
        answer = verified.header
        if answer.correlation_id != header.id or answer.kind not in (MessageKind.RESPONSE, MessageKind.FAULT):
            raise Fault(FaultCode.RESPONSE_MISMATCH, "the reply does not answer this request")
        if answer.client != service.provider:
            raise Fault(FaultCode.SENDER_MISMATCH, f"reply signed by {answer.client}, not {service.provider}")
        if answer.kind is MessageKind.RESPONSE and answer.request_hash != hashlib.sha256(raw).hexdigest():
            raise Fault(FaultCode.RESPONSE_MISMATCH, "the reply's requestHash is not this request's digest")
    except Fault as fault:
        node.record(
            "in", reply, header=None, outcome="rejected", fault=fault, started=started, service=str(service)
        )
        raise CallFailed(fault.code, fault.reason) from None
    if answer.kind is MessageKind.FAULT:
        failed = fault_from_payload(verified.payload)
        node.record("in", reply, header=answer, outcome="fault", fault=failed, started=started)
        raise failed
    node.record("in", reply, header=answer, outcome="accepted", started=started)
    return verified


def _request(
    node: Node, service: ServiceId, header: Header, raw: bytes, *, timeout: float, retries: int
) -> bytes:
    """Publish the request once and wait up to ``timeout`` for its reply.

    The request waits in the provider's durable queue, and the transport re-sends a pending request
    itself when its connection (and with it the reply address) was re-established, so a timeout never
    re-publishes: one unanswered call leaves exactly one copy, dead-lettered when it expires (a second
    after the call gave up). ``retries`` re-sends only after the transport reported the broker
    unavailable, while time remains; the provider answers a repeat of the same id idempotently.
    """
    deadline = time.monotonic() + timeout
    for attempt in range(max(1, retries + 1)):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        message = OutgoingMessage(raw, message_id=header.id, expiration_ms=int(remaining * 1000) + 1000)
        try:
            return node.transport.request(str(service), message, timeout=remaining).body
        except Fault as fault:
            if fault.code is FaultCode.TIMEOUT:
                break
            if fault.code is not FaultCode.BROKER_UNAVAILABLE or attempt == retries:
                node.record("out", raw, header=header, outcome="failed", fault=fault)
                raise CallFailed(fault.code, fault.reason) from None
    raise CallFailed(FaultCode.TIMEOUT, f"no reply from {service} within {timeout:g} s")


def call_anchor(node: Node) -> AnchorCall:
    """The ``AnchorCall`` of ``node``: one attempt per checkpoint, the sender retries with backoff."""

    def send(service: ServiceId, checkpoint: CheckpointMessage, timeout: float) -> Anchored:
        return call(
            node, service.provider, ANCHOR_CHECKPOINT, checkpoint, purpose=PURPOSE, timeout=timeout, retries=0
        )

    return send
