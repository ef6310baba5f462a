"""Who reaches the signature book from the workspace, as which participant, and what they may see.

- A signer (role ``signer``) acts as their own signatory participant (``Workspace.signers[login]``); an
  agent or head of service who builds folders acts as their administration's desk system.
- A folder is shown only when the book shows it to that participant (it is in its circuit, or a running
  delegation puts it there, or the desk submitted it) **and** it was submitted by the agent's own
  administration. Anything else answers 404, exactly like a folder that does not exist.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from teleservices.mail_office.parties import same_administration
from teleservices.signature_book.models import DelegationView, FolderView, StepView
from web.workspace.agents import Agent, Role
from web.workspace.pages import AgentVisit
from web.workspace.signing.book import BookGateway, FolderNotFound, SignatoryGateway

SUBMIT_ROLES = (Role.AGENT, Role.HEAD)
"""Who builds folders (as the administration's desk system)."""


def book_of(page: AgentVisit) -> str:
    book = page.workspace.signature_book
    if book is None:
        raise HTTPException(404)
    return str(book)


def signatory(page: AgentVisit, agent: Agent) -> SignatoryGateway:
    """The signer's own gateway; 403 when the account has no signing identity."""
    found = page.workspace.signers.get(agent.login)
    if found is None:
        raise HTTPException(403, "no signing identity")
    return SignatoryGateway(found, book_of(page))


def desk(page: AgentVisit, agent: Agent) -> BookGateway:
    client = page.workspace.desks.get(agent.administration or "")
    if client is None:
        raise HTTPException(404)
    return BookGateway(client, book_of(page))


def gateway(page: AgentVisit, agent: Agent) -> BookGateway:
    """The signer's own gateway for a signer, else the desk's for an agent who builds folders."""
    if agent.has(Role.SIGNER) and agent.login in page.workspace.signers:
        return signatory(page, agent)
    if agent.has(*SUBMIT_ROLES):
        return desk(page, agent)
    raise HTTPException(403, "role")


def visible_folder(agent: Agent, view: FolderView) -> bool:
    return agent.administration is not None and same_administration(view.submitter, agent.administration)


FOLDER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def folder_or_404(gateway: BookGateway, agent: Agent, folder_id: str) -> FolderView:
    """The folder as ``gateway``'s participant sees it; 404 unless it is the agent's administration's."""
    if not FOLDER_ID.match(folder_id):
        raise HTTPException(404)
    try:
        view: FolderView = await run_in_threadpool(gateway.folder, folder_id)
    except FolderNotFound:
        raise HTTPException(404) from None
    if not visible_folder(agent, view):
        raise HTTPException(404)
    return view


def signers_of(page: AgentVisit, administration: str | None) -> list[tuple[str, str]]:
    """(participant, "name (participant)") of the signers of ``administration``, by name."""
    found = []
    for login, signatory in page.workspace.signers.items():
        account = page.workspace.agents.by_login(login)
        if account is not None and administration and account.administration == administration:
            found.append((signatory.participant, f"{account.name} ({signatory.participant})"))
    return sorted(found, key=lambda item: item[1])


def names(page: AgentVisit) -> dict[str, str]:
    """Signatory participant -> the signer's name, for display."""
    found = {}
    for login, signatory in page.workspace.signers.items():
        account = page.workspace.agents.by_login(login)
        if account is not None:
            found[signatory.participant] = account.name
    return found


def active_step(view: FolderView) -> StepView | None:
    if view.status != "in-progress" or view.current_step is None:
        return None
    return view.steps[view.current_step - 1]


def running(delegation: DelegationView, now: datetime | None = None) -> bool:
    moment = now or datetime.now(UTC)
    return delegation.valid_from <= moment <= delegation.valid_until


def parts_to_fill(me: str, view: FolderView, received: list[DelegationView]) -> list[str | None]:
    """Whose part of the active step ``me`` may fill: ``None`` for their own, else each principal."""
    step = active_step(view)
    if step is None:
        return []
    filled = {a.on_behalf_of or a.actor for a in step.actions}
    parts: list[str | None] = []
    if me in step.signatories and me not in filled:
        parts.append(None)
    for delegation in received:
        principal = delegation.principal
        wanted = principal in step.signatories and principal not in filled and principal not in parts
        if wanted and running(delegation):
            parts.append(principal)
    return parts


def context(page: AgentVisit, **values: Any) -> dict[str, Any]:
    return {"names": names(page), **values}
