"""One workspace request: the agent's session and account, rendering, and the role checks.

Every route starts with ``AgentVisit.of(request)`` and ``require(...)``: an agent without one of the
roles gets 403, a visitor without a session is sent to ``/workspace/login``. What an agent may *see*
is narrowed further by ``may_see`` (their administration; their service unless they are a clerk,
auditor or head).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import jinja2
from babel.dates import format_date, format_datetime
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from web.i18n import LANGUAGES, N_, Language, choose
from web.pages import LANG_COOKIE, TIMEZONE
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
    Role.CLERK: N_("Mail office clerk"),
    Role.AGENT: N_("Service agent"),
    Role.HEAD: N_("Head of service"),
    Role.SIGNER: N_("Signatory"),
    Role.AUDITOR: N_("Auditor"),
    Role.BUS_ADMIN: N_("Bus administrator"),
}
"""Role -> English message id of its label (translated by ``AgentVisit.role``)."""

STATUS_LABELS = {
    "registered": N_("Registered"),
    "assigned": N_("Assigned"),
    "awaiting-opinion": N_("Awaiting an opinion"),
    "validated": N_("Validated"),
    "replied": N_("Replied"),
    "closed": N_("Closed (mail)"),
    "delivered": N_("Delivered"),
}
"""Mail status -> English message id of its label (translated by ``AgentVisit.status``)."""


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

    @cached_property
    def language(self) -> Language:
        """The portal's choice: the ``lang`` cookie (the header's switch), else the browser's, else French."""
        return choose(self.request.cookies.get(LANG_COOKIE), self.request.headers.get("accept-language"))

    def _(self, message: str, /, **values: object) -> str:
        text = self.language.translations.gettext(message)
        return text % values if values else text

    def markup(self, message: str, /, **values: object) -> Markup:
        """``_`` for templates: the catalogue's text is trusted markup, the values are escaped into it."""
        text = Markup(self.language.translations.gettext(message))  # noqa: S704 - our own catalogues
        return text % values if values else text

    def when(self, moment: datetime) -> str:
        """A date and time in the page's language, in the administration's time zone."""
        return format_datetime(moment, "short", tzinfo=TIMEZONE, locale=self.language.locale)

    def day(self, value: date) -> str:
        return format_date(value, "short", locale=self.language.locale)

    def status(self, code: str) -> str:
        return self._(STATUS_LABELS[code]) if code in STATUS_LABELS else code

    def role(self, role: Role) -> str:
        return self._(ROLE_LABELS[role])

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
            "_": self.markup,
            "visit": self,
            "lang": self.language.code,
            "dir": self.language.direction,
            "languages": LANGUAGES,
            "roles": {role: self.role(role) for role in Role},
            "statuses": {code: self.status(code) for code in STATUS_LABELS},
            "Role": Role,
            "tz": TIMEZONE,
            "error": None,
            **context,
        }
        return self.finish(templates.TemplateResponse(self.request, name, values, status_code=status_code))
