"""The mail desk's side of signature circuits: a reply sent through one, and where it stands.

An agent who replies may choose signers of their administration: the reply then carries a circuit (an
optional visa step, then a signature step, all of them or any one) and the mail office holds it until
the signature book completes it (teleservices/mail_office/signing.py). The letter page lists the
circuits of the letter's replies (``mail.signatures``, asked by the desk system like every desk call).
"""

from __future__ import annotations

from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool

from sdk import CallFailed, Client
from teleservices.mail_office import SIGNATURES
from teleservices.mail_office.models import (
    MailRecord,
    Reply,
    ShowSignatures,
    SignatureCircuit,
    SignatureQuorum,
    SignatureStep,
    SignatureStepKind,
)
from web.workspace.agents import Agent
from web.workspace.pages import AgentVisit
from web.workspace.signing.access import signers_of
from web.workspace.signing.pages import QUORUM, SIGNATURE_STATE, STEP_KIND

log = structlog.get_logger("govbus.web.workspace.signing")


def with_signature(operation: Any, form: Any, page: AgentVisit, agent: Agent) -> Any:
    """``operation`` with the circuit chosen on the reply form (a ``Reply`` only); ValueError if the
    form names a signatory who is not a signer of the agent's administration."""
    if not isinstance(operation, Reply) or page.workspace.signature_book is None:
        return operation
    allowed = {participant for participant, _ in signers_of(page, agent.administration)}
    visa = [str(p) for p in form.getlist("visa_signatories")]
    signature = [str(p) for p in form.getlist("signature_signatories")]
    if not set(visa + signature) <= allowed:
        raise ValueError("choose signers of your administration")
    if visa and not signature:
        raise ValueError("a circuit with a visa needs a signature step")
    steps = []
    if visa:
        steps.append(SignatureStep(kind=SignatureStepKind.VISA, signatories=list(dict.fromkeys(visa))))
    if signature:
        quorum = SignatureQuorum.ANY if form.get("signature_quorum") == "any" else SignatureQuorum.ALL
        steps.append(
            SignatureStep(
                kind=SignatureStepKind.SIGNATURE, quorum=quorum, signatories=list(dict.fromkeys(signature))
            )
        )
    return operation.model_copy(update={"signature": steps}) if steps else operation


def _circuits(desk: Client, office: str, number: str, actor: str) -> list[SignatureCircuit]:
    try:
        answer = desk.call(office, SIGNATURES, ShowSignatures(registration_number=number), user_id=actor)
    except (CallFailed, ValueError) as error:
        log.warning("web.signature_circuits_unavailable", number=number, error=str(error))
        return []
    return list(answer.circuits)


async def letter_extras(page: AgentVisit, agent: Agent, record: MailRecord) -> dict[str, Any]:
    """What the letter page shows of signature circuits, and the signers the reply form offers."""
    office = agent.administration or ""
    desk = page.workspace.desks.get(office)
    if desk is None or page.workspace.signature_book is None:
        return {}
    circuits = await run_in_threadpool(_circuits, desk, office, record.registration_number, agent.actor)
    return {
        "_": page.markup,
        "circuits": circuits,
        "signature_signers": signers_of(page, agent.administration),
        "signature_states": SIGNATURE_STATE,
        "signature_step_kinds": STEP_KIND,
        "signature_quorums": QUORUM,
    }
