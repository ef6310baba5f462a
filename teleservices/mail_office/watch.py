"""Deadline alerts on a timer: each open letter's alert is logged when it appears or changes level.

``AlertWatch.latest`` keeps the last computation (also what ``mail.alerts`` answers, computed afresh);
the log lines (``mail_office.deadline_alert``, a warning once overdue) are what operators watch.
"""

from __future__ import annotations

import threading

import structlog

from sdk.periodic import Periodic
from teleservices.mail_office.deadlines import AlertLevel
from teleservices.mail_office.models import AlertEntry, Alerts
from teleservices.mail_office.office import MailOffice

log = structlog.get_logger(__name__)


class AlertWatch:
    """Computes ``office``'s alerts every ``interval`` seconds on its own thread."""

    def __init__(self, office: MailOffice, *, interval: float = 300.0) -> None:
        self.office = office
        self._levels: dict[str, AlertLevel] = {}
        self._latest: Alerts | None = None
        self._lock = threading.Lock()
        self._periodic = Periodic("mail-office-alerts", self.check, interval=interval)

    @property
    def latest(self) -> Alerts | None:
        """The alerts of the last check (None before the first)."""
        with self._lock:
            return self._latest

    def start(self) -> AlertWatch:
        self._periodic.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._periodic.stop(timeout)

    def check(self) -> list[AlertEntry]:
        """Compute the alerts now; log and return those that are new or changed level since the last check."""
        alerts = self.office.alert_list()
        with self._lock:
            changed = [a for a in alerts.alerts if self._levels.get(a.registration_number) is not a.level]
            self._levels = {a.registration_number: a.level for a in alerts.alerts}
            self._latest = alerts
        for alert in changed:
            emit = log.warning if alert.level is AlertLevel.OVERDUE else log.info
            emit(
                "mail_office.deadline_alert",
                office=self.office.participant,
                registration=alert.registration_number,
                level=alert.level.value,
                deadline=alert.deadline.isoformat(),
                days_left=alert.days_left,
                service=alert.service,
                agent=alert.agent,
            )
        return changed


__all__ = ["AlertWatch"]
