"""Rendering the signature book's pages: the workspace's templates, texts through ``_`` (Babel catalogues).

Message ids are English, as in the portal's templates (``web/locale/<lang>/LC_MESSAGES/messages.po``);
the page's language is the agent's choice (``AgentVisit.language``). Refusals of the book are shown by their code (``ERRORS``), never as a
traceback.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sdk import CallFailed
from web.i18n import N_
from web.workspace.pages import AgentVisit

BUSINESS_TYPES = {
    "hr": N_("Human resources"),
    "purchasing": N_("Purchasing"),
    "logistics": N_("Logistics"),
    "internal-communication": N_("Internal communication"),
}
FOLDER_STATUS = {
    "in-progress": N_("In progress"),
    "completed": N_("Completed"),
    "rejected": N_("Rejected"),
}
STEP_KIND = {"visa": N_("Approval (visa)"), "signature": N_("Signature")}
QUORUM = {"all": N_("all of them"), "any": N_("any one of them")}
STEP_STATE = {
    "pending": N_("To come"),
    "active": N_("Current"),
    "done": N_("Done"),
    "rejected": N_("Rejected"),
}
ENTRY_KIND = {
    "submitted": N_("Submitted"),
    "approved": N_("Approved (visa)"),
    "signed": N_("Signed"),
    "rejected": N_("Rejected"),
    "undone": N_("Undone"),
}
SIGNATURE_STATE = {
    "to-submit": N_("Waiting to enter the signature book"),
    "in-circuit": N_("In the signature circuit"),
    "signed": N_("Signed: sent"),
    "rejected": N_("Rejected: not sent"),
}
ERRORS = {
    "SignatureBook.NotAssigned": N_("You are not a signatory of the current step."),
    "SignatureBook.WrongAction": N_("This step calls for another action (visa or signature)."),
    "SignatureBook.AlreadyActed": N_("Your part of this step is already done."),
    "SignatureBook.ReasonRequired": N_("Give the reason for the rejection."),
    "SignatureBook.FolderClosed": N_("This folder is closed."),
    "SignatureBook.NothingToUndo": N_("You have nothing to undo in this folder."),
    "SignatureBook.UndoRefused": N_("This action can no longer be undone."),
    "SignatureBook.InvalidDelegation": N_("This delegation is not possible."),
    "SignatureBook.InvalidCircuit": N_("The circuit is not valid."),
    "SignatureBook.InvalidSubmission": N_("The folder is not valid."),
    "SignatureBook.NotFinished": N_("The folder is not finished."),
}


def refusal(page: AgentVisit, error: Exception) -> str:
    """What to tell the agent about a refused action: the book's reason under a heading in their language."""
    if isinstance(error, CallFailed):
        code = error.service_code or str(error.code)
        heading = page._(ERRORS.get(code, N_("The signature book refused the action.")))
        return f"{heading} ({code} : {getattr(error, 'reason', str(error))})"
    return f"{page._(N_('Invalid data.'))} {error}"


def render(page: AgentVisit, name: str, status_code: int = 200, **values: Any) -> Response:
    return page.render(
        name,
        status_code,
        _=page.markup,
        folder_status=FOLDER_STATUS,
        step_kind=STEP_KIND,
        quorum_label=QUORUM,
        step_state=STEP_STATE,
        entry_kind=ENTRY_KIND,
        business_labels=BUSINESS_TYPES,
        **values,
    )
