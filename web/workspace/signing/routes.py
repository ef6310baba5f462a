"""The signer's pages: pending folders, a folder and its documents, the actions, the evidence bundle.

Every route checks the role first, then asks the book as the agent's own participant (``access``): a
folder the book does not show them, or one of another administration, answers 404. Every action is a
POST with the session's CSRF token; the actor the book records is the verified envelope signer, the
signer's own signatory participant, never a form field.
"""

from __future__ import annotations

import re

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sdk import CallFailed
from teleservices.signature_book.models import FolderView
from web.security import checked_form
from web.workspace.agents import Role
from web.workspace.pages import AgentVisit
from web.workspace.signing import delegations, submit
from web.workspace.signing.access import (
    SUBMIT_ROLES,
    active_step,
    context,
    folder_or_404,
    gateway,
    parts_to_fill,
    signatory,
    visible_folder,
)
from web.workspace.signing.book import FolderNotFound, SignatoryGateway
from web.workspace.signing.pages import ERRORS, refusal, render
from web.workspace.signing.viewer import NotViewable, pdf_page_png, view

log = structlog.get_logger("govbus.web.workspace.signing")
ACTIONS = ("approve", "sign", "reject", "undo")
VIEW_ROLES = (Role.SIGNER, *SUBMIT_ROLES)


async def pending(request: Request) -> Response:
    """The folders awaiting the signer (or a principal whose delegation runs), then the others."""
    page = AgentVisit.of(request)
    agent = page.require(Role.SIGNER)
    book = signatory(page, agent)
    me = book.signatory.participant
    waiting = await run_in_threadpool(book.folders, awaiting=me)
    every = await run_in_threadpool(book.folders)
    ids = {f.folder_id for f in waiting.folders}
    others = [f for f in every.folders if f.folder_id not in ids]
    return render(
        page, "signing/pending.html", **context(page, waiting=waiting.folders, others=others, me=me)
    )


async def _folder_page(
    page: AgentVisit, view: FolderView, *, status_code: int = 200, error: str | None = None
) -> Response:
    agent = page.require(*VIEW_ROLES)
    book = gateway(page, agent)
    parts: list[str | None] = []
    me = None
    if isinstance(book, SignatoryGateway):
        me = book.signatory.participant
        received = [d for d in await run_in_threadpool(book.delegations) if d.substitute == me]
        parts = parts_to_fill(me, view, received)
    mine = me is not None and any(h.actor == me and h.kind in ("approved", "signed") for h in view.history)
    return render(
        page,
        "signing/folder.html",
        status_code,
        **context(
            page,
            folder=view,
            step=active_step(view),
            parts=parts,
            me=me,
            may_undo=mine and view.status == "in-progress",
            error=error,
        ),
    )


