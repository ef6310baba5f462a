"""The counter (guichet): a clerk registers a paper letter a visitor hands in, and prints its receipt.

``/workspace/counter`` (clerks only) takes the visitor's name, their CIN or ICE when they give it, the
subject, the text and the scanned pages (the portal's upload checks: count, size, type by content). The
letter is registered by the clerk's administration's mail office over the bus (``mail.register-counter``
from the desk system, the signed-in clerk as ``userId``, so the office records the clerk as the
registering actor). The office's signed response envelope is kept beside the portal's letters
(``Letters.add_counter``): the receipt page prints the acknowledgement for the visitor, offers the
signed XML that the portal's ``/verify`` page checks, and a visitor who gave a CIN or ICE finds the letter
(and later its reply) in their portal account. A receipt is reachable only by clerks of the office that
registered it; any other address is a 404.
"""

from __future__ import annotations

import re

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sdk import CallFailed, Client
from sdk.contract import decode, encode
from teleservices.mail_office import (
    REGISTER_COUNTER,
    Acknowledgement,
    Attachment,
    CounterLetter,
    Deposit,
    Party,
    PartyKind,
)
from web.accounts import FormError
from web.i18n import N_
from web.letters import StoredLetter
from web.workspace.agents import Agent, Role
from web.workspace.forms import (
    LIMITS,
    FieldError,
    contract_checked,
    one_line,
    pieces,
    posted,
    refusal,
    shown,
    text,
)
from web.workspace.pages import AgentVisit
from web.workspace.routes import desk_of

log = structlog.get_logger("govbus.web.workspace")

FIELDS = ("visitor_name", "visitor_kind", "visitor_id", "mail_type", "subject", "body")
KINDS = {"": N_("Not given"), "citizen": N_("Citizen (CIN)"), "company": N_("Company (ICE)")}
MAIL_TYPES = {
    "letter": N_("Letter (type)"),
    "request": N_("Request"),
    "complaint": N_("Complaint"),
    "information": N_("Request for information"),
    "urgent": N_("Urgent letter"),
}


def _letter(values: dict[str, str], attachments: list[Attachment]) -> CounterLetter:
    """The contract payload of the form, or ``FormError`` naming the field to correct."""
    name, subject = one_line(values["visitor_name"]), one_line(values["subject"])
    if not name:
        raise FieldError("Enter the depositor's name.", "visitor_name")
    if not subject:
        raise FieldError("Enter the subject of the letter.", "subject")
    if values["mail_type"] not in MAIL_TYPES:
        raise FieldError("Choose the type of letter.", "mail_type")
    kind = values["visitor_kind"]
    identifier = values["visitor_id"].strip().upper() or None
    if kind not in KINDS:
        raise FieldError("Choose the identity document.", "visitor_kind")
    if bool(kind) != bool(identifier):
        raise FieldError("Give the CIN or ICE number with its type, or neither.", "visitor_id")
    with contract_checked():
        return CounterLetter(
            subject=subject,
            visitor_name=name,
            visitor_kind=PartyKind(kind) if kind else None,
            visitor_id=identifier,
            mail_type=values["mail_type"],
            body=text(values["body"]),
            attachments=attachments,
        )


def _register(
    desk: Client, office: str, agent: Agent, letter: CounterLetter
) -> tuple[Acknowledgement, bytes]:
    verified = desk.call_raw(
        REGISTER_COUNTER.service_of(office), encode(letter, REGISTER_COUNTER.schema), user_id=agent.actor
    )
    acknowledgement = decode(verified.payload, Acknowledgement, REGISTER_COUNTER.schema)
    if acknowledgement.office != office or str(verified.signer.participant) != office:
        raise ValueError(f"the acknowledgement is not signed by {office}")
    return acknowledgement, verified.raw


def _deposit(
    letter: CounterLetter, acknowledgement: Acknowledgement, office: str, office_name: str
) -> Deposit:
    """The letter as the office registered it (sender and recipient), for the receipt and the portal."""
    if letter.visitor_kind is not None and letter.visitor_id is not None:
        sender = Party(kind=letter.visitor_kind, identifier=letter.visitor_id, name=letter.visitor_name)
    else:
        sender = Party(kind=PartyKind.VISITOR, identifier="guichet", name=letter.visitor_name)
    return Deposit(
        subject=letter.subject,
        sender=sender,
        recipient=Party(kind=PartyKind.ADMINISTRATION, identifier=office, name=office_name[:300]),
        mail_type=letter.mail_type,
        body=letter.body,
        attachments=letter.attachments,
    )


def _form(
    page: AgentVisit, values: dict[str, str], error: FormError | None = None, status: int = 200
) -> Response:
    return shown(
        page, "counter.html", error, status, values=values, kinds=KINDS, mail_types=MAIL_TYPES, limits=LIMITS
    )


async def counter(request: Request) -> Response:
    """The counter form (GET) and the registration of the letter (POST), for clerks."""
    page = AgentVisit.of(request)
    agent = page.require(Role.CLERK)
    office, desk = desk_of(page, agent)
    if request.method == "GET":
        return _form(page, dict.fromkeys(FIELDS, "") | {"mail_type": "letter"})
    form = await posted(request, page)
    values = {name: str(form.get(name, "")) for name in FIELDS}
    try:
        letter = _letter(values, await pieces(form, "scans"))
    except FormError as error:
        return _form(page, values, error, 400)
    try:
        acknowledgement, envelope = await run_in_threadpool(_register, desk, office, agent, letter)
    except (CallFailed, ValueError) as failure:
        log.warning("web.counter_refused", agent=agent.login, reason=str(failure))
        return _form(page, values, refusal(failure), 502)
    name = page.workspace.offices.get(office, office)
    stored = page.workspace.letters.add_counter(
        _deposit(letter, acknowledgement, office, name), acknowledgement, envelope
    )
    log.info("web.counter_registered", agent=agent.login, number=acknowledgement.registration_number)
    return page.redirect(f"/workspace/counter/{stored.public_id}")


def _receipt_letter(page: AgentVisit, agent: Agent, public_id: str) -> StoredLetter:
    office, _ = desk_of(page, agent)
    letter: StoredLetter | None = page.workspace.letters.counter_letter(office, public_id)
    if letter is None:
        raise HTTPException(404)
    return letter


async def receipt(request: Request) -> Response:
    """The printable acknowledgement of a counter letter, for the clerks of the office that registered it."""
    page = AgentVisit.of(request)
    agent = page.require(Role.CLERK)
    letter = _receipt_letter(page, agent, request.path_params["letter"])
    name = page.workspace.offices.get(letter.office, letter.office)
    return page.render(
        "receipt.html", letter=letter, ack=letter.acknowledgement, office_name=name, kinds=KINDS
    )


async def receipt_xml(request: Request) -> Response:
    """The office's signed response envelope: the file the portal's /verify page checks."""
    page = AgentVisit.of(request)
    agent = page.require(Role.CLERK)
    letter = _receipt_letter(page, agent, request.path_params["letter"])
    name = "accuse-" + re.sub(r"[^A-Za-z0-9._-]+", "-", letter.registration_number) + ".xml"
    return page.finish(
        Response(
            letter.acknowledgement_xml,
            media_type="application/xml",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    )


routes = [
    Route("/counter", counter, methods=["GET", "POST"]),
    Route("/counter/{letter}", receipt),
    Route("/counter/{letter}/acknowledgement.xml", receipt_xml),
]
