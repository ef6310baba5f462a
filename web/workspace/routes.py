"""The workspace's pages: sign-in, the mail queues, one letter and its desk actions, the registers.

Each route checks the role first (``AgentVisit.require``) and then what the agent may see
(``visible``): a letter of another administration is never reachable (the desk used is the agent's own
administration's), and a letter of another service answers 404 to a service agent, exactly like a
letter that does not exist.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sdk import CallFailed, Client
from teleservices.mail_office import (
    ANSWER_CONSULTATION,
    ASSIGN,
    CLOSE,
    GIVE_OPINION,
    REDIRECT,
    REGISTER,
    REPLY,
    REQUEST_OPINION,
    SHOW,
    VALIDATE,
    AnswerConsultation,
    Assign,
    Close,
    GiveOpinion,
    Redirect,
    Reply,
    RequestOpinion,
    Show,
    Validate,
)
from teleservices.mail_office.models import MailRecord, Register, RegisterQuery
from teleservices.mail_office.workflow import Direction
from web.security import checked_form
from web.workspace.agents import Agent, Role
from web.workspace.alerts import alert_levels, alerts_of
from web.workspace.pages import AgentVisit
from web.workspace.signing.letters import letter_extras, with_signature

log = structlog.get_logger("govbus.web.workspace")
MAIL_ROLES = (Role.CLERK, Role.AGENT, Role.HEAD)
REGISTER_ROLES = (Role.CLERK, Role.HEAD, Role.AUDITOR)
ACTIONS: dict[str, tuple[Role, ...]] = {
    "assign": (Role.CLERK,),
    "redirect": (Role.CLERK, Role.HEAD),
    "request-opinion": (Role.AGENT, Role.HEAD),
    "give-opinion": (Role.AGENT, Role.HEAD),
    "validate": (Role.HEAD,),
    "reply": (Role.AGENT, Role.HEAD),
    "close": (Role.HEAD,),
    "answer-consultation": (Role.AGENT, Role.HEAD),
}
CONSULTATION_TYPE = "consultation"
"""The mail type of another administration's consultation: answered with ``answer-consultation``."""


def desk_of(page: AgentVisit, agent: Agent) -> tuple[str, Client]:
    office = agent.administration
    desk = page.workspace.desks.get(office) if office else None
    if office is None or desk is None:
        raise HTTPException(404)
    return office, desk


def whole_office(agent: Agent) -> bool:
    """Clerks and auditors see all their administration's mail; others only their service's."""
    return agent.has(Role.CLERK, Role.AUDITOR)


def consulted(agent: Agent, record: MailRecord) -> bool:
    """Whether the agent's service is asked for an opinion on the letter (and has not given it)."""
    return agent.service is not None and any(
        o.consulted == agent.service and o.given_by is None for o in record.opinions
    )


def visible(agent: Agent, record: MailRecord) -> bool:
    """Clerks and auditors: the office's letters; others: their service's, or those it is consulted on."""
    return whole_office(agent) or (
        agent.service is not None and (record.service == agent.service or consulted(agent, record))
    )


def allowed_actions(agent: Agent, record: MailRecord) -> set[str]:
    """The actions the agent's roles allow on this letter: an opinion is given by the consulted service
    only, and a consulted service does nothing else on the letter."""
    allowed = {name for name, roles in ACTIONS.items() if agent.has(*roles)}
    if not consulted(agent, record):
        allowed.discard("give-opinion")
    if record.mail_type != CONSULTATION_TYPE or record.status not in ("assigned", "validated"):
        allowed.discard("answer-consultation")
    if not whole_office(agent) and record.service != agent.service:
        allowed &= {"give-opinion"}
    return allowed


async def login(request: Request) -> Response:
    page = AgentVisit.of(request)
    if request.method == "POST":
        form = await checked_form(request, page.session)
        login_name = str(form.get("login", ""))[:64]
        key = f"agent:{login_name.strip().lower()}"
        throttle = page.workspace.throttle
        if throttle.blocked(key):
            return page.render(
                "login.html", 429, login=login_name, error=page._("Too many failures: wait 15 minutes.")
            )
        agent = await run_in_threadpool(
            page.workspace.agents.authenticate, login_name, str(form.get("password", ""))
        )
        if agent is None:
            throttle.failed(key)
            return page.render("login.html", 400, login=login_name, error=page._("Wrong login or password."))
        throttle.succeeded(key)
        if agent.totp:
            page.await_second_factor(agent)
            return page.redirect("/workspace/login/totp")
        page.sign_in(agent)
        log.info("web.agent_signed_in", agent=agent.login, administration=agent.administration)
        return page.redirect("/workspace/")
    return page.render("login.html", login="", error=None)


