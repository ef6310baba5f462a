"""What every page knows about its request (session, account, language) and how pages are rendered.

Templates are autoescaped Jinja2; text goes through ``_`` (the request's language). Every page that
shows a form has a session, anonymous before sign-in, so that the form carries its CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from web.accounts import User
from web.i18n import LANGUAGES, N_, Language, choose
from web.sessions import Session, Sessions
from web.visits import SessionCookie, SessionVisit

if TYPE_CHECKING:
    from web.app import Portal

SESSION_COOKIE = "govbus_session"
LANG_COOKIE = "lang"
TIMEZONE = ZoneInfo("Africa/Casablanca")

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=environment)

STATUS_LABELS = {
    "registered": N_("Registered"),
    "assigned": N_("Assigned to a service"),
    "awaiting-opinion": N_("Awaiting an opinion"),
    "validated": N_("Validated"),
    "replied": N_("Answered"),
    "closed": N_("Closed"),
    "delivered": N_("Delivered"),
}
ACTION_LABELS = {
    "register": N_("Registration"),
    "assign": N_("Assignment"),
    "redirect": N_("Redirection"),
    "request-opinion": N_("Opinion requested"),
    "give-opinion": N_("Opinion given"),
    "validate": N_("Validation"),
    "reply": N_("Reply"),
    "close": N_("Closing"),
    "deliver": N_("Delivery"),
}


@dataclass
class Visit(SessionVisit):
    """One request as the portal sees it."""

    cookie: ClassVar[SessionCookie] = SessionCookie(SESSION_COOKIE, "/", "lax")

    request: Request
    portal: Portal
    session: Session | None
    user: User | None
    language: Language
    cookies: list[Session] = field(default_factory=list)

    def _(self, message: str, **values: object) -> str:
        return self.language.gettext(message, **values)

    @property
    def secure(self) -> bool:
        return self.portal.secure_cookies or self.request.url.scheme == "https"

    @property
    def sessions(self) -> Sessions:
        return self.portal.sessions

    def sign_in(self, user: User) -> None:
        """A new session for ``user``: the old one (and its CSRF token) ends."""
        self._signed_in(user.id)
        self.user = user

    def await_second_factor(self, user: User) -> None:
        self._awaiting_second_factor(user.id)

    def sign_out(self) -> None:
        self._signed_out()
        self.user = None

    # Formatting for templates, in the page's language and the administration's time zone.

    def when(self, moment: datetime) -> str:
        return format_datetime(moment, "medium", tzinfo=TIMEZONE, locale=self.language.locale)

    def day(self, value: date) -> str:
        return format_date(value, "long", locale=self.language.locale)

    def status(self, code: str) -> str:
        return self._(STATUS_LABELS.get(code, code))

    def action(self, code: str) -> str:
        return self._(ACTION_LABELS.get(code, code))

    def render(self, name: str, status_code: int = 200, **context: Any) -> Response:
        session = self.ensure_session()
        values = {
            "_": self._,
            "visit": self,
            "user": self.user,
            "csrf": session.csrf,
            "lang": self.language.code,
            "dir": self.language.direction,
            "languages": LANGUAGES,
            "path": self.request.url.path,
            **context,
        }
        return self.finish(templates.TemplateResponse(self.request, name, values, status_code=status_code))


def visit(request: Request) -> Visit:
    portal: Portal = request.app.state.portal
    session = portal.sessions.get(request.cookies.get(SESSION_COOKIE))
    user = portal.accounts.get(session.user_id) if session and session.user_id is not None else None
    language = choose(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    return Visit(request, portal, session, user, language)
