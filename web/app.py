"""The ASGI application: ``create_app(portal)``, where ``Portal`` holds the portal's stores and its bus side."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from teleservices.mail_office import Deposit, StatusChange
from web.accounts import Accounts, SecondFactor
from web.db import Database
from web.directory import DIRECTORY_FILE, OfficeDirectory
from web.events import EventHub, ReplyEvent, StatusEvent
from web.i18n import N_
from web.letters import Letters
from web.oidc import OidcLogin, OidcSettings
from web.pages import visit
from web.participant import DEFAULT_PORTAL_ID, PortalParticipant
from web.routes import account, events, letters, my_data, procurement, verify
from web.security import HEADERS, BodyLimit, SecurityHeaders
from web.sessions import LoginThrottle, Sessions
from web.uploads import UploadLimits

log = structlog.get_logger("govbus.web")
DATABASE_FILE = "portal.sqlite3"
STATIC = Path(__file__).parent / "static"


@dataclass
class Portal:
    """Everything the pages use: the portal's database, its directory of offices, its bus participant."""

    db: Database
    directory: OfficeDirectory
    participant: PortalParticipant
    limits: UploadLimits = field(default_factory=UploadLimits)
    secure_cookies: bool = False
    oidc_settings: OidcSettings | None = None
    hub: EventHub = field(default_factory=EventHub)
    closing: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.accounts = Accounts(self.db)
        self.second_factor = SecondFactor(self.db)
        self.sessions = Sessions(self.db)
        self.throttle = LoginThrottle(self.db, limit=5)
        self.address_throttle = LoginThrottle(self.db, limit=30)
        self.letters = Letters(self.db)
        self.oidc = OidcLogin(self.oidc_settings, self.db) if self.oidc_settings is not None else None

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        participant: str = DEFAULT_PORTAL_ID,
        secure_cookies: bool = False,
        oidc_settings: OidcSettings | None = None,
    ) -> Portal:
        """A portal keeping its files in ``data_dir``, with its bus participant wired to the live events.

        Start the participant on a node (``portal.participant.start(node)``) before serving pages.
        """
        holder: list[Portal] = []
        bus_side = PortalParticipant(
            participant,
            on_change=lambda office, change: holder[0].status_changed(office, change),
            on_letter=lambda office, letter: holder[0].letter_received(office, letter),
        )
        portal = cls(
            Database(data_dir / DATABASE_FILE),
            OfficeDirectory.load(data_dir / DIRECTORY_FILE),
            bus_side,
            secure_cookies=secure_cookies,
            oidc_settings=oidc_settings,
        )
        holder.append(portal)
        return portal

    def status_changed(self, office: str, change: StatusChange) -> None:
        """DepositorSystem's ``on_change``: tell the letter's owner's open pages."""
        owner = self.letters.owner_of(office, change.registration_number)
        if owner is not None:
            self.hub.publish(owner[0], StatusEvent(owner[1], office, change))

    def letter_received(self, office: str, letter: Deposit) -> None:
        """DepositorSystem's ``on_letter``: a reply for one of the portal's users."""
        user = self.accounts.by_identifier(letter.recipient.identifier)
        if user is not None:
            self.hub.publish(user.id, ReplyEvent(office, letter))

    def close(self) -> None:
        self.closing.set()
        self.participant.stop()
        self.db.close()


ERROR_MESSAGES = {
    400: N_("The request could not be read."),
    401: N_("Sign in to see this page."),
    403: N_("This form has expired or did not come from this site. Go back, reload the page and try again."),
    404: N_("This page does not exist, or it is not yours."),
    405: N_("This address does not accept this kind of request."),
    413: N_("What you sent is larger than the portal accepts."),
    429: N_("Too many attempts. Wait a few minutes before trying again."),
    500: N_("Something went wrong on our side. Nothing you deposited is lost; try again in a moment."),
}


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 401:
        from web.routes.account import redirect

        return redirect("/login")
    page = visit(request)
    return page.render(
        "error.html", status, status=status, message=ERROR_MESSAGES.get(status, ERROR_MESSAGES[400])
    )


async def server_error(request: Request, exc: Exception) -> Response:
    """Any unexpected exception: logged with its traceback here, a readable page for the browser."""
    log.error("web.error", path=request.url.path, error=repr(exc), exc_info=exc)
    try:
        response = await http_error(request, exc)
    except Exception:  # even the error page failed (database gone): plain text, still no traceback
        response = Response("Internal error", status_code=500, media_type="text/plain")
    for name, value in (*HEADERS, (b"cache-control", b"no-store")):  # outside the middleware stack here
        response.headers[name.decode()] = value.decode()
    return response


def create_app(portal: Portal) -> Starlette:
    app = Starlette(
        debug=False,
        routes=[
            *account.routes,
            *letters.routes,
            *verify.routes,
            *my_data.routes,
            *procurement.routes,
            *events.routes,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(BodyLimit, limit=portal.limits.max_request_bytes),
        ],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.portal = portal
    return app
