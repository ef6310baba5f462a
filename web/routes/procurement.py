"""Tell us once: a company applies for a MEF tender; the MEF obtains its CNSS certificate over the bus.

Only company accounts apply; each sees only its own applications (the portal asks by the account's ICE),
and downloads the CNSS's signed answer the MEF kept as evidence.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sdk import CallFailed
from web import services
from web.accounts import AccountKind, User
from web.i18n import N_
from web.pages import Visit, visit
from web.routes.account import redirect
from web.routes.letters import signed_in
from web.security import checked_form

TENDERS = {
    "AO-117/2026": N_("Renovation of administrative buildings in Rabat"),
    "AO-203/2026": N_("Supply of office equipment for the regional directorates"),
}
STANDINGS = {
    "good-standing": N_("good standing"),
    "not-in-good-standing": N_("not in good standing"),
    "unknown-company": N_("company unknown to the CNSS"),
    "unavailable": N_("the CNSS could not be reached; apply again later"),
}


def company(page: Visit) -> User:
    user = signed_in(page)
    if user.kind is not AccountKind.COMPANY:
        raise HTTPException(404)
    return user


async def tenders(request: Request) -> Response:
    page = visit(request)
    form = await checked_form(request, page.session) if request.method == "POST" else None  # CSRF first
    user = company(page)
    client = page.portal.participant.client
    error = None
    if form is not None:
        tender = str(form.get("tender", ""))
        if tender not in TENDERS:
            error = N_("Choose the tender you apply for.")
        else:
            try:
                await run_in_threadpool(services.apply, client, user, tender)
            except CallFailed as failure:
                error = page._(
                    "The MEF did not answer (%(code)s). Try again in a moment.", code=str(failure.code)
                )
            else:
                return redirect("/procurement")
    try:
        applications = await run_in_threadpool(services.applications, client, user)
    except CallFailed:
        applications = []
    return page.render(
        "procurement.html",
        400 if error else 200,
        tenders=TENDERS,
        standings=STANDINGS,
        applications=applications,
        error=error,
    )


async def evidence(request: Request) -> Response:
    page = visit(request)
    user = company(page)
    reference = request.path_params["reference"]
    found = await run_in_threadpool(services.applications, page.portal.participant.client, user)
    application = next((a for a in found if a.reference == reference), None)
    signed = application.evidence_bytes() if application is not None else None
    if signed is None:
        raise HTTPException(404)
    name = reference.replace("/", "-")
    return Response(
        signed,
        media_type="application/xml",
        headers={"content-disposition": f'attachment; filename="cnss-attestation-{name}.xml"'},
    )


routes = [
    Route("/procurement", tenders, methods=["GET", "POST"]),
    Route("/procurement/{reference}/evidence.xml", evidence),
]
