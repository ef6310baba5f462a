"""Server-sent events for the signed-in account: each status step and reply as it reaches the portal.

Fed by the DepositorSystem's ``on_change`` and ``on_letter`` through the ``EventHub``; nothing polls
the offices. A comment line every ``KEEPALIVE`` seconds keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from web.events import Event, StatusEvent
from web.pages import Visit, visit
from web.routes.letters import signed_in

KEEPALIVE = 15.0


def message(page: Visit, event: Event) -> str:
    if isinstance(event, StatusEvent):
        change = event.change
        data = {
            "letter": event.letter,
            "number": change.registration_number,
            "sequence": change.sequence,
            "status": change.new_status.value,
            "statusLabel": page.status(change.new_status.value),
            "action": page.action(change.action.value),
            "time": page.when(change.time),
            "service": change.service or "",
            "comment": change.comment or "",
            "announce": page._("Status updated: %(status)s", status=page.status(change.new_status.value)),
        }
        kind = "status"
    else:
        data = {
            "office": event.office,
            "inReplyTo": event.reply.in_reply_to or "",
            "subject": event.reply.subject,
            "announce": page._("A reply arrived: %(subject)s", subject=event.reply.subject),
        }
        kind = "reply"
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def events(request: Request) -> Response:
    page = visit(request)
    user = signed_in(page)
    hub = page.portal.hub

    async def stream() -> AsyncIterator[str]:
        with hub.subscribe(user.id) as queue:
            yield "retry: 3000\n: connected\n\n"
            while not page.portal.closing.is_set():
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keepalive\n\n"
                    continue
                yield message(page, event)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})


routes = [Route("/events", events)]
