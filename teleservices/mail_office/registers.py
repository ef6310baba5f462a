"""The incoming (A) and outgoing (D) registers, the deadlines they watch, and their CSV export.

A letter is *late* when it is incoming, not yet replied to or closed, and its deadline (a local date) is
before today's local date. An alert is raised from ``alert_days`` calendar days before a deadline.
Every question is answered from one read transaction, as of the office's local date at ``at``.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from typing import TextIO

from teleservices.mail_office.deadlines import Alert, alert_level
from teleservices.mail_office.ledger import Ledger
from teleservices.mail_office.models import (
    AlertEntry,
    AlertQuery,
    Alerts,
    Register,
    RegisterEntry,
    RegisterQuery,
    format_utc_millis,
)

CSV_COLUMNS = (
    "registration_number",
    "direction",
    "registered_at",
    "status",
    "subject",
    "mail_type",
    "sender_kind",
    "sender_identifier",
    "sender_name",
    "recipient_kind",
    "recipient_identifier",
    "recipient_name",
    "service",
    "agent",
    "deadline",
    "late",
    "linked_registration",
    "in_reply_to",
)


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never evaluates as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _line(query: RegisterQuery, entry: RegisterEntry) -> list[str]:
    return [
        _cell(value)
        for value in (
            entry.registration_number,
            query.direction.value,
            format_utc_millis(entry.registered_at),
            entry.status.value,
            entry.subject,
            entry.mail_type,
            entry.sender.kind.value,
            entry.sender.identifier,
            entry.sender.name,
            entry.recipient.kind.value,
            entry.recipient.identifier,
            entry.recipient.name,
            entry.service,
            entry.agent,
            entry.deadline.isoformat() if entry.deadline else None,
            "yes" if entry.late else "no",
            entry.linked_registration,
            entry.in_reply_to,
        )
    ]


class Registers:
    """Reads one office's registers."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def register(self, query: RegisterQuery, *, at: datetime | None = None) -> Register:
        """A page of a register with counts per status and the number of late letters."""
        with self._ledger.store.read() as tx:
            return tx.registers.search(query, self._ledger.local_date(at))

    def export_csv(self, query: RegisterQuery, out: TextIO, *, at: datetime | None = None) -> int:
        """Every letter matching ``query`` (paging ignored) as CSV on ``out``; returns how many."""
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        count = 0
        with self._ledger.store.read() as tx:
            for entry in tx.registers.every(query, self._ledger.local_date(at)):
                writer.writerow(_line(query, entry))
                count += 1
        return count

    def late(self, *, at: datetime | None = None) -> list[RegisterEntry]:
        """Incoming letters past their deadline and not yet answered or closed."""
        with self._ledger.store.read() as tx:
            return tx.registers.late(self._ledger.local_date(at))

    def alerts(self, *, at: datetime | None = None) -> list[Alert]:
        """Open incoming letters within ``alert_days`` of their deadline, due today, or overdue."""
        today = self._ledger.local_date(at)
        alert_days = self._ledger.config.alert_days
        with self._ledger.store.read() as tx:
            rows = tx.registers.open_due_by(today + timedelta(days=alert_days))
        alerts = []
        for row in rows:
            due = row.deadline
            if due is None:  # open_due_by selects letters with a deadline
                continue
            level = alert_level(due, today, alert_days)
            if level is not None:
                alerts.append(
                    Alert(
                        registration_number=row.number,
                        level=level,
                        deadline=due,
                        days_left=(due - today).days,
                        subject=row.subject,
                        service=row.service,
                        agent=row.agent,
                    )
                )
        return alerts

    def alert_list(self, query: AlertQuery | None = None, *, at: datetime | None = None) -> Alerts:
        """``alerts`` as the contract's ``Alerts``, limited to ``query``'s level and service."""
        moment = at or self._ledger.now()
        query = query or AlertQuery()
        return Alerts(
            day=self._ledger.local_date(moment),
            alerts=[
                AlertEntry(
                    registration_number=alert.registration_number,
                    level=alert.level,
                    deadline=alert.deadline,
                    days_left=alert.days_left,
                    subject=alert.subject,
                    service=alert.service,
                    agent=alert.agent,
                )
                for alert in self.alerts(at=moment)
                if query.level in (None, alert.level) and query.service in (None, alert.service)
            ],
        )
