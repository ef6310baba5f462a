"""The bus authority console (``/workspace/authority``, role ``bus-admin`` only).

Pages: participants and their certificates (issue, revoke), the catalogue (grants edited in the draft,
the diff shown before signing), dead-letter queues (list, show, replay), workers' health. Every change
is a POST carrying the session's CSRF token, first answered by a confirmation page that states what will
happen (for signing: the catalogue diff); only the confirmed form (``confirm=yes``) acts. Each change is
logged (``web.authority_action``) with the administrator's identity.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bus.faults import Fault
from bus.ids import ParticipantId
from bus.pki.authority import CertificateAuthority, IssuedCertificate, PkiError
from bus.registry.catalogue import Catalogue
from web.security import checked_form
from web.workspace.authority import catalogue as catalogues
from web.workspace.authority.agent_pages import routes as agent_routes
from web.workspace.authority.console import admin, confirm, connected, record_change, text
from web.workspace.authority.deadletter_pages import (
    dead_letter,
    dead_letter_queue,
    dead_letter_queues,
    purge,
    replay,
)
from web.workspace.authority.settings import BusAccess
from web.workspace.authority.workers import scrape_all
from web.workspace.pages import AgentVisit

log = structlog.get_logger("govbus.web.authority")


async def overview(request: Request) -> Response:
    """Participants of the signed catalogue and every certificate the CA issued (also served at
    ``/workspace/authority``, the menu's link)."""
    page = AgentVisit.of(request)
    bus = admin(page)[1]
    catalogue: Catalogue | None = None
    certificates: list[IssuedCertificate] = []
    if bus is not None:
        state = await run_in_threadpool(catalogues.state, bus.home)
        catalogue = state.published
        certificates = await run_in_threadpool(lambda: CertificateAuthority(bus.home).list())
    elif page.workspace.catalogue is not None:
        catalogue = page.workspace.catalogue()
    rows = _statuses(certificates)
    finished = request.query_params.get("done")
    return page.render(
        "authority/overview.html",
        catalogue=catalogue,
        certificates=rows,
        connected=bus is not None,
        done=finished if finished in ("issue", "revoke") else None,
        done_for=(request.query_params.get("participant") or "")[:256],
    )


def _statuses(certificates: list[IssuedCertificate]) -> list[tuple[IssuedCertificate, str]]:
    """Each certificate with its state today: valide, expiré or révoqué."""
    now = datetime.now(UTC)
    return [
        (
            c,
            "révoqué"
            if c.revoked_at
            else "expiré"
            if datetime.fromisoformat(c.not_after) < now
            else "valide",
        )
        for c in certificates
    ]


async def _pki_action(
    request: Request,
    name: str,
    question: Callable[[AgentVisit, str], str],
    act: Callable[[BusAccess, ParticipantId], str],
) -> Response:
    page = AgentVisit.of(request)
    agent, bus = admin(page)
    bus = connected(bus)
    form = await checked_form(request, page.session)
    given = text(form, "participant")
    try:
        participant = ParticipantId.parse(given)
    except Fault as fault:
        return await _overview_error(
            page, bus, page._("Participant identifier refused: %(reason)s", reason=fault.reason)
        )
    asked = confirm(
        page,
        form,
        action=f"/workspace/authority/certificates/{name}",
        question=question(page, str(participant)),
        fields={"participant": str(participant)},
        back="/workspace/authority/",
    )
    if asked is not None:
        return asked
    try:
        result = await run_in_threadpool(act, bus, participant)
    except PkiError as error:
        return await _overview_error(page, bus, str(error))
    record_change(agent, f"certificate.{name}", participant=str(participant), result=result)
    return page.redirect(
        "/workspace/authority/?" + urlencode({"done": name, "participant": str(participant)})
    )


async def _overview_error(page: AgentVisit, bus: BusAccess, message: str) -> Response:
    state = await run_in_threadpool(catalogues.state, bus.home)
    certificates = await run_in_threadpool(lambda: CertificateAuthority(bus.home).list())
    rows = _statuses(certificates)
    return page.render(
        "authority/overview.html",
        400,
        catalogue=state.published,
        certificates=rows,
        connected=True,
        error=message,
        done=None,
        done_for="",
    )


def _issue(bus: BusAccess, participant: ParticipantId) -> str:
    _, cert = CertificateAuthority(bus.home).issue(participant)
    return str(cert)


def _revoke(bus: BusAccess, participant: ParticipantId) -> str:
    """Revoke every certificate of the participant and re-sign the CRL (as ``govbus pki revoke``)."""
    serials = CertificateAuthority(bus.home).revoke(participant)
    return ", ".join(f"{s:x}" for s in serials)


async def issue(request: Request) -> Response:
    return await _pki_action(
        request,
        "issue",
        lambda page, p: page._("Issue a signing key and a certificate for %(participant)s?", participant=p),
        _issue,
    )


async def revoke(request: Request) -> Response:
    return await _pki_action(
        request,
        "revoke",
        lambda page, p: page._(
            "Revoke every certificate of %(participant)s and publish the new revocation list? "
            "Its signed messages will no longer be accepted.",
            participant=p,
        ),
        _revoke,
    )


async def catalogue(request: Request) -> Response:
    page = AgentVisit.of(request)
    bus = connected(admin(page)[1])
    state = await run_in_threadpool(catalogues.state, bus.home)
    return page.render("authority/catalogue.html", state=state)


async def grant(request: Request) -> Response:
    """Give or withdraw a right in the draft (signed later, after the diff is seen)."""
    page = AgentVisit.of(request)
    agent, bus = admin(page)
    bus = connected(bus)
    form = await checked_form(request, page.session)
    client, service = text(form, "client"), text(form, "service")
    allow = form.get("change") != "withdraw"
    asked = confirm(
        page,
        form,
        action="/workspace/authority/catalogue/grant",
        question=(
            page._("Allow %(client)s on %(service)s in the draft catalogue?", client=client, service=service)
            if allow
            else page._(
                "Withdraw the right of %(client)s on %(service)s in the draft catalogue?",
                client=client,
                service=service,
            )
        ),
        fields={"client": client, "service": service, "change": "allow" if allow else "withdraw"},
        back="/workspace/authority/catalogue",
    )
    if asked is not None:
        return asked
    try:
        await run_in_threadpool(lambda: catalogues.change_grant(bus.home, client, service, allow=allow))
    except Fault as fault:
        state = await run_in_threadpool(catalogues.state, bus.home)
        return page.render(
            "authority/catalogue.html", 400, state=state, error=f"{fault.code} : {fault.reason}"
        )
    record_change(agent, "catalogue.grant" if allow else "catalogue.withdraw", client=client, service=service)
    return page.redirect("/workspace/authority/catalogue")


async def service(request: Request) -> Response:
    """Add or remove a service in the draft (signed later, after the diff is seen)."""
    page = AgentVisit.of(request)
    agent, bus = admin(page)
    bus = connected(bus)
    form = await checked_form(request, page.session)
    name, remove = text(form, "service"), form.get("change") == "remove"
    fields = {"service": name, "change": "remove" if remove else "add"}
    if not remove:
        fields |= {
            "style": text(form, "style", 32),
            "schema": text(form, "schema", 128),
            "description": text(form, "description", 512),
            "personal": "yes" if form.get("personal") == "yes" else "",
            "confidential": "yes" if form.get("confidential") == "yes" else "",
        }
    asked = confirm(
        page,
        form,
        action="/workspace/authority/catalogue/service",
        question=(
            f"Retirer {name} et toutes ses autorisations du brouillon du catalogue ?"
            if remove
            else f"Ajouter {name} ({fields['style']}, contrat {fields['schema']}) au brouillon du catalogue ?"
        ),
        fields=fields,
        back="/workspace/authority/catalogue",
    )
    if asked is not None:
        return asked

    def change() -> None:
        if remove:
            catalogues.remove_service(bus.home, name)
        else:
            catalogues.add_service(
                bus.home,
                name,
                style=fields["style"],
                schema=fields["schema"],
                description=fields["description"],
                personal=bool(fields["personal"]),
                confidential=bool(fields["confidential"]),
            )

    try:
        await run_in_threadpool(change)
    except (Fault, ValueError) as error:
        reason = f"{error.code} : {error.reason}" if isinstance(error, Fault) else str(error)
        state = await run_in_threadpool(catalogues.state, bus.home)
        return page.render("authority/catalogue.html", 400, state=state, error=reason)
    record_change(agent, "catalogue.remove-service" if remove else "catalogue.add-service", service=name)
    return page.redirect("/workspace/authority/catalogue")


async def sign(request: Request) -> Response:
    """Sign the draft: the confirmation page is the diff against the signed catalogue."""
    page = AgentVisit.of(request)
    agent, bus = admin(page)
    bus = connected(bus)
    form = await checked_form(request, page.session)
    state = await run_in_threadpool(catalogues.state, bus.home)
    if not state.changes:
        return page.render(
            "authority/catalogue.html", 400, state=state, error=page._("The draft changes nothing.")
        )
    version = (state.published.version if state.published else 0) + 1
    asked = confirm(
        page,
        form,
        action="/workspace/authority/catalogue/sign",
        question=page._("Sign the draft and publish version %(version)s of the catalogue?", version=version),
        fields={"expected": _fingerprint(state.changes)},
        changes=state.changes,
        back="/workspace/authority/catalogue",
    )
    if asked is not None:
        return asked
    if text(form, "expected") != _fingerprint(state.changes):
        return page.render(
            "authority/catalogue.html",
            409,
            state=state,
            error=page._("The draft changed since the confirmation: read the differences again."),
        )
    signed = await run_in_threadpool(catalogues.sign, bus.home)
    record_change(agent, "catalogue.sign", version=signed.version, changes=[str(c) for c in state.changes])
    return page.redirect("/workspace/authority/catalogue")


def _fingerprint(changes: list[Any]) -> str:
    """Names the diff that was confirmed: signing refuses a draft that changed since."""
    return hashlib.sha256("\n".join(map(str, changes)).encode()).hexdigest()[:32]


async def workers(request: Request) -> Response:
    page = AgentVisit.of(request)
    bus = connected(admin(page)[1])
    health = await run_in_threadpool(scrape_all, dict(bus.workers))
    return page.render("authority/workers.html", workers=health)


routes = [
    Route("/", overview),
    Route("/certificates/issue", issue, methods=["POST"]),
    Route("/certificates/revoke", revoke, methods=["POST"]),
    Route("/catalogue", catalogue),
    Route("/catalogue/grant", grant, methods=["POST"]),
    Route("/catalogue/sign", sign, methods=["POST"]),
    Route("/catalogue/service", service, methods=["POST"]),
    Route("/dead-letters", dead_letter_queues),
    Route("/dead-letters/queue", dead_letter_queue),
    Route("/dead-letters/message", dead_letter),
    Route("/dead-letters/replay", replay, methods=["POST"]),
    Route("/dead-letters/purge", purge, methods=["POST"]),
    Route("/workers", workers),
    *agent_routes,
]
