"""Handing the outbox over: pending messages go to a sink in order, each marked sent once the sink returns.

When a message fails (the sink raises, or a letter's acknowledgement does not fit), it stays pending with
its error, and later messages to the same destination are held back so that they keep their order.
A letter's deposit is built (attachments read back and checked) only when it is sent; the recipient's
acknowledgement is recorded in the transaction that marks the letter sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from teleservices.mail_office.errors import NotDeliverable
from teleservices.mail_office.ledger import Ledger
from teleservices.mail_office.models import Acknowledgement
from teleservices.mail_office.outbox import DrainReport, OutboxKind, OutboxMessage, Sink
from teleservices.mail_office.outgoing import Outgoing


class Handover:
    """Drains one office's outbox; ``outgoing`` builds letters and records their delivery."""

    def __init__(self, ledger: Ledger, outgoing: Outgoing) -> None:
        self._ledger = ledger
        self._outgoing = outgoing

    def pending(self) -> list[OutboxMessage]:
        """Messages not yet handed over, oldest first (a letter's payload is built only to send it)."""
        with self._ledger.store.read() as tx:
            return tx.outbox.pending()

    def drain(self, sink: Sink, *, to: Callable[[str], bool] | None = None) -> DrainReport:
        """Hand pending messages to ``sink``; ``to`` limits the drain to the destinations it accepts."""
        store = self._ledger.store
        sent: list[int] = []
        failed: list[tuple[int, str]] = []
        held: list[int] = []
        blocked: set[str] = set()
        for pending in self.pending():
            destination = pending.destination
            if to is not None and not to(destination):
                continue
            if destination in blocked:
                held.append(pending.id)
                continue
            try:
                message = pending
                if pending.kind is OutboxKind.LETTER:
                    with store.read() as tx:
                        letter = self._outgoing.deposit_of(tx, tx.mails.get(pending.registration_number))
                    message = replace(pending, payload=letter)
                result = sink(message)
                with store.write() as tx:
                    if message.kind is OutboxKind.LETTER:
                        if not isinstance(result, Acknowledgement):
                            raise NotDeliverable(
                                f"{message.registration_number}: no acknowledgement came back"
                            )
                        self._outgoing.delivered(tx, tx.mails.get(message.registration_number), result)
                    tx.outbox.mark_sent(message.id, self._ledger.now())
                sent.append(message.id)
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                with store.write() as tx:
                    tx.outbox.mark_failed(pending.id, reason, self._ledger.now())
                failed.append((pending.id, reason))
                blocked.add(destination)
        return DrainReport(sent=tuple(sent), failed=tuple(failed), held=tuple(held))