async def folder(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent = page.require(*VIEW_ROLES)
    view = await folder_or_404(gateway(page, agent), agent, request.path_params["folder"])
    return await _folder_page(page, view)


def _text(form: object, name: str, limit: int) -> str | None:
    value = str(form.get(name, "")).strip()[:limit]  # type: ignore[attr-defined]
    return value or None


async def act(request: Request) -> Response:
    """Approve, sign, reject (with a reason) or undo, as the signer, possibly for a principal."""
    page = AgentVisit.of(request)
    agent = page.require(Role.SIGNER)
    form = await checked_form(request, page.session)
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise HTTPException(404)
    book = signatory(page, agent)
    folder_id = request.path_params["folder"]
    view = await folder_or_404(book, agent, folder_id)
    on_behalf_of = _text(form, "on_behalf_of", 200)
    try:
        if action == "approve":
            result = await run_in_threadpool(
                book.approve, folder_id, on_behalf_of=on_behalf_of, comment=_text(form, "comment", 2000)
            )
        elif action == "sign":
            result = await run_in_threadpool(book.sign, folder_id, on_behalf_of=on_behalf_of)
        elif action == "reject":
            reason = _text(form, "reason", 2000)
            if reason is None:
                return await _folder_page(
                    page, view, status_code=400, error=page._(ERRORS["SignatureBook.ReasonRequired"])
                )
            result = await run_in_threadpool(book.reject, folder_id, on_behalf_of=on_behalf_of, reason=reason)
        else:
            result = await run_in_threadpool(book.undo, folder_id)
    except FolderNotFound:
        raise HTTPException(404) from None
    except (CallFailed, ValueError) as error:
        log.info("web.signing_refused", agent=agent.login, action=action, folder=folder_id, error=str(error))
        return await _folder_page(page, view, status_code=400, error=refusal(page, error))
    log.info("web.signing_action", agent=agent.login, action=action, folder=folder_id, status=result.status)
    return page.redirect(f"/workspace/sign/folders/{folder_id}")


NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


async def _document(request: Request) -> tuple[AgentVisit, FolderView, object]:
    page = AgentVisit.of(request)
    agent = page.require(*VIEW_ROLES)
    book = gateway(page, agent)
    folder_id, name = request.path_params["folder"], request.path_params["name"]
    if not NAME.match(name):
        raise HTTPException(404)
    view = await folder_or_404(book, agent, folder_id)
    try:
        content = await run_in_threadpool(book.document, folder_id, name)
    except FolderNotFound:
        raise HTTPException(404) from None
    return page, view, content


async def document(request: Request) -> Response:
    """A document shown in the page: PDF pages as images, XML or text escaped."""
    page, view, content = await _document(request)
    try:
        shown = await run_in_threadpool(view_of, content)
        error = None
    except NotViewable as refused:
        shown, error = None, str(refused)
    return render(
        page,
        "signing/document.html",
        **context(page, folder=view, document=content, shown=shown, error=error),
    )


def view_of(content: object) -> object:
    return view(content.mime_type, content.content)  # type: ignore[attr-defined]


async def page_image(request: Request) -> Response:
    page, _, content = await _document(request)
    try:
        index = int(request.path_params["page"]) - 1
        if getattr(content, "mime_type", "") != "application/pdf":
            raise NotViewable("not a PDF")
        png = await run_in_threadpool(pdf_page_png, content.content, index)  # type: ignore[attr-defined]
    except (NotViewable, ValueError):
        raise HTTPException(404) from None
    return page.finish(
        Response(png, media_type="image/png", headers={"cache-control": "private, max-age=300"})
    )


async def raw(request: Request) -> Response:
    """The document itself, as a download (never displayed inline by the browser)."""
    page, _, content = await _document(request)
    return page.finish(
        Response(
            content.content,  # type: ignore[attr-defined]
            media_type="application/octet-stream",
            headers={"content-disposition": f'attachment; filename="{content.name}"'},  # type: ignore[attr-defined]
        )
    )


async def bundle(request: Request) -> Response:
    """The completed folder's evidence bundle (zip: documents, signatures, history, manifest)."""
    page = AgentVisit.of(request)
    agent = page.require(*VIEW_ROLES)
    book = gateway(page, agent)
    folder_id = request.path_params["folder"]
    view = await folder_or_404(book, agent, folder_id)
    if view.status != "completed":
        raise HTTPException(404)
    try:
        content = await run_in_threadpool(book.bundle, folder_id)
    except FolderNotFound:
        raise HTTPException(404) from None
    log.info("web.signing_bundle", agent=agent.login, folder=folder_id)
    return page.finish(
        Response(
            content,
            media_type="application/zip",
            headers={"content-disposition": f'attachment; filename="parapheur-{folder_id}.zip"'},
        )
    )


routes = [
    Route("/sign", pending),
    Route("/sign/new", submit.new_folder, methods=["GET", "POST"]),
    Route("/sign/submitted", submit.submitted),
    Route("/sign/delegations", delegations.page, methods=["GET", "POST"]),
    Route("/sign/delegations/{delegation}/end", delegations.end, methods=["POST"]),
    Route("/sign/folders/{folder}", folder),
    Route("/sign/folders/{folder}/do/{action}", act, methods=["POST"]),
    Route("/sign/folders/{folder}/bundle.zip", bundle),
    Route("/sign/folders/{folder}/documents/{name}", document),
    Route("/sign/folders/{folder}/documents/{name}/raw", raw),
    Route("/sign/folders/{folder}/documents/{name}/pages/{page:int}.png", page_image),
]

__all__ = ["routes", "visible_folder"]
