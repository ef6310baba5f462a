"""Sending a letter to another administration over the bus, from the workspace (clerks only).

``/workspace/send`` registers the letter in the office's outgoing register ``D`` (``mail.send`` from the
desk system, the signed-in clerk as ``userId``); the office's outbox delivers it to the recipient's mail
office, which registers it in its own ``A`` register and acknowledges it. The letter's page then shows the
recipient's registration number and the status it reports back (``linkedRegistration``,
``linkedStatus``). The recipient is chosen among the other offices of the bus the workspace knows; a
typed address of any other participant is refused before anything is sent.
"""

from __future__ import annotations

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sdk import CallFailed, Client
from teleservices.mail_office import SEND, Attachment, MailRecord, Party, PartyKind, Send
from web.accounts import FormError
from web.i18n import N_
from web.workspace.agents import Agent, Role
from web.workspace.forms import FieldError, contract_checked, one_line, pieces, posted, refusal, shown, text
from web.workspace.pages import AgentVisit
from web.workspace.routes import desk_of

log = structlog.get_logger("govbus.web.workspace")

FIELDS = ("recipient", "mail_type", "subject", "body")
MAIL_TYPES = {
    "letter": N_("Letter (type)"),
    "request": N_("Request"),
    "information": N_("Request for information"),
}


def recipients(page: AgentVisit, office: str) -> dict[str, str]:
    """The other administrations' offices the agent may write to: participant id -> name."""
    return {o: name for o, name in page.workspace.offices.items() if o != office}


def _letter(values: dict[str, str], offices: dict[str, str], attachments: list[Attachment]) -> Send:
    if values["recipient"] not in offices:
        raise FieldError("Choose the recipient administration.", "recipient")
    subject = one_line(values["subject"])
    if not subject:
        raise FieldError("Enter the subject of the letter.", "subject")
    if values["mail_type"] not in MAIL_TYPES:
        raise FieldError("Choose the type of letter.", "mail_type")
    recipient = values["recipient"]
    with contract_checked():
        return Send(
            subject=subject,
            recipient=Party(
                kind=PartyKind.ADMINISTRATION, identifier=recipient, name=offices[recipient][:300]
            ),
            mail_type=values["mail_type"],
            body=text(values["body"]),
            attachments=attachments,
        )


def _send(desk: Client, office: str, agent: Agent, letter: Send) -> MailRecord:
    return desk.call(office, SEND, letter, user_id=agent.actor)


async def send(request: Request) -> Response:
    """The form (GET) and the registration and delivery of the letter (POST)."""
    page = AgentVisit.of(request)
    agent = page.require(Role.CLERK)
    office, desk = desk_of(page, agent)
    offices = recipients(page, office)

    def form(values: dict[str, str], error: FormError | None = None, status: int = 200) -> Response:
        return shown(page, "send.html", error, status, values=values, offices=offices, mail_types=MAIL_TYPES)

    if request.method == "GET":
        return form(dict.fromkeys(FIELDS, "") | {"mail_type": "letter"})
    submitted = await posted(request, page)
    values = {name: str(submitted.get(name, "")) for name in FIELDS}
    try:
        letter = _letter(values, offices, await pieces(submitted, "attachments"))
    except FormError as error:
        return form(values, error, 400)
    try:
        record = await run_in_threadpool(_send, desk, office, agent, letter)
    except CallFailed as failure:
        log.warning("web.send_refused", agent=agent.login, code=str(failure.code), reason=failure.reason)
        return form(values, refusal(failure), 502)
    log.info("web.letter_sent", agent=agent.login, number=record.registration_number, to=letter.recipient)
    return page.redirect(f"/workspace/mail/{record.registration_number}")


routes = [Route("/send", send, methods=["GET", "POST"])]
