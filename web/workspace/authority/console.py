"""What every page of the bus authority console does first: the role check, the connection to the bus,
and, for a change, the confirmation page and the log line naming the administrator."""

from __future__ import annotations

from typing import Any

import structlog
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response

from web.workspace.agents import Agent, Role
from web.workspace.authority.settings import BusAccess
from web.workspace.pages import AgentVisit

log = structlog.get_logger("govbus.web.authority")


def admin(page: AgentVisit) -> tuple[Agent, BusAccess | None]:
    """The signed-in bus administrator (else 401/403) and the bus the console reaches (None: not connected)."""
    agent = page.require(Role.BUS_ADMIN)
    return agent, getattr(page.workspace, "bus", None)


def connected(bus: BusAccess | None) -> BusAccess:
    """The bus, or 404 for a page that needs it when the console is not connected."""
    if bus is None:
        raise HTTPException(404)
    return bus


def text(form: FormData, name: str, cap: int = 256) -> str:
    """A form field as stripped text of at most ``cap`` characters ("" when absent or a file)."""
    value = form.get(name, "")
    return value.strip()[:cap] if isinstance(value, str) else ""


def confirm(
    page: AgentVisit,
    form: FormData,
    *,
    action: str,
    question: str,
    fields: dict[str, str],
    changes: list[Any] | None = None,
    back: str,
) -> Response | None:
    """The confirmation page for a change, unless the form is the confirmed one (then None)."""
    if form.get("confirm") == "yes":
        return None
    return page.render(
        "authority/confirm.html", action=action, question=question, fields=fields, changes=changes, back=back
    )


def record_change(agent: Agent, action: str, **target: object) -> None:
    """Log a change made, under the administrator's ``actor`` (``bus.admin (Autorité du bus)``)."""
    log.info("web.authority_action", agent=agent.actor, action=action, **target)
