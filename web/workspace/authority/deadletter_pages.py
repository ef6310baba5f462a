"""The dead-letter pages of the bus authority console: the queues, one queue's messages, one message,
and its replay (a change: confirmed, then logged with the administrator's identity)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bus.faults import Fault
from bus.registry.catalogue import Catalogue
from bus.transport import TopologyError
from web.security import checked_form
from web.workspace.authority import catalogue as catalogues
from web.workspace.authority import deadletters
from web.workspace.authority.console import admin, confirm, connected, log, record_change, text
from web.workspace.authority.settings import BusAccess
from web.workspace.pages import AgentVisit


def _broker(bus: BusAccess | None) -> tuple[BusAccess, str]:
    bus = connected(bus)
    if bus.broker is None:
        raise HTTPException(404)
    return bus, bus.broker


async def dead_letter_queues(request: Request) -> Response:
    page = AgentVisit.of(request)
    bus, broker = _broker(admin(page)[1])

    def listing() -> list[deadletters.QueueInfo]:
        published = catalogues.state(bus.home).published or Catalogue(instance="MA")
        with deadletters.opened(broker, bus.prefix) as transport:
            return deadletters.queues(transport, published)

    try:
        queues = await run_in_threadpool(listing)
    except Fault as fault:
        return page.render(
            "authority/deadletters.html",
            503,
            queues=[],
            error=page._("Broker unreachable: %(reason)s", reason=fault.reason),
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
    bus, broker = _broker(admin(page)[1])
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
    bus, broker = _broker(admin(page)[1])
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
    agent, bus_access = admin(page)
    bus, broker = _broker(bus_access)
    form = await checked_form(request, page.session)
    service, subscriber = _queue_params(form)
    message_id = text(form, "id")
    fields = {"service": service, "id": message_id, **({"subscriber": subscriber} if subscriber else {})}
    asked = confirm(
        page,
        form,
        action="/workspace/authority/dead-letters/replay",
        question=(
            page._(
                "Put message %(message)s back in the queue of %(subscriber)s for %(service)s? "
                "It will be processed again.",
                message=message_id,
                subscriber=subscriber,
                service=service,
            )
            if subscriber
            else page._(
                "Put message %(message)s back in the queue of %(service)s? It will be processed again.",
                message=message_id,
                service=service,
            )
        ),
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
    record_change(
        agent, "dead-letter.replay", service=service, subscriber=subscriber, message=message_id, queue=queue
    )
    query = {"service": service, **({"subscriber": subscriber} if subscriber else {}), "replayed": message_id}
    return page.redirect("/workspace/authority/dead-letters/queue?" + urlencode(query))


async def purge(request: Request) -> Response:
    """Delete every dead letter of one queue, after a confirmation stating how many will go."""
    page = AgentVisit.of(request)
    agent, bus_access = admin(page)
    bus, broker = _broker(bus_access)
    form = await checked_form(request, page.session)
    service, subscriber = _queue_params(form)

    def counting() -> tuple[str, int]:
        with deadletters.opened(broker, bus.prefix) as transport:
            return deadletters.depth(transport, service, subscriber)

    try:
        queue, waiting = await run_in_threadpool(counting)
    except (TopologyError, Fault):
        raise HTTPException(404) from None
    asked = confirm(
        page,
        form,
        action="/workspace/authority/dead-letters/purge",
        question=f"Supprimer définitivement les {waiting} lettre(s) morte(s) de la file {queue} ? "
        "Elles ne pourront plus être rejouées.",
        fields={"service": service, **({"subscriber": subscriber} if subscriber else {})},
        back="/workspace/authority/dead-letters",
    )
    if asked is not None:
        return asked

    def purging() -> tuple[str, int]:
        with deadletters.opened(broker, bus.prefix) as transport:
            return deadletters.purge(transport, service, subscriber)

    try:
        queue, deleted = await run_in_threadpool(purging)
    except (TopologyError, Fault):
        raise HTTPException(404) from None
    record_change(
        agent, "dead-letter.purge", service=service, subscriber=subscriber, queue=queue, deleted=deleted
    )
    query = {"service": service, **({"subscriber": subscriber} if subscriber else {}), "purged": str(deleted)}
    return page.redirect("/workspace/authority/dead-letters/queue?" + urlencode(query))