async def login_totp(request: Request) -> Response:
    page = AgentVisit.of(request)
    form = await checked_form(request, page.session) if request.method == "POST" else None
    pending = page.session.pending_user_id if page.session else None
    agent = page.workspace.agents.get(pending) if pending is not None else None
    if agent is None:
        return page.redirect("/workspace/login")
    if form is not None:
        if not page.workspace.agents.check_totp(agent.id, str(form.get("code", ""))):
            page.workspace.throttle.failed(f"agent:{agent.login}")
            return page.render("login_totp.html", 400, error=page._("Wrong or already used code."))
        page.sign_in(agent)
        return page.redirect("/workspace/")
    return page.render("login_totp.html", error=None)


async def logout(request: Request) -> Response:
    page = AgentVisit.of(request)
    await checked_form(request, page.session)
    page.sign_out()
    return page.redirect("/workspace/login")


async def home(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent = page.require()
    office = page.workspace.offices.get(agent.administration or "", agent.administration)
    found = await alerts_of(page, agent)
    return page.render("home.html", office=office, alert_count=len(found.alerts) if found else None)


def _register(desk: Client, office: str, agent: Agent, query: RegisterQuery) -> Register:
    return desk.call(office, REGISTER, query, user_id=agent.actor)


async def queue(request: Request) -> Response:
    """The incoming or outgoing queue: open letters of the agent's service (all services for a clerk)."""
    page = AgentVisit.of(request)
    agent = page.require(*MAIL_ROLES)
    office, desk = desk_of(page, agent)
    direction = (
        Direction.OUTGOING if request.query_params.get("direction") == "outgoing" else Direction.INCOMING
    )
    service = None if whole_office(agent) else agent.service
    if service is None and not whole_office(agent):
        raise HTTPException(403, "no service")
    query = RegisterQuery(direction=direction, service=service)
    register = await run_in_threadpool(_register, desk, office, agent, query)
    entries = [e for e in register.entries if e.status not in ("closed", "delivered")]
    levels = alert_levels(await alerts_of(page, agent))
    return page.render(
        "queue.html",
        direction=direction,
        register=register,
        entries=entries,
        levels=levels,
        alert_count=len(levels),
    )


async def _show(page: AgentVisit, agent: Agent, number: str) -> MailRecord:
    office, desk = desk_of(page, agent)
    try:
        record = await run_in_threadpool(
            desk.call, office, SHOW, Show(registration_number=number), user_id=agent.actor
        )
    except CallFailed as failure:
        if failure.service_code and failure.service_code.endswith("UnknownRegistration"):
            raise HTTPException(404) from None
        raise
    except ValueError:
        raise HTTPException(404) from None
    if not visible(agent, record):
        raise HTTPException(404)
    return record


async def letter(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent = page.require(*MAIL_ROLES, Role.AUDITOR)
    record = await _show(page, agent, request.path_params["number"])
    allowed = allowed_actions(agent, record)
    return page.render(
        "letter.html",
        record=record,
        allowed=allowed,
        error=None,
        services=_services(page),
        offices=_other_offices(page, agent.administration),
        **await letter_extras(page, agent, record),
    )


def _other_offices(page: AgentVisit, office: str | None) -> dict[str, str]:
    """The other administrations' offices an opinion may be asked of: participant id -> name."""
    return {o: name for o, name in page.workspace.offices.items() if o != office}


def _services(page: AgentVisit) -> list[str]:
    return list(page.workspace.services.get(page.agent.administration or "", ())) if page.agent else []


def _operation(action: str, number: str, form: Any, agent: Agent) -> tuple[Any, Any]:
    text = {
        name: str(form.get(name, "")).strip()
        for name in ("service", "reason", "comment", "subject", "body", "question", "opinion")
    }
    if action == "assign":
        return ASSIGN, Assign(
            registration_number=number, service=text["service"], comment=text["comment"] or None
        )
    if action == "redirect":
        return REDIRECT, Redirect(registration_number=number, service=text["service"], reason=text["reason"])
    if action == "request-opinion":
        return REQUEST_OPINION, RequestOpinion(
            registration_number=number, consulted=text["service"], question=text["question"]
        )
    if action == "answer-consultation":
        return ANSWER_CONSULTATION, AnswerConsultation(registration_number=number, opinion=text["opinion"])
    if action == "give-opinion":
        return GIVE_OPINION, GiveOpinion(registration_number=number, opinion=text["opinion"])
    if action == "validate":
        return VALIDATE, Validate(registration_number=number, comment=text["comment"] or None)
    if action == "close":
        return CLOSE, Close(registration_number=number, comment=text["comment"] or None)
    return REPLY, Reply(registration_number=number, subject=text["subject"], body=text["body"] or None)


async def act(request: Request) -> Response:
    """One desk action on a letter the agent may see, with the role the action needs."""
    page = AgentVisit.of(request)
    agent = page.require()
    form = await checked_form(request, page.session)
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise HTTPException(404)
    if not agent.has(*ACTIONS[action]):
        raise HTTPException(403, "role")
    number = request.path_params["number"]
    record = await _show(page, agent, number)
    if action not in allowed_actions(agent, record):
        raise HTTPException(403, "action")
    office, desk = desk_of(page, agent)
    consultable = {*_services(page), *_other_offices(page, office)}
    if action == "request-opinion" and str(form.get("service", "")).strip() not in consultable:
        raise HTTPException(400, "consulted")  # a tampered form: neither a service nor a known office
    try:
        contract, operation = _operation(action, number, form, agent)
        operation = with_signature(operation, form, page, agent)
        await run_in_threadpool(desk.call, office, contract, operation, user_id=agent.actor)
    except (ValueError, CallFailed) as error:
        message = getattr(error, "service_code", None) or page._("Refused data")
        allowed = allowed_actions(agent, record)
        return page.render(
            "letter.html",
            400,
            record=record,
            allowed=allowed,
            error=f"{message} : {error}",
            services=_services(page),
            offices=_other_offices(page, agent.administration),
            **await letter_extras(page, agent, record),
        )
    log.info("web.desk_action", agent=agent.login, action=action, number=number)
    return page.redirect(f"/workspace/mail/{number}")


def _query(request: Request, agent: Agent) -> RegisterQuery:
    params = request.query_params
    try:
        year = int(params.get("year") or date.today().year)
    except ValueError:
        raise HTTPException(400) from None
    return RegisterQuery(
        direction=Direction.OUTGOING if params.get("direction") == "outgoing" else Direction.INCOMING,
        year=year,
        text=params.get("text") or None,
        service=None if whole_office(agent) else agent.service,
    )


async def registers(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent = page.require(*REGISTER_ROLES)
    office, desk = desk_of(page, agent)
    try:
        query = _query(request, agent)
    except ValueError:
        raise HTTPException(400) from None
    register = await run_in_threadpool(_register, desk, office, agent, query)
    return page.render("registers.html", query=query, register=register)


async def registers_csv(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent = page.require(*REGISTER_ROLES)
    office, desk = desk_of(page, agent)
    try:
        query = _query(request, agent)
    except ValueError:
        raise HTTPException(400) from None
    register = await run_in_threadpool(_register, desk, office, agent, query)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "registration_number",
            "registered_at",
            "status",
            "subject",
            "sender",
            "recipient",
            "mail_type",
            "service",
            "deadline",
            "late",
        ]
    )
    for e in register.entries:
        writer.writerow(
            [
                e.registration_number,
                e.registered_at.isoformat(),
                e.status,
                e.subject,
                e.sender.name,
                e.recipient.name,
                e.mail_type,
                e.service or "",
                e.deadline.isoformat() if e.deadline else "",
                "yes" if e.late else "no",
            ]
        )
    name = f"registre-{query.direction}-{query.year}.csv"
    return page.finish(
        Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    )


routes = [
    Route("/", home),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/login/totp", login_totp, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/mail", queue),
    Route("/mail/{number:path}/do/{action}", act, methods=["POST"]),
    Route("/mail/{number:path}", letter),
    Route("/registers", registers),
    Route("/registers.csv", registers_csv),
]
