"""One signed request/reply exchange from a node: sign, log, send (with retries), verify the reply.

``Client.call`` and the node's anchoring both go through ``call``; nothing here holds state.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TypeVar

import lxml.etree as etree

from bus.envelope import DataSubject, Header, MessageKind, VerifiedEnvelope
from bus.envelope.binding import check_answer
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
    try:
        raw = node.sign(header, payload)
    except Fault as fault:  # a confidential service whose recipient cannot be sealed for: nothing sent
        raise CallFailed(fault.code, fault.reason) from None
    started = time.perf_counter()
    node.record("out", raw, header=header, outcome="sent")
    verified, reply = _request(node, service, header, raw, timeout=timeout, retries=retries, started=started)
    answer = verified.header
    if answer.kind is MessageKind.FAULT:
        failed = fault_from_payload(verified.payload)
        node.record("in", reply, header=answer, outcome="fault", fault=failed, started=started)
        raise failed
    try:
        verified = node.open(verified)
    except Fault as fault:
        node.record("in", reply, header=answer, outcome="rejected", fault=fault, started=started)
        raise CallFailed(fault.code, fault.reason) from None
    node.record("in", reply, header=answer, outcome="accepted", started=started)
    return verified


def _request(
    node: Node,
    service: ServiceId,
    header: Header,
    raw: bytes,
    *,
    timeout: float,
    retries: int,
    started: float,
) -> tuple[VerifiedEnvelope, bytes]:
    """Publish the request once and wait up to ``timeout`` for a reply bound to it; return it verified.

    The request waits in the provider's durable queue, and the transport re-sends a pending request
    itself when its connection (and with it the reply address) was re-established, so a timeout never
    re-publishes: one unanswered call leaves exactly one copy, dead-lettered when it expires (a second
    after the call gave up). ``retries`` re-sends only after the transport reported the broker
    unavailable, or after a reply that does not verify or does not answer these bytes
    (``bus.envelope.binding``: logged as rejected), while time remains; the provider answers a repeat of
    the same id idempotently. So another participant publishing to this reply address cannot end the
    call with one message; when every attempt got such a reply, the last refusal is raised.
    """
    deadline = time.monotonic() + timeout
    refused: Fault | None = None
    for attempt in range(max(1, retries + 1)):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        message = OutgoingMessage(raw, message_id=header.id, expiration_ms=int(remaining * 1000) + 1000)
        try:
            reply = node.transport.request(str(service), message, timeout=remaining).body
        except Fault as fault:
            if fault.code is FaultCode.TIMEOUT:
                break
            if fault.code is not FaultCode.BROKER_UNAVAILABLE or attempt == retries:
                node.record("out", raw, header=header, outcome="failed", fault=fault)
                raise CallFailed(fault.code, fault.reason) from None
            continue
        verified: VerifiedEnvelope | None = None
        try:
            verified = node.answer_verifier.verify(reply)
            check_answer(header, raw, verified.header, service.provider)
        except Fault as fault:
            node.record(
                "in",
                reply,
                header=None,
                outcome="rejected",
                fault=fault,
                started=started,
                service=str(service),
            )
            refused = _unbound(fault, verified, service)
            continue
        return verified, reply
    if refused is not None:
        raise CallFailed(refused.code, refused.reason)
    raise CallFailed(FaultCode.TIMEOUT, f"no reply from {service} within {timeout:g} s")


def _unbound(fault: Fault, reply: VerifiedEnvelope | None, service: ServiceId) -> Fault:
    """The refusal to report for a reply that is not this call's answer: a fault the provider signed
    about other bytes (the request altered on the way, or someone else's message) says so."""
    if reply is None or reply.header.kind is not MessageKind.FAULT or reply.header.client != service.provider:
        return fault
    try:
        theirs = fault_from_payload(reply.payload)
    except Fault:
        return fault
    return Fault(
        fault.code,
        f"{fault.reason}: the provider refused bytes other than this request (altered on the way?) "
        f"with {theirs.code}: {theirs.reason}",
    )


def call_anchor(node: Node) -> AnchorCall:
    """The ``AnchorCall`` of ``node``: one attempt per checkpoint, the sender retries with backoff."""

    def send(service: ServiceId, checkpoint: CheckpointMessage, timeout: float) -> Anchored:
        return call(
            node, service.provider, ANCHOR_CHECKPOINT, checkpoint, purpose=PURPOSE, timeout=timeout, retries=0
        )

    return send
