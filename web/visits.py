"""The session side of a page visit, shared by the portal's pages and the agents' workspace.

A visit has the request, its session (``None`` before one is needed) and the sessions it created or
renewed (``cookies``: the last one is set on the response). Signing in renews the session (new token and
CSRF token), waiting for a second factor gives a half session, signing out ends it and clears the cookie.
Each side names its cookie (``SessionCookie``: the portal's ``govbus_session`` on ``/``, ``SameSite=Lax``;
the workspace's ``govbus_agent`` on ``/workspace``, ``SameSite=Strict``) and its ``Sessions`` table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from starlette.requests import Request
from starlette.responses import Response

from web.sessions import Session, Sessions


@dataclass(frozen=True, slots=True)
class SessionCookie:
    name: str
    path: str
    samesite: Literal["lax", "strict"]


class SessionVisit:
    """Session handling for a visit; subclasses are dataclasses with ``request``, ``session``, ``cookies``."""

    request: Request
    session: Session | None
    cookies: list[Session]
    cookie: ClassVar[SessionCookie]

    @property
    def sessions(self) -> Sessions:
        raise NotImplementedError

    @property
    def secure(self) -> bool:
        """Whether the cookie is ``Secure`` (the request came over HTTPS)."""
        return self.request.url.scheme == "https"

    def ensure_session(self) -> Session:
        """The session (an anonymous one is created for forms before sign-in)."""
        if self.session is None:
            self.session = self.sessions.create()
            self.cookies.append(self.session)
        return self.session

    def _signed_in(self, account_id: int) -> None:
        """A new session for the account: the old one (and its CSRF token) ends."""
        self.session = self.sessions.renew(self.session, account_id)
        self.cookies.append(self.session)

    def _awaiting_second_factor(self, account_id: int) -> None:
        self.session = self.sessions.await_second_factor(self.session, account_id)
        self.cookies.append(self.session)

    def _signed_out(self) -> None:
        self.sessions.end(self.session)
        self.session = None

    def finish(self, response: Response) -> Response:
        """Set or clear the session cookie on ``response``."""
        cookie = self.cookie
        for session in self.cookies[-1:]:
            response.set_cookie(
                cookie.name,
                session.token,
                max_age=int(self.sessions.lifetime),
                path=cookie.path,
                secure=self.secure,
                httponly=True,
                samesite=cookie.samesite,
            )
        if self.session is None and self.request.cookies.get(cookie.name):
            response.delete_cookie(
                cookie.name, path=cookie.path, secure=self.secure, httponly=True, samesite=cookie.samesite
            )
        return response
