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
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bus.faults import Fault
from bus.ids import ParticipantId
from bus.pki.authority import CertificateAuthority, PkiError
from bus.registry.catalogue import Catalogue
from bus.transport import TopologyError
from web.security import checked_form
from web.workspace.agents import Agent, Role
from web.workspace.authority import catalogue as catalogues
from web.workspace.authority import deadletters
from web.workspace.authority.settings import BusAccess
from web.workspace.authority.workers import scrape_all
from web.workspace.pages import AgentVisit

log = structlog.get_logger("govbus.web.authority")


def _admin(page: AgentVisit) -> tuple[Agent, BusAccess | None]:
    agent = page.require(Role.BUS_ADMIN)
    return agent, getattr(page.workspace, "bus", None)


def _bus(bus: BusAccess | None) -> BusAccess:
    if bus is None:
        raise HTTPException(404)
    return bus


def _text(form: FormData, name: str, cap: int = 256) -> str:
    value = form.get(name, "")
    return value.strip()[:cap] if isinstance(value, str) else ""


def _confirm(
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


def _done(agent: Agent, action: str, **target: object) -> None:
    log.info("web.authority_action", agent=agent.actor, action=action, **target)


async def overview(request: Request) -> Response:
    """Participants of the signed catalogue and every certificate the CA issued (also served at
    ``/workspace/authority``, the menu's link)."""
    page = AgentVisit.of(request)
    bus = _admin(page)[1]
    catalogue: Catalogue | None = None
    certificates: list[Any] = []
    if bus is not None:
        state = await run_in_threadpool(catalogues.state, bus.home)
        catalogue = state.published
        certificates = await run_in_threadpool(lambda: CertificateAuthority(bus.home).list())
    elif page.workspace.catalogue is not None:
        catalogue = page.workspace.catalogue()
    now = datetime.now(UTC)
    rows = [
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
    return page.render(
        "authority/overview.html", catalogue=catalogue, certificates=rows, connected=bus is not None
    )


async def _pki_action(
    request: Request,
    name: str,
    question: Callable[[str], str],
    act: Callable[[BusAccess, ParticipantId], str],
) -> Response:
    page = AgentVisit.of(request)
    agent, bus = _admin(page)
    bus = _bus(bus)
    form = await checked_form(request, page.session)
    text = _text(form, "participant")
    try:
        participant = ParticipantId.parse(text)
    except Fault as fault:
        return await _overview_error(page, bus, f"Identifiant de participant refusé : {fault.reason}")
    asked = _confirm(
        page,
        form,
        action=f"/workspace/authority/certificates/{name}",
        question=question(str(participant)),
        fields={"participant": str(participant)},
        back="/workspace/authority/",
    )
    if asked is not None:
        return asked
    try:
        result = await run_in_threadpool(act, bus, participant)
    except PkiError as error:
        return await _overview_error(page, bus, str(error))
    _done(agent, f"certificate.{name}", participant=str(participant), result=result)
    return page.redirect("/workspace/authority/?done=" + name)


async def _overview_error(page: AgentVisit, bus: BusAccess, message: str) -> Response:
    state = await run_in_threadpool(catalogues.state, bus.home)
    certificates = await run_in_threadpool(lambda: CertificateAuthority(bus.home).list())
    now = datetime.now(UTC)
    rows = [
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
    return page.render(
        "authority/overview.html",
        400,
        catalogue=state.published,
        certificates=rows,
        connected=True,
        error=message,
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
        request, "issue", lambda p: f"Émettre une clé de signature et un certificat pour {p} ?", _issue
    )


async def revoke(request: Request) -> Response:
    return await _pki_action(
        request,
        "revoke",
        lambda p: (
            f"Révoquer tous les certificats de {p} et publier la nouvelle liste de révocation ? "
            "Ses messages signés ne seront plus acceptés."
        ),
        _revoke,
    )


async def catalogue(request: Request) -> Response:
    page = AgentVisit.of(request)
    bus = _bus(_admin(page)[1])
    state = await run_in_threadpool(catalogues.state, bus.home)
    return page.render("authority/catalogue.html", state=state)


async def grant(request: Request) -> Response:
    """Give or withdraw a right in the draft (signed later, after the diff is seen)."""
    page = AgentVisit.of(request)
    agent, bus = _admin(page)
    bus = _bus(bus)
    form = await checked_form(request, page.session)
    client, service = _text(form, "client"), _text(form, "service")
    allow = form.get("change") != "withdraw"
    verb = "Autoriser" if allow else "Retirer le droit de"
    asked = _confirm(
        page,
        form,
        action="/workspace/authority/catalogue/grant",
        question=f"{verb} {client} sur {service} dans le brouillon du catalogue ?",
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
    _done(agent, "catalogue.grant" if allow else "catalogue.withdraw", client=client, service=service)
    return page.redirect("/workspace/authority/catalogue")


async def sign(request: Request) -> Response:
    """Sign the draft: the confirmation page is the diff against the signed catalogue."""
    page = AgentVisit.of(request)
    agent, bus = _admin(page)
    bus = _bus(bus)
    form = await checked_form(request, page.session)
    state = await run_in_threadpool(catalogues.state, bus.home)
    if not state.changes:
        return page.render("authority/catalogue.html", 400, state=state, error="Le brouillon ne change rien.")
    version = (state.published.version if state.published else 0) + 1
    asked = _confirm(
        page,
        form,
        action="/workspace/authority/catalogue/sign",
        question=f"Signer le brouillon et publier la version {version} du catalogue ?",
        fields={"expected": _fingerprint(state.changes)},
        changes=state.changes,
        back="/workspace/authority/catalogue",
    )
    if asked is not None:
        return asked
    if _text(form, "expected") != _fingerprint(state.changes):
        return page.render(
            "authority/catalogue.html",
            409,
            state=state,
            error="Le brouillon a changé depuis la confirmation : relisez les différences.",
        )
    signed = await run_in_threadpool(catalogues.sign, bus.home)
    _done(agent, "catalogue.sign", version=signed.version, changes=[str(c) for c in state.changes])
    return page.redirect("/workspace/authority/catalogue")


def _fingerprint(changes: list[Any]) -> str:
    """Names the diff that was confirmed: signing refuses a draft that changed since."""
    return hashlib.sha256("\n".join(map(str, changes)).encode()).hexdigest()[:32]


def _broker(bus: BusAccess | None) -> tuple[BusAccess, str]:
    bus = _bus(bus)
    if bus.broker is None:
        raise HTTPException(404)
    return bus, bus.broker


async def dead_letter_queues(request: Request) -> Response:
    page = AgentVisit.of(request)
    bus, broker = _broker(_admin(page)[1])

    def listing() -> list[deadletters.QueueInfo]:
        published = catalogues.state(bus.home).published or Catalogue(instance="MA")
        with deadletters.opened(broker, bus.prefix) as transport:
            return deadletters.queues(transport, published)

    try:
        queues = await run_in_threadpool(listing)
    except Fault as fault:
        return page.render(
            "authority/deadletters.html", 503, queues=[], error=f"Courtier injoignable : {fault.reason}"
        )
    return page.render("authority/deadletters.html", queues=queues)


def _queue_params(params: Any) -> tuple[str, str | None]:
    service = (params.get("service") or "").strip()[:256]
    subscriber = (params.get("subscriber") or "").strip()[:256] or None
    if not service:
        raise HTTPException(404)
    return service, subscriber


async def dead_letter_queue(request: Request) -> Response:
    page = AgentVisit.of(request)
    bus, broker = _broker(_admin(page)[1])
    service, subscriber = _queue_params(request.query_params)

    def listing() -> list[deadletters.DeadLetter]:
        with deadletters.opened(broker, bus.prefix) as transport:
            return deadletters.dead_letters(transport, service, subscriber)

    try:
        letters = await run_in_threadpool(listing)
    except (TopologyError, Fault):
        raise HTTPException(404) from None
    return page.render(
        "authority/deadletter_queue.html", service=service, subscriber=subscriber, letters=letters
    )


async def dead_letter(request: Request) -> Response:
    page = AgentVisit.of(request)
    bus, broker = _broker(_admin(page)[1])
    service, subscriber = _queue_params(request.query_params)
    message_id = (request.query_params.get("id") or "")[:256]

    def showing() -> Any:
        with deadletters.opened(broker, bus.prefix) as transport:
            return deadletters.show(transport, bus.home, service, subscriber, message_id)

    try:
        found = await run_in_threadpool(showing)
    except (TopologyError, Fault):
        raise HTTPException(404) from None
    if found is None:
        raise HTTPException(404)
    letter, verification = found
    body = letter.body[:65536].decode("utf-8", errors="replace")
    return page.render(
        "authority/deadletter.html",
        service=service,
        subscriber=subscriber,
        letter=letter,
        verification=verification,
        body=body,
    )


async def replay(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent, bus_access = _admin(page)
    bus, broker = _broker(bus_access)
    form = await checked_form(request, page.session)
    service, subscriber = _queue_params(form)
    message_id = _text(form, "id")
    fields = {"service": service, "id": message_id, **({"subscriber": subscriber} if subscriber else {})}
    asked = _confirm(
        page,
        form,
        action="/workspace/authority/dead-letters/replay",
        question=f"Remettre le message {message_id} dans la file de {subscriber + ' pour ' if subscriber else ''}"
        f"{service} ? Il sera traité à nouveau.",
        fields=fields,
        back="/workspace/authority/dead-letters",
    )
    if asked is not None:
        return asked

    def replaying() -> str | None:
        with deadletters.opened(broker, bus.prefix) as transport:
            return deadletters.replay(transport, service, subscriber, message_id)

    try:
        queue = await run_in_threadpool(replaying)
    except (TopologyError, Fault, ValueError) as error:
        log.warning(
            "web.authority_replay_failed",
            agent=agent.actor,
            service=service,
            message=message_id,
            error=str(error),
        )
        raise HTTPException(409) from None
    if queue is None:
        raise HTTPException(404)
    _done(
        agent, "dead-letter.replay", service=service, subscriber=subscriber, message=message_id, queue=queue
    )
    query = {"service": service, **({"subscriber": subscriber} if subscriber else {}), "replayed": message_id}
    return page.redirect("/workspace/authority/dead-letters/queue?" + urlencode(query))


async def workers(request: Request) -> Response:
    page = AgentVisit.of(request)
    bus = _bus(_admin(page)[1])
    health = await run_in_threadpool(scrape_all, dict(bus.workers))
    return page.render("authority/workers.html", workers=health)


routes = [
    Route("/", overview),
    Route("/certificates/issue", issue, methods=["POST"]),
    Route("/certificates/revoke", revoke, methods=["POST"]),
    Route("/catalogue", catalogue),
    Route("/catalogue/grant", grant, methods=["POST"]),
    Route("/catalogue/sign", sign, methods=["POST"]),
    Route("/dead-letters", dead_letter_queues),
    Route("/dead-letters/queue", dead_letter_queue),
    Route("/dead-letters/message", dead_letter),
    Route("/dead-letters/replay", replay, methods=["POST"]),
    Route("/workers", workers),
]
