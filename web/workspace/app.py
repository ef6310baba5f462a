"""The workspace beside the portal: ``Workspace`` holds the agents, their sessions and each office's desk.

``mount(app, workspace)`` adds ``/workspace/...`` to the portal's Starlette application. Desk actions
go to the administration's mail office over the bus, through that administration's desk system
(``desks[office]``), with the signed-in agent as the envelope's ``userId``: the office records that
agent as the actor of the action (mail_office/service.py), never a name typed in a form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from bus.registry.catalogue import Catalogue
from sdk import Client
from web.db import Database
from web.letters import Letters
from web.sessions import LoginThrottle, Sessions
from web.workspace.agents import Agents
from web.workspace.authority.settings import BusAccess

if TYPE_CHECKING:
    from web.workspace.signing.book import Signatory


@dataclass
class Workspace:
    db: Database
    desks: Mapping[str, Client]
    """Each administration's desk system, by its mail office's participant id."""
    catalogue: Callable[[], Catalogue] | None = None
    """The bus's current signed catalogue, for the authority console."""
    offices: dict[str, str] = field(default_factory=dict)
    """Office participant id -> display name."""
    services: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Office participant id -> its services (for assigning and redirecting)."""
    bus: BusAccess | None = None
    """The bus home, broker and workers the auditor and authority consoles reach (None: not connected)."""
    signers: Mapping[str, Signatory] = field(default_factory=dict)
    """Each signer's own signatory application (client and key), by agent login (``signing/``)."""
    signature_book: str | None = None
    """The signature book's participant id (``None``: no signature book pages)."""

    def __post_init__(self) -> None:
        self.agents = Agents(self.db)
        self.sessions = Sessions(self.db, table="agent_sessions")
        self.throttle = LoginThrottle(self.db, limit=5)
        self.letters = Letters(self.db)
        """The portal's letters, where counter letters are kept with their signed acknowledgement."""


def mount(app: Starlette, workspace: Workspace) -> Starlette:
    """Serve the workspace under ``/workspace`` in the portal's application."""
    from web.workspace.alerts import routes as alert_routes
    from web.workspace.audit.routes import routes as audit_routes
    from web.workspace.authority.routes import overview as authority_overview
    from web.workspace.authority.routes import routes as authority_routes
    from web.workspace.counter import routes as counter_routes
    from web.workspace.pages import SignInFirst
    from web.workspace.routes import routes
    from web.workspace.send import routes as send_routes
    from web.workspace.signing.routes import routes as signing_routes

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/workspace/login", status_code=303)

    app.state.workspace = workspace
    app.add_exception_handler(SignInFirst, sign_in_first)
    # A Mount swallows every path under its prefix: the consoles' mounts come before "/workspace".
    app.router.routes.insert(
        0,
        Mount("/workspace", routes=[*signing_routes, *counter_routes, *alert_routes, *send_routes, *routes]),
    )
    app.router.routes.insert(0, Mount("/workspace/audit", routes=audit_routes))
    app.router.routes.insert(0, Mount("/workspace/authority", routes=authority_routes))
    app.router.routes.insert(0, Route("/workspace/authority", authority_overview))
    return app
