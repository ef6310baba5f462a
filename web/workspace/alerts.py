"""Deadlines and alerts: the open incoming letters near, at or past their processing deadline.

The office computes them (``mail.alerts``, from the desk system, the signed-in agent as ``userId``):
a clerk sees the whole office's, an agent or head of service their service's. ``/workspace/alerts``
lists them most urgent first; ``alert_levels`` gives each letter's level to the queue, which highlights
late letters in red and soon-due ones in amber, and ``alert_count`` is the badge of the menu.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sdk import Client
from teleservices.mail_office import ALERTS, AlertQuery, Alerts
from web.i18n import N_
from web.workspace.agents import Agent, Role
from web.workspace.pages import AgentVisit

ALERT_ROLES = (Role.CLERK, Role.AGENT, Role.HEAD)
LEVEL_LABELS = {"overdue": N_("Overdue"), "due": N_("Due today"), "approaching": N_("Due soon")}
_ORDER = {"overdue": 0, "due": 1, "approaching": 2}


def _alerts(desk: Client, office: str, agent: Agent) -> Alerts:
    whole = agent.has(Role.CLERK, Role.AUDITOR)
    query = AlertQuery(service=None if whole else agent.service)
    return desk.call(office, ALERTS, query, user_id=agent.actor)


async def alerts_of(page: AgentVisit, agent: Agent) -> Alerts | None:
    """The alerts the agent may see; None for an agent outside the mail (no administration or desk)."""
    office = agent.administration
    desk = page.workspace.desks.get(office) if office else None
    if office is None or desk is None or not agent.has(*ALERT_ROLES):
        return None
    if not agent.has(Role.CLERK) and agent.service is None:
        return None
    return await run_in_threadpool(_alerts, desk, office, agent)


def alert_levels(alerts: Alerts | None) -> dict[str, str]:
    """Registration number -> alert level, for highlighting a queue."""
    return {a.registration_number: a.level.value for a in alerts.alerts} if alerts else {}


async def alerts(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent = page.require(*ALERT_ROLES)
    found = await alerts_of(page, agent)
    entries = sorted(found.alerts, key=lambda a: (_ORDER[a.level.value], a.days_left)) if found else []
    return page.render(
        "alerts.html",
        entries=entries,
        day=found.day if found else None,
        levels=LEVEL_LABELS,
        alert_count=len(entries),
    )


routes = [Route("/alerts", alerts)]
