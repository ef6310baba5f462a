"""A signer's delegations: give one to a signer of their administration for a period, end one early.

The period is chosen in local dates (Africa/Casablanca): from the start of the first day (or now, when
that is today) to the end of the last day. The book checks the rest (not to oneself, at most a year,
not already over) and records the signer's own participant as the principal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sdk import CallFailed
from web.i18n import N_
from web.pages import TIMEZONE
from web.security import checked_form
from web.workspace.agents import Role
from web.workspace.pages import AgentVisit
from web.workspace.signing.access import context, running, signatory, signers_of
from web.workspace.signing.pages import refusal, render

log = structlog.get_logger("govbus.web.workspace.signing")


def period(first: str, last: str, now: datetime) -> tuple[datetime, datetime]:
    """UTC bounds of the local days ``first`` to ``last`` (ISO dates); ValueError when unreadable."""
    start = datetime.combine(date.fromisoformat(first), time(0), TIMEZONE).astimezone(UTC)
    end = datetime.combine(date.fromisoformat(last) + timedelta(days=1), time(0), TIMEZONE).astimezone(UTC)
    return max(start, now), end - timedelta(milliseconds=1)


async def _page(page: AgentVisit, status_code: int = 200, error: str | None = None, **form: str) -> Response:
    agent = page.require(Role.SIGNER)
    book = signatory(page, agent)
    me = book.signatory.participant
    every = await run_in_threadpool(book.delegations)
    substitutes = [s for s in signers_of(page, agent.administration) if s[0] != me]
    today = datetime.now(TIMEZONE).date()
    values = {"from": today.isoformat(), "until": (today + timedelta(days=7)).isoformat(), **form}
    return render(
        page,
        "signing/delegations.html",
        status_code,
        **context(
            page,
            me=me,
            given=[d for d in every if d.principal == me],
            received=[d for d in every if d.substitute == me],
            running=running,
            now=datetime.now(UTC),
            substitutes=substitutes,
            form=values,
            error=error,
        ),
    )


async def page(request: Request) -> Response:
    """GET: the delegations given and received; POST: give one."""
    visit = AgentVisit.of(request)
    agent = visit.require(Role.SIGNER)
    if request.method != "POST":
        return await _page(visit)
    form = await checked_form(request, visit.session)
    book = signatory(visit, agent)
    substitute = str(form.get("substitute", ""))
    first, last = str(form.get("from", ""))[:10], str(form.get("until", ""))[:10]
    reason = str(form.get("reason", "")).strip()[:200] or None
    if substitute not in {s[0] for s in signers_of(visit, agent.administration)}:
        message = visit._(N_("Choose a signer of your administration."))
        return await _page(visit, 400, message, **{"from": first, "until": last})
    try:
        valid_from, valid_until = period(first, last, datetime.now(UTC))
    except ValueError:
        message = visit._(N_("Give the first and last day of the delegation."))
        return await _page(visit, 400, message, **{"from": first, "until": last})
    try:
        await run_in_threadpool(book.delegate, substitute, valid_from, valid_until, reason)
    except (CallFailed, ValueError) as error:
        return await _page(visit, 400, refusal(visit, error), **{"from": first, "until": last})
    log.info("web.signing_delegated", agent=agent.login, substitute=substitute)
    return visit.redirect("/workspace/sign/delegations")


async def end(request: Request) -> Response:
    """End one of the signer's own delegations now."""
    visit = AgentVisit.of(request)
    agent = visit.require(Role.SIGNER)
    await checked_form(request, visit.session)
    book = signatory(visit, agent)
    try:
        await run_in_threadpool(book.end_delegation, request.path_params["delegation"])
    except ValueError:
        raise HTTPException(404) from None
    except CallFailed as error:
        return await _page(visit, 400, refusal(visit, error))
    log.info("web.signing_delegation_ended", agent=agent.login)
    return visit.redirect("/workspace/sign/delegations")
