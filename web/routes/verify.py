"""The public page that checks an acknowledgement of receipt (the signed XML) and says why it is or is not valid."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.pages import visit
from web.security import checked_form
from web.verification import MAX_ACKNOWLEDGEMENT_BYTES, verify_acknowledgement


async def verify(request: Request) -> Response:
    page = visit(request)
    if request.method == "GET":
        return page.render("verify.html", verdict=None)
    form = await checked_form(request, page.session, max_files=1, max_part_size=MAX_ACKNOWLEDGEMENT_BYTES)
    upload = form.get("acknowledgement")
    data = await upload.read(MAX_ACKNOWLEDGEMENT_BYTES + 1) if isinstance(upload, UploadFile) else b""
    verifier = page.portal.participant.node.verifier
    verdict = await run_in_threadpool(verify_acknowledgement, verifier, data)
    return page.render(
        "verify.html",
        200 if verdict.valid else 422,
        verdict=verdict,
        office=page.portal.participant.office(verdict.signer) if verdict.signer else None,
    )


routes = [Route("/verify", verify, methods=["GET", "POST"])]
