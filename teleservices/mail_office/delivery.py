"""Delivery between mail offices in one process: what the bus does between machines, as a direct call.

An outgoing letter waits in its office's outbox; delivering it deposits it with the recipient's office
(which registers it as incoming and acknowledges it) and records the acknowledgement on the sender's side,
linking the two registrations. Status changes of a letter deposited by another office go back to that
office the same way. Over the bus, the SDK's sink makes the same two calls remotely.
"""

from __future__ import annotations

from teleservices.mail_office.models import Acknowledgement, Deposit, StatusChange
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.outbox import DrainReport, OutboxKind, OutboxMessage, Sink
from teleservices.mail_office.parties import member


class UnknownOffice(LookupError):
    """No office of the courier's round is, or belongs to, the destination."""


class Courier:
    """Carries outbox messages between the offices it knows."""

    def __init__(self, *offices: MailOffice) -> None:
        self._offices = {office.participant: office for office in offices}

    def office(self, destination: str) -> MailOffice | None:
        """The office ``destination`` names: itself, or the only office of that administration."""
        if destination in self._offices:
            return self._offices[destination]
        candidates = [o for p, o in self._offices.items() if member(p) == member(destination)]
        return candidates[0] if len(candidates) == 1 else None

    def sink(self, sender: MailOffice) -> Sink:
        """A sink that hands ``sender``'s messages to the recipient office directly."""

        def send(message: OutboxMessage) -> Acknowledgement | None:
            recipient = self.office(message.destination)
            if recipient is None:
                raise UnknownOffice(f"no mail office for {message.destination}")
            payload = message.payload
            if message.kind is OutboxKind.LETTER and isinstance(payload, Deposit):
                return recipient.deposit(payload, channel=sender.participant)
            if message.kind is OutboxKind.STATUS_CHANGE and isinstance(payload, StatusChange):
                recipient.record_status_change(payload, sender=sender.participant)
                return None
            raise TypeError(f"outbox message {message.id}: {message.kind} with a {type(payload).__name__}")

        return send

    def deliver(self, sender: MailOffice) -> DrainReport:
        """Drain ``sender``'s messages addressed to known offices; others stay pending."""
        return sender.drain(self.sink(sender), to=lambda destination: self.office(destination) is not None)

    def run(self, *, rounds: int = 10) -> int:
        """Deliver until no office has anything left for another; returns how many messages moved."""
        moved = 0
        for _ in range(rounds):
            sent = sum(len(self.deliver(office).sent) for office in self._offices.values())
            if not sent:
                break
            moved += sent
        return moved
