"""Building a folder and its circuit in the workspace, submitted by the administration's desk system.

The form has up to ``MAX_STEPS`` steps, each a visa or a signature, with its signatories (signers of the
agent's administration only) and its quorum (all of them, or any one). The form is checked here first,
field by field, so errors show next to what caused them; the book checks again (``InvalidCircuit``).
Documents are typed by their content (``web.uploads.sniff``): PDF, or XML that passes the bus's
hardened parser; at most 5 files and 7 MiB together (a bus message carries 10 MiB, base64 included).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from bus.faults import Fault
from bus.xml import parse_untrusted
from sdk import CallFailed
from teleservices.signature_book.models import (
    CircuitStep,
    DocumentUpload,
    MetadataEntry,
    QuorumName,
    StepKindName,
    SubmitFolder,
    unique_document_name,
)
from web.i18n import N_
from web.security import checked_form
from web.uploads import clean_name, sniff
from web.workspace.pages import AgentVisit
from web.workspace.signing.access import SUBMIT_ROLES, context, desk, signers_of
from web.workspace.signing.pages import BUSINESS_TYPES, refusal, render

log = structlog.get_logger("govbus.web.workspace.signing")
MAX_STEPS = 4
MAX_FILES = 5
MAX_TOTAL = 7 * 1024 * 1024


@dataclass
class Draft:
    """The form as typed, and what is wrong with it (field name -> message)."""

    title: str = ""
    business_type: str = "internal-communication"
    steps: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _step_rows(form: FormData | None) -> list[dict[str, Any]]:
    rows = []
    for number in range(1, MAX_STEPS + 1):
        prefix = f"step{number}"
        rows.append(
            {
                "number": number,
                "kind": str(form.get(f"{prefix}_kind", "")) if form else ("signature" if number == 1 else ""),
                "quorum": str(form.get(f"{prefix}_quorum", "all")) if form else "all",
                "signatories": [str(v) for v in form.getlist(f"{prefix}_signatories")] if form else [],
            }
        )
    return rows


def circuit_of(draft: Draft, allowed: set[str], _: Callable[..., str]) -> list[CircuitStep]:
    """The circuit the rows describe; errors go to ``draft.errors`` by field."""
    circuit = []
    for row in draft.steps:
        number, kind = row["number"], row["kind"]
        if not kind:
            if row["signatories"]:
                draft.errors[f"step{number}_kind"] = _(N_("Choose visa or signature for this step."))
            continue
        if kind not in ("visa", "signature") or row["quorum"] not in ("all", "any"):
            draft.errors[f"step{number}_kind"] = _(N_("Choose visa or signature for this step."))
            continue
        signatories = list(dict.fromkeys(row["signatories"]))
        if not signatories:
            draft.errors[f"step{number}_signatories"] = _(N_("Choose at least one signatory."))
            continue
        if not set(signatories) <= allowed:
            draft.errors[f"step{number}_signatories"] = _(N_("Choose signers of your administration."))
            continue
        circuit.append(
            CircuitStep(kind=StepKindName(kind), quorum=QuorumName(row["quorum"]), signatories=signatories)
        )
    if not circuit and not draft.errors:
        draft.errors["step1_kind"] = _(N_("A circuit has at least one step."))
    elif circuit and all(step.kind is not StepKindName.SIGNATURE for step in circuit):
        draft.errors["circuit"] = _(N_("A circuit needs at least one signature step."))
    return circuit


async def documents_of(files: list[UploadFile], draft: Draft, _: Callable[..., str]) -> list[DocumentUpload]:
    documents: list[DocumentUpload] = []
    names: set[str] = set()
    total = 0
    for upload in files:
        content = await upload.read()
        if not content and not upload.filename:
            continue
        total += len(content)
        name = unique_document_name(clean_name(upload.filename or "document"), names)
        mime = sniff(content)
        if mime == "text/plain" and name.lower().endswith(".xml"):
            try:
                parse_untrusted(content)
                mime = "application/xml"
            except Fault as fault:
                draft.errors["documents"] = (
                    _(N_("Refused XML document: %(name)s."), name=name) + f" ({fault.code})"
                )
                return []
        if mime not in ("application/pdf", "application/xml"):
            draft.errors["documents"] = _(N_("Only PDF and XML documents are accepted: %(name)s."), name=name)
            return []
        documents.append(DocumentUpload(name=name, mime_type=mime, content=content))
    if not documents:
        draft.errors["documents"] = _(N_("Add the document to sign (PDF or XML)."))
    elif len(documents) > MAX_FILES or total > MAX_TOTAL:
        draft.errors["documents"] = _(N_("At most 5 documents and 7 MiB together."))
    return documents


def _render(page: AgentVisit, draft: Draft, status_code: int = 200, error: str | None = None) -> Response:
    agent = page.require(*SUBMIT_ROLES)
    return render(
        page,
        "signing/new.html",
        status_code,
        **context(
            page,
            draft=draft,
            signers=signers_of(page, agent.administration),
            business_types=BUSINESS_TYPES,
            error=error or (page._(N_("Correct the form.")) if draft.errors else None),
        ),
    )


async def new_folder(request: Request) -> Response:
    """GET: the form; POST: check it and submit the folder as the administration's desk system."""
    page = AgentVisit.of(request)
    agent = page.require(*SUBMIT_ROLES)
    if request.method != "POST":
        return _render(page, Draft(steps=_step_rows(None)))
    form = await checked_form(request, page.session, max_files=MAX_FILES + 1, max_part_size=MAX_TOTAL)
    draft = Draft(
        title=str(form.get("title", "")).strip()[:200],
        business_type=str(form.get("business_type", "")),
        steps=_step_rows(form),
    )
    if not draft.title:
        draft.errors["title"] = page._(N_("Give the folder a title."))
    if draft.business_type not in BUSINESS_TYPES:
        draft.errors["business_type"] = page._(N_("Choose a type of folder."))
    allowed = {participant for participant, _ in signers_of(page, agent.administration)}
    circuit = circuit_of(draft, allowed, page._)
    files = [f for f in form.getlist("documents") if isinstance(f, UploadFile)]
    documents = await documents_of(files, draft, page._)
    if draft.errors:
        return _render(page, draft, 400)
    try:
        folder = SubmitFolder(
            title=draft.title,
            business_type=draft.business_type,
            metadata=[MetadataEntry(key="submittedBy", value=agent.actor)],
            documents=documents,
            circuit=circuit,
        )
        view = await run_in_threadpool(desk(page, agent).submit, folder)
    except (CallFailed, ValueError) as error:
        return _render(page, draft, 400, refusal(page, error))
    log.info("web.signing_submitted", agent=agent.login, folder=view.folder_id)
    return page.redirect(f"/workspace/sign/folders/{view.folder_id}")


async def submitted(request: Request) -> Response:
    """The folders the administration's desk system submitted."""
    page = AgentVisit.of(request)
    agent = page.require(*SUBMIT_ROLES)
    found = await run_in_threadpool(desk(page, agent).folders)
    return render(page, "signing/submitted.html", **context(page, folders=found.folders))
