"""The access tracker participant: ``govbus run teleservices.access_tracker:app``.

Providers of services the catalogue marks personal report each access (``access.report``); the
catalogue grants ``access.query`` to the portal only, so only the portal lists a subject's accesses.
"""

from __future__ import annotations

from collections.abc import Iterator

from bus.envelope import DataSubject
from bus.faults import Fault
from sdk import Context, Environment, Provider, ServiceError, inject
from teleservices.access_tracker.contract import (
    QUERY_ACCESSES,
    REPORT_ACCESS,
    Accesses,
    AccessQuery,
    AccessReport,
    Recorded,
)
from teleservices.access_tracker.store import AccessRegister

PARTICIPANT = "MA/GOV/ADD/tracker"
NOT_OWN_ACCESS = "AccessTracker.NotOwnAccess"
BAD_SUBJECT = "AccessTracker.InvalidSubject"

app = Provider(PARTICIPANT)


def _register(env: Environment) -> Iterator[AccessRegister]:
    with AccessRegister.open(env.data_dir) as register:
        yield register


REGISTER = app.resource(_register)


@app.implement(REPORT_ACCESS)
def report(report: AccessReport, ctx: Context, register: AccessRegister = inject(REGISTER)) -> Recorded:
    """Keep the access; a provider reports only accesses it answered itself."""
    if report.provider != str(ctx.client):
        raise ServiceError(f"{ctx.client} cannot report an access by {report.provider}", code=NOT_OWN_ACCESS)
    register.add(report)
    return Recorded(message_id=report.message_id)


@app.implement(QUERY_ACCESSES)
def query(request: AccessQuery, ctx: Context, register: AccessRegister = inject(REGISTER)) -> Accesses:
    """Every access reported about the subject, most recent first."""
    try:
        subject = str(DataSubject.parse(request.subject))
    except Fault as fault:
        raise ServiceError(fault.reason, code=BAD_SUBJECT) from None
    return Accesses(accesses=register.of_subject(subject))
