"""Handing the outbox over: each message sent, then marked sent in a transaction of its own.

A letter's deposit is built (attachments read back and checked) only when it is sent; the recipient's
acknowledgement is recorded in the transaction that marks the letter sent, so a letter whose
acknowledgement does not fit stays pending. A message that fails stays pending with its error.

Two drivers use these steps: ``sdk.outbox.OutboxPump`` over the bus (``dispatch``), and ``drain``, one
synchronous pass for offices in one process (``delivery.Courier``). Both keep each destination's
messages in order: after a failure, that destination's later messages wait.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace

from teleservices.mail_office.errors import NotDeliverable
from teleservices.mail_office.ledger import Ledger
from teleservices.mail_office.models import Acknowledgement, ConsultationOpinion, OpinionReceipt
from teleservices.mail_office.outbox import DrainReport, OutboxKind, OutboxMessage, Sink
from teleservices.mail_office.outgoing import Outgoing
from teleservices.mail_office.parties import same_administration


class Handover:
    """One office's outbox: pending messages, and the steps that hand one over."""

    def __init__(self, ledger: Ledger, outgoing: Outgoing) -> None:
        self._ledger = ledger
        self._outgoing = outgoing

    def pending(self, limit: int | None = None, exclude: Collection[str] = ()) -> list[OutboxMessage]:
        """Messages not yet handed over, oldest first, except those to ``exclude`` (a letter's payload is
        built only to send it)."""
        with self._ledger.store.read() as tx:
            return tx.outbox.pending(limit, exclude)

    def hand_over(self, message: OutboxMessage, sink: Sink) -> None:
        """Send ``message`` with ``sink`` and mark it sent (a letter: with its acknowledgement), or raise."""
        store = self._ledger.store
        if message.kind is OutboxKind.LETTER:
            with store.read() as tx:
                letter = self._outgoing.deposit_of(tx, tx.mails.get(message.registration_number))
            message = replace(message, payload=letter)
        result = sink(message)
        with store.write() as tx:
            if message.kind is OutboxKind.LETTER:
                if not isinstance(result, Acknowledgement):
                    raise NotDeliverable(f"{message.registration_number}: no acknowledgement came back")
                self._outgoing.delivered(tx, tx.mails.get(message.registration_number), result)
            elif message.kind is OutboxKind.CONSULTATION and not (
                isinstance(result, Acknowledgement)
                and same_administration(result.office, message.destination)
            ):
                raise NotDeliverable(
                    f"{message.registration_number}: {message.destination} did not acknowledge"
                )
            elif message.kind is OutboxKind.OPINION and not (
                isinstance(result, OpinionReceipt)
                and isinstance(message.payload, ConsultationOpinion)
                and result.registration_number == message.payload.registration_number
            ):
                raise NotDeliverable(f"{message.registration_number}: the opinion was not received")
            tx.outbox.mark_sent(message.id, self._ledger.now())

    def failed(self, message: OutboxMessage, error: Exception) -> str:
        """Keep ``message`` pending with the reason it failed (returned)."""
        reason = f"{type(error).__name__}: {error}"
        with self._ledger.store.write() as tx:
            tx.outbox.mark_failed(message.id, reason, self._ledger.now())
        return reason

    def drain(self, sink: Sink, *, to: Callable[[str], bool] | None = None) -> DrainReport:
        """One pass: hand pending messages to ``sink`` in order; ``to`` limits it to the destinations it
        accepts. A failed message holds back the later ones to its destination."""
        sent: list[int] = []
        failed: list[tuple[int, str]] = []
        held: list[int] = []
        blocked: set[str] = set()
        for message in self.pending():
            destination = message.destination
            if to is not None and not to(destination):
                continue
            if destination in blocked:
                held.append(message.id)
                continue
            try:
                self.hand_over(message, sink)
            except Exception as error:
                failed.append((message.id, self.failed(message, error)))
                blocked.add(destination)
            else:
                sent.append(message.id)
        return DrainReport(sent=tuple(sent), failed=tuple(failed), held=tuple(held))
