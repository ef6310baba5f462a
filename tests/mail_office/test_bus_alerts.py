"""Deadline alerts over the bus (``mail.alerts``) and on the office's timer, on an injected clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

from structlog.testing import capture_logs

from teleservices.mail_office.deadlines import AlertLevel
from teleservices.mail_office.models import AlertQuery, Assign, Close, Validate

from .bus_world import wait_until
from .conftest import MEF, PORTAL, letter


def _at(day: int) -> datetime:
    return datetime(2026, 3, day, 9, 0, tzinfo=UTC)


def _deposit(world, deposit) -> str:
    return world.call(PORTAL, MEF, deposit).registration_number


def _alerts(world, **query):
    alerts = world.desk(MEF, AlertQuery(**query))
    return alerts.day, [(a.registration_number, a.level, a.days_left, a.service) for a in alerts.alerts]


def test_alerts_follow_the_clock_and_leave_with_the_letter(world):
    complaint = _deposit(world, letter("Retard de paiement", mail_type="complaint"))
    request = _deposit(world, letter("Demande de mutation"))
    assert _alerts(world) == (date(2026, 3, 2), [])

    world.clock.set(_at(10))  # the complaint is due on Thursday 12 March (10 calendar days)
    assert _alerts(world) == (date(2026, 3, 10), [(complaint, AlertLevel.APPROACHING, 2, "finances")])
    world.clock.set(_at(12))
    assert _alerts(world)[1] == [(complaint, AlertLevel.DUE, 0, "finances")]
    world.clock.set(_at(31))  # the request is due today; the complaint is long overdue
    assert _alerts(world)[1] == [
        (complaint, AlertLevel.OVERDUE, -19, "finances"),
        (request, AlertLevel.DUE, 0, "rh"),
    ]
    assert _alerts(world, level=AlertLevel.OVERDUE)[1] == [(complaint, AlertLevel.OVERDUE, -19, "finances")]
    assert _alerts(world, service="rh")[1] == [(request, AlertLevel.DUE, 0, "rh")]

    world.desk(MEF, Assign(registration_number=complaint, service="finances"))
    world.desk(MEF, Validate(registration_number=complaint))
    world.desk(MEF, Close(registration_number=complaint))
    assert _alerts(world)[1] == [(request, AlertLevel.DUE, 0, "rh")]


def test_the_watch_computes_alerts_on_its_timer_and_logs_each_change_once(world):
    watch = world.mef.watch(world.nodes[MEF])
    wait_until(lambda: watch.latest is not None, what="the first check at start")
    assert watch.latest.alerts == []
    number = _deposit(world, letter(mail_type="complaint"))
    world.clock.set(_at(13))
    with capture_logs() as logs:
        changed = watch.check()
        again = watch.check()
    assert [(a.registration_number, a.level) for a in changed] == [(number, AlertLevel.OVERDUE)]
    assert again == []
    alerts = [entry for entry in logs if entry["event"] == "mail_office.deadline_alert"]
    assert [(a["registration"], a["level"], a["log_level"]) for a in alerts] == [
        (number, "overdue", "warning")
    ]
    assert watch.latest.day == date(2026, 3, 13)
