"""An answer is bound to the request as received: its ``requestHash`` is the SHA-256 of the request's
bytes, and a response also names the request's id in ``correlationId``.

A fault about a message the provider could not verify names no id (an id the message merely claims
proves nothing) and carries only the hash of the bytes received, so only the sender of exactly those
bytes can take it as its answer.
"""

from __future__ import annotations

import hashlib

from bus.envelope.model import Header, MessageKind
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId


def request_digest(request: bytes) -> str:
    """The ``requestHash`` of an answer to ``request``: SHA-256 (hex) of its bytes."""
    return hashlib.sha256(request).hexdigest()


def check_answer(request: Header, request_bytes: bytes, answer: Header, provider: ParticipantId) -> None:
    """Raise the ``Fault`` that says why ``answer`` (already verified) does not answer this request.

    ``Server.ResponseMismatch`` for another kind than response or fault, another ``correlationId``
    (a fault may name none), or a ``requestHash`` that is not this request's digest;
    ``Client.SenderMismatch`` when someone other than the called provider signed it.
    """
    if answer.kind not in (MessageKind.RESPONSE, MessageKind.FAULT):
        raise Fault(FaultCode.RESPONSE_MISMATCH, f"a {answer.kind} message does not answer a request")
    if answer.correlation_id != request.id and not (
        answer.kind is MessageKind.FAULT and answer.correlation_id is None
    ):
        raise Fault(FaultCode.RESPONSE_MISMATCH, "the reply does not answer this request")
    if answer.client != provider:
        raise Fault(FaultCode.SENDER_MISMATCH, f"reply signed by {answer.client}, not {provider}")
    if answer.request_hash != request_digest(request_bytes):
        raise Fault(FaultCode.RESPONSE_MISMATCH, "the reply's requestHash is not this request's digest")
