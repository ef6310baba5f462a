"""One workspace request: the agent's session and account, rendering, and the role checks.

Every route starts with ``AgentVisit.of(request)`` and ``require(...)``: an agent without one of the
roles gets 403, a visitor without a session is sent to ``/workspace/login``. What an agent may *see*
is narrowed further by ``may_see`` (their administration; their service unless they are a clerk,
auditor or head).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from web.pages import TIMEZONE
from web.sessions import Session, Sessions
from web.visits import SessionCookie, SessionVisit
from web.workspace.agents import Agent, Role

COOKIE = "govbus_agent"
environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=environment)
ROLE_LABELS = {
    Role.CLERK: "Agent du bureau d'ordre",
    Role.AGENT: "Agent de service",
    Role.HEAD: "Chef de service",
    Role.SIGNER: "Signataire",
    Role.AUDITOR: "Auditeur",
    Role.BUS_ADMIN: "Administrateur du bus",
}

STATUS_LABELS = {
    "registered": "Enregistré",
    "assigned": "Affecté",
    "awaiting-opinion": "En attente d'avis",
    "validated": "Validé",
    "replied": "Répondu",
    "closed": "Clos",
    "delivered": "Remis",
}


class SignInFirst(HTTPException):
    def __init__(self) -> None:
        super().__init__(401)


@dataclass
class AgentVisit(SessionVisit):
    request: Request
    session: Session | None
    agent: Agent | None
    cookies: list[Session] = field(default_factory=list)
    cookie: ClassVar[SessionCookie] = SessionCookie(COOKIE, "/workspace", "strict")

    @classmethod
    def of(cls, request: Request) -> AgentVisit:
        workspace = request.app.state.workspace
        session = workspace.sessions.get(request.cookies.get(COOKIE))
        agent = workspace.agents.get(session.user_id) if session and session.user_id is not None else None
        return cls(request, session, agent)

    @property
    def workspace(self) -> Any:
        return self.request.app.state.workspace

    def require(self, *roles: Role) -> Agent:
        """The signed-in agent holding one of ``roles`` (any role when none given); else 401/403."""
        if self.agent is None:
            raise SignInFirst()
        if roles and not self.agent.has(*roles):
            raise HTTPException(403, "role")
        return self.agent

    @property
    def sessions(self) -> Sessions:
        sessions: Sessions = self.workspace.sessions
        return sessions

    def sign_in(self, agent: Agent) -> None:
        """A new session for ``agent``: the old one (and its CSRF token) ends."""
        self._signed_in(agent.id)
        self.agent = agent

    def await_second_factor(self, agent: Agent) -> None:
        self._awaiting_second_factor(agent.id)

    def sign_out(self) -> None:
        self._signed_out()
        self.agent = None

    def redirect(self, url: str) -> Response:
        return self.finish(RedirectResponse(url, status_code=303))

    def render(self, name: str, status_code: int = 200, **context: Any) -> Response:
        session = self.ensure_session()
        values = {
            "agent": self.agent,
            "csrf": session.csrf,
            "path": self.request.url.path,
            "roles": ROLE_LABELS,
            "statuses": STATUS_LABELS,
            "Role": Role,
            "tz": TIMEZONE,
            "error": None,
            **context,
        }
        return self.finish(templates.TemplateResponse(self.request, name, values, status_code=status_code))
