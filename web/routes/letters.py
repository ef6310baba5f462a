"""My letters: deposit one, see its acknowledgement of receipt (page and signed XML), follow its status.

Every page here requires a signed-in account and finds a letter only among that account's own: a
letter id of another account is a 404, exactly like an id that does not exist.
"""

from __future__ import annotations

import re

import pydantic
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sdk import Fault, FaultCode
from teleservices.mail_office import Attachment, Deposit, Party, PartyKind, StatusChange
from web.accounts import FormError, User
from web.i18n import N_
from web.letters import StoredLetter
from web.pages import Visit, visit
from web.routes.account import redirect
from web.security import checked_form
from web.uploads import attachments_of

MAIL_TYPES = {
    "request": N_("Request"),
    "complaint": N_("Complaint"),
    "letter": N_("Letter"),
    "information": N_("Request for information"),
}
FORM_FIELDS = ("office", "mail_type", "subject", "body")
REFUSED = N_(
    "The administration did not accept the letter (%(code)s: %(reason)s). Nothing was registered; "
    "your text is kept below, attach your files again and retry."
)
UNANSWERED = N_(
    "The administration did not answer in time (%(code)s). Your text is kept below: attach your files again "
    "and retry. If the letter reached it meanwhile, depositing it again returns the same acknowledgement, "
    "never a second registration."
)
MAX_SUBJECT = 500
MAX_BODY = 100_000


def signed_in(page: Visit) -> User:
    if page.user is None:
        raise HTTPException(401)
    return page.user


def own_letter(page: Visit, public_id: str) -> StoredLetter:
    user = signed_in(page)
    letter = page.portal.letters.get(user.id, public_id, user.identifier)
    if letter is None:
        raise HTTPException(404)
    return letter


def current_status(steps: list[StatusChange]) -> str:
    return steps[-1].new_status.value if steps else "registered"


async def my_letters(request: Request) -> Response:
    page = visit(request)
    user = signed_in(page)
    portal = page.portal
    rows = [
        (letter, current_status(portal.participant.steps(letter.office, letter.registration_number)))
        for letter in portal.letters.of_owner(user.id, user.identifier)
    ]
    return page.render("letters.html", rows=rows, replies=portal.participant.replies(user.identifier))


def _deposit_of(
    user: User, values: dict[str, str], office_name: str, attachments: list[Attachment]
) -> Deposit:
    subject = " ".join(values["subject"].split())
    if not subject:
        raise FormError("Give the subject of your letter.", "subject")
    if len(subject) > MAX_SUBJECT:
        raise FormError("The subject is too long.", "subject")
    body = values["body"].replace("\r\n", "\n").strip()
    if len(body) > MAX_BODY:
        raise FormError("The text is too long.", "body")
    if values["mail_type"] not in MAIL_TYPES:
        raise FormError("Choose the kind of letter.", "mail_type")
    kind = PartyKind.CITIZEN if user.kind.value == "citizen" else PartyKind.COMPANY
    try:
        return Deposit(
            subject=subject,
            sender=Party(kind=kind, identifier=user.identifier, name=user.name),
            recipient=Party(
                kind=PartyKind.ADMINISTRATION, identifier=values["office"], name=office_name[:300]
            ),
            mail_type=values["mail_type"],
            body=body or None,
            attachments=attachments,
        )
    except pydantic.ValidationError as error:
        field = str(error.errors()[0]["loc"][0]) if error.errors()[0]["loc"] else None
        raise FormError("The letter contains characters that cannot be sent.", field) from None


async def new_letter(request: Request) -> Response:
    page = visit(request)
    user = signed_in(page)
    portal = page.portal
    offices = await run_in_threadpool(portal.participant.offices)
    values = {
        "office": request.query_params.get("office", ""),
        "mail_type": "request",
        "subject": "",
        "body": "",
    }
    if request.method == "GET":
        return page.render("deposit.html", offices=offices, values=values, error=None, mail_types=MAIL_TYPES)
    form = await checked_form(
        request, page.session, max_files=portal.limits.max_files * 4, max_part_size=MAX_BODY * 4 + 1024
    )
    values = {name: str(form.get(name, "")) for name in FORM_FIELDS}
    uploads = [f for f in form.getlist("attachments") if isinstance(f, UploadFile)]
    try:
        office = next((o for o in offices if o.participant == values["office"]), None)
        if office is None:
            raise FormError("Choose the administration you write to.", "office")
        files = [(upload.filename or "", await upload.read()) for upload in uploads]
        letter = _deposit_of(
            user, values, office.name or office.participant, attachments_of(files, portal.limits)
        )
    except FormError as error:
        return page.render(
            "deposit.html", 400, offices=offices, values=values, error=error, mail_types=MAIL_TYPES
        )
    try:
        deposited = await run_in_threadpool(
            portal.participant.deposit, office.participant, letter, user_id=user.identifier
        )
    except Fault as failure:
        message = (
            UNANSWERED
            if failure.code in (FaultCode.TIMEOUT, FaultCode.UNROUTABLE, FaultCode.BROKER_UNAVAILABLE)
            else REFUSED
        )
        refusal = FormError(
            message,
            None,
            code=str(getattr(failure, "service_code", None) or failure.code),
            reason=failure.reason,
        )
        return page.render(
            "deposit.html", 502, offices=offices, values=values, error=refusal, mail_types=MAIL_TYPES
        )
    stored = portal.letters.add(user.id, letter, deposited.acknowledgement, deposited.envelope)
    return page.finish(redirect(f"/letters/{stored.public_id}/acknowledgement"))


async def show_letter(request: Request) -> Response:
    page = visit(request)
    letter = own_letter(page, request.path_params["letter"])
    portal = page.portal
    steps = portal.participant.steps(letter.office, letter.registration_number)
    replies = [
        reply
        for reply in portal.participant.replies(signed_in(page).identifier)
        if reply.in_reply_to == letter.registration_number and reply.sender.identifier == letter.office
    ]
    return page.render(
        "letter.html",
        letter=letter,
        steps=steps,
        status=current_status(steps),
        replies=replies,
        office=portal.participant.office(letter.office),
        contact=portal.directory.contact(letter.office),
    )


async def acknowledgement(request: Request) -> Response:
    page = visit(request)
    letter = own_letter(page, request.path_params["letter"])
    portal = page.portal
    return page.render(
        "acknowledgement.html",
        letter=letter,
        ack=letter.acknowledgement,
        office=portal.participant.office(letter.office),
        contact=portal.directory.contact(letter.office),
    )


def _file_name(number: str) -> str:
    return "accuse-" + re.sub(r"[^A-Za-z0-9._-]+", "-", number) + ".xml"


async def acknowledgement_xml(request: Request) -> Response:
    page = visit(request)
    letter = own_letter(page, request.path_params["letter"])
    return Response(
        letter.acknowledgement_xml,
        media_type="application/xml",
        headers={"content-disposition": f'attachment; filename="{_file_name(letter.registration_number)}"'},
    )


routes = [
    Route("/letters", my_letters),
    Route("/letters/new", new_letter, methods=["GET", "POST"]),
    Route("/letters/{letter}", show_letter),
    Route("/letters/{letter}/acknowledgement", acknowledgement),
    Route("/letters/{letter}/acknowledgement.xml", acknowledgement_xml),
]
