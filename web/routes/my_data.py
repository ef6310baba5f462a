"""Who used my data: every access the tracker recorded about the signed-in account's CIN or ICE."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sdk import CallFailed
from web import services
from web.pages import visit
from web.routes.letters import signed_in


async def my_data(request: Request) -> Response:
    page = visit(request)
    user = signed_in(page)
    client = page.portal.participant.client
    try:
        rows = await run_in_threadpool(services.accesses, client, user)
    except CallFailed as failure:
        return page.render(
            "my_data.html", 503, rows=[], subject=services.subject_of(user), failure=str(failure.code)
        )
    return page.render("my_data.html", rows=rows, subject=services.subject_of(user), failure=None)


routes = [Route("/my-data", my_data)]
