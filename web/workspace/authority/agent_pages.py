"""Agent administration in the authority console (``/workspace/authority/agents``, role ``bus-admin``).

The bus administrator creates an administration's agents, sets their roles, administration and service,
resets a password and disables an agent. Every change is a POST with the session's CSRF token, first
answered by a confirmation page; only the confirmed form acts, and it is logged
(``web.authority_action``) with the administrator's identity. A new password is drawn at random and
shown once, in the answer to the confirmed POST (``no-store``); only its argon2id hash is kept.
Disabling or resetting a password ends the agent's sessions. An administrator cannot disable
themselves (the console is never left without the one using it).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.i18n import language
from web.security import checked_form
from web.workspace.agent_cli import new_password
from web.workspace.agents import Agent, AgentError, Agents, Role
from web.workspace.authority.console import admin, confirm, record_change, text
from web.workspace.pages import AgentVisit

BACK = "/workspace/authority/agents"


def _french(message: str, **values: object) -> str:
    """The French text of ``message`` (the workspace's language)."""
    return language("fr").gettext(message, **values)


def _roles(form: FormData) -> frozenset[Role]:
    """The roles ticked (``role`` checkboxes) or carried by a confirmation page (``roles``, comma-joined)."""
    names = [v for v in form.getlist("role") if isinstance(v, str)]
    names += text(form, "roles").split(",")
    try:
        return frozenset(Role(n.strip()) for n in names if n.strip())
    except ValueError:
        raise HTTPException(400, "role") from None


def _target(agents: Agents, request: Request) -> Agent:
    try:
        found = agents.get(int(request.path_params["agent"]))
    except ValueError:
        found = None
    if found is None:
        raise HTTPException(404)
    return found


def _placement(page: AgentVisit, form: FormData, roles: frozenset[Role]) -> tuple[str | None, str | None]:
    """Administration and service from the form, checked against the offices the workspace serves."""
    administration = text(form, "administration") or None
    service = text(form, "service", 64) or None
    offices = page.workspace.offices
    if administration is not None and administration not in offices:
        raise AgentError(f"{administration} n'est pas une administration de cet espace")
    known = page.workspace.services.get(administration, ()) if administration else ()
    if service is not None and known and service not in known:
        raise AgentError(f"le service {service} n'existe pas dans {administration}")
    if Role.BUS_ADMIN in roles:
        service = None
    return administration, service


async def _page(page: AgentVisit, status: int = 200, **context: object) -> Response:
    agents = await run_in_threadpool(page.workspace.agents.all)
    response = page.render(
        "authority/agents.html",
        status,
        agents=agents,
        all_roles=list(Role),
        offices=page.workspace.offices,
        _=_french,
        **{"done": None, "shown": None, **context},
    )
    response.headers["cache-control"] = "no-store"
    return response


async def agents_page(request: Request) -> Response:
    page = AgentVisit.of(request)
    admin(page)
    return await _page(page)


async def add(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent, _ = admin(page)
    form = await checked_form(request, page.session)
    roles = _roles(form)
    login, name = text(form, "login", 64).lower(), text(form, "name")
    try:
        administration, service = _placement(page, form, roles)
    except AgentError as error:
        return await _page(page, 400, error=str(error))
    asked = confirm(
        page,
        form,
        action=f"{BACK}/add",
        question=f"Créer l'agent {login} ({name}), rôles {', '.join(sorted(roles)) or 'aucun'}, "
        f"administration {administration or 'aucune'}, service {service or 'aucun'} ?",
        fields={
            "login": login,
            "name": name,
            "roles": ",".join(sorted(roles)),
            "administration": administration or "",
            "service": service or "",
        },
        back=BACK,
    )
    if asked is not None:
        return asked
    password = new_password()
    try:
        created = await run_in_threadpool(
            lambda: page.workspace.agents.create(
                login=login,
                name=name,
                password=password,
                roles=roles,
                administration=administration,
                service=service,
            )
        )
    except AgentError as error:
        return await _page(page, 400, error=str(error))
    record_change(agent, "agent.add", login=created.login, roles=sorted(created.roles))
    return await _page(page, shown=(created.login, password))


async def update(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent, _ = admin(page)
    form = await checked_form(request, page.session)
    target = _target(page.workspace.agents, request)
    roles = _roles(form)
    try:
        administration, service = _placement(page, form, roles)
    except AgentError as error:
        return await _page(page, 400, error=str(error))
    if target.id == agent.id and Role.BUS_ADMIN not in roles:
        return await _page(page, 400, error="vous ne pouvez pas retirer votre propre rôle bus-admin")
    asked = confirm(
        page,
        form,
        action=f"{BACK}/{target.id}/update",
        question=f"Donner à {target.login} les rôles {', '.join(sorted(roles)) or 'aucun'}, "
        f"administration {administration or 'aucune'}, service {service or 'aucun'} ?",
        fields={
            "roles": ",".join(sorted(roles)),
            "administration": administration or "",
            "service": service or "",
        },
        back=BACK,
    )
    if asked is not None:
        return asked
    try:
        await run_in_threadpool(
            lambda: page.workspace.agents.update(
                target.id, roles=roles, administration=administration, service=service
            )
        )
    except AgentError as error:
        return await _page(page, 400, error=str(error))
    record_change(agent, "agent.update", login=target.login, roles=sorted(roles), service=service)
    return await _page(page, done=f"{target.login} : rôles et service enregistrés")


async def reset_password(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent, _ = admin(page)
    form = await checked_form(request, page.session)
    target = _target(page.workspace.agents, request)
    asked = confirm(
        page,
        form,
        action=f"{BACK}/{target.id}/reset-password",
        question=f"Donner un nouveau mot de passe à {target.login} ? Ses sessions ouvertes seront fermées.",
        fields={},
        back=BACK,
    )
    if asked is not None:
        return asked
    password = new_password()
    await run_in_threadpool(page.workspace.agents.reset_password, target.id, password)
    record_change(agent, "agent.reset-password", login=target.login)
    return await _page(page, shown=(target.login, password))


async def disable(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent, _ = admin(page)
    form = await checked_form(request, page.session)
    target = _target(page.workspace.agents, request)
    if target.id == agent.id:
        return await _page(page, 400, error="vous ne pouvez pas désactiver votre propre compte")
    asked = confirm(
        page,
        form,
        action=f"{BACK}/{target.id}/disable",
        question=f"Désactiver {target.login} ? Il ne pourra plus se connecter et ses sessions seront fermées.",
        fields={},
        back=BACK,
    )
    if asked is not None:
        return asked
    await run_in_threadpool(page.workspace.agents.disable, target.id)
    record_change(agent, "agent.disable", login=target.login)
    return await _page(page, done=f"{target.login} est désactivé")


routes = [
    Route("/agents", agents_page),
    Route("/agents/add", add, methods=["POST"]),
    Route("/agents/{agent:int}/update", update, methods=["POST"]),
    Route("/agents/{agent:int}/reset-password", reset_password, methods=["POST"]),
    Route("/agents/{agent:int}/disable", disable, methods=["POST"]),
]
