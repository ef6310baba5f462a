"""Anchoring over the bus: a participant's log checkpoints reach the audit participant.

``ANCHOR_CHECKPOINT`` (``audit.checkpoint`` v1, schemas/audit.xsd) is the request/reply contract: the
request is the signed ``audit:Checkpoint``, the answer the audit participant's ``audit:Anchored``
acknowledgement. A node whose catalogue grants it an anchor service queues every checkpoint its
message log signs and an ``AnchorSender`` thread delivers them, retrying with backoff; see
docs/audit-log.md. ``teleservices.audit_anchor`` is the audit side.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import lxml.etree as etree
import structlog
from pydantic_xml import attr, element

from bus.audit.anchor import AnchorStatus, AnchorStore, checkpoint_payload
from bus.audit.checkpoint import Checkpoint
from bus.ids import ParticipantId, ServiceId
from bus.registry.catalogue import Catalogue, Right
from sdk.contract import Payload, RequestReply

log = structlog.get_logger("govbus.anchoring")

NAMESPACE = "urn:govbus:audit:1"
NSMAP = {"audit": NAMESPACE}
DEFAULT_ANCHOR = "MA/GOV/AUDIT/anchor"
ANCHOR_ENV = "GOVBUS_AUDIT_ANCHOR_ID"
PURPOSE = "audit anchoring"

RETRY_INITIAL_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0
CALL_TIMEOUT_SECONDS = 10.0
FLUSH_SECONDS = 5.0


class CheckpointSignature(Payload, tag="signature", ns="audit", nsmap=NSMAP):
    algorithm: str = attr()
    value: str


class CheckpointMessage(Payload, tag="Checkpoint", ns="audit", nsmap=NSMAP):
    """A signed checkpoint of a participant's message log (``audit:Checkpoint``)."""

    participant: str = element()
    log: str = element()
    sequence: int = element()
    head: str = element()
    time: str = element()
    signature: CheckpointSignature
    certificate: str = element()

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> CheckpointMessage:
        return cls.from_xml_tree(cast(Any, checkpoint_payload(checkpoint)))

    def element(self) -> etree._Element:
        """The payload element, as ``AnchorStore.accept`` reads it."""
        return cast(etree._Element, self.to_xml_tree())


class Anchored(Payload, tag="Anchored", ns="audit", nsmap=NSMAP):
    """The audit participant's acknowledgement: which checkpoint it kept, and what that revealed."""

    participant: str = element()
    log: str = element()
    sequence: int = element()
    head: str = element()
    status: str = element()
    received: str = element()


ANCHOR_CHECKPOINT = RequestReply(
    "audit.checkpoint", 1, "schemas:audit.xsd", request=CheckpointMessage, response=Anchored
)


def anchor_participant() -> str:
    """The audit participant's id: ``$GOVBUS_AUDIT_ANCHOR_ID`` or ``MA/GOV/AUDIT/anchor``."""
    return os.environ.get(ANCHOR_ENV) or DEFAULT_ANCHOR


def anchor_service(catalogue: Catalogue, participant: ParticipantId) -> ServiceId | None:
    """The anchor service ``participant`` is granted to call (not its own), or None."""
    for entry in catalogue.providers_of(ANCHOR_CHECKPOINT.code, ANCHOR_CHECKPOINT.version):
        if entry.service.provider != participant and catalogue.allows(participant, entry.service, Right.CALL):
            return entry.service
    return None


AnchorCall = Callable[[ServiceId, "CheckpointMessage", float], "Anchored"]
"""Sends one checkpoint to the anchor service within a timeout and returns its acknowledgement."""


class AnchorSender:
    """Queues checkpoints and sends them to the anchor on a background thread, oldest first.

    Built before the message log (whose ``on_checkpoint`` is ``submit``: it only queues), started once
    the node can call (``start(call)``).

    A failed call is retried with exponential backoff; a checkpoint is dropped from the queue only once
    the anchor acknowledged it. ``close`` makes one last attempt at what is queued, within ``flush``
    seconds; what remains is lost with the process, but the log's latest checkpoint is queued again
    when the node starts.
    """

    def __init__(self, participant: ParticipantId, service: ServiceId) -> None:
        self.service = service
        self.acknowledged: list[Anchored] = []
        self._pending: deque[Checkpoint] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._log = log.bind(participant=str(participant), anchor=str(service))

    def submit(self, checkpoint: Checkpoint) -> None:
        """Queue a checkpoint (the ``on_checkpoint`` of the node's message log: never blocks)."""
        with self._cond:
            self._pending.append(checkpoint)
            self._cond.notify_all()

    @property
    def pending(self) -> list[Checkpoint]:
        with self._cond:
            return list(self._pending)

    def start(self, call: AnchorCall) -> None:
        """Deliver the queue with ``call`` on a background thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, args=(call,), name="govbus-anchor", daemon=True)
            self._thread.start()

    def close(self, flush: float = FLUSH_SECONDS) -> None:
        """Stop after one last attempt at each queued checkpoint, waiting at most ``flush`` seconds."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(flush)
        if self._pending:
            self._log.warning("audit.anchor_unsent", checkpoints=len(self._pending))

    def _run(self, call: AnchorCall) -> None:
        delay = RETRY_INITIAL_SECONDS
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closing)
                if not self._pending:
                    return
                checkpoint, closing = self._pending[0], self._closing
            if self._send(call, checkpoint, FLUSH_SECONDS if closing else CALL_TIMEOUT_SECONDS):
                with self._cond:
                    if self._pending and self._pending[0] is checkpoint:
                        self._pending.popleft()
                delay = RETRY_INITIAL_SECONDS
                continue
            if closing:
                return
            with self._cond:
                self._cond.wait_for(lambda: self._closing, timeout=delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)

    def _send(self, call: AnchorCall, checkpoint: Checkpoint, timeout: float) -> bool:
        try:
            answer = call(self.service, CheckpointMessage.of(checkpoint), timeout)
        except Exception as error:
            self._log.warning(
                "audit.anchor_failed",
                seq=checkpoint.seq,
                error=str(getattr(error, "code", "")) or repr(error),
            )
            return False
        self.acknowledged.append(answer)
        if answer.status == AnchorStatus.CONFLICT:
            self._log.error("audit.anchor_conflict", seq=checkpoint.seq, head=checkpoint.head)
        else:
            self._log.info("audit.anchored", seq=checkpoint.seq, status=answer.status)
        return True


__all__ = [
    "ANCHOR_CHECKPOINT",
    "ANCHOR_ENV",
    "DEFAULT_ANCHOR",
    "AnchorSender",
    "AnchorStatus",
    "AnchorStore",
    "Anchored",
    "CheckpointMessage",
    "CheckpointSignature",
    "anchor_participant",
    "anchor_service",
]
