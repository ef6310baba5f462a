"""The digital mail office: bureau d'ordre digital and electronic mail desk, a govbus participant.

``MailOffice`` is the service layer every entry point calls (bus handlers, the ``mail`` CLI); the payload
contract is in ``models`` (mail_office.xsd in this package), the teleservices in ``contract``, the desk's state
machine in ``workflow``. ``app`` is the office ``govbus run teleservices.mail_office:app`` runs
(participant ``$GOVBUS_MAIL_OFFICE_ID``); a system depositing letters for its users receives their
status changes and replies with ``DepositorSystem``.
"""

from teleservices.mail_office.config import MailType, OfficeConfig
from teleservices.mail_office.contract import (
    ALERTS,
    ASSIGN,
    CLOSE,
    DEPOSIT,
    DESK,
    GIVE_OPINION,
    REDIRECT,
    REGISTER,
    REPLY,
    REQUEST_OPINION,
    SEND,
    SHOW,
    SIGNATURES,
    STATUS,
    VALIDATE,
)
from teleservices.mail_office.deadlines import Alert, AlertLevel, DayCount
from teleservices.mail_office.delivery import Courier
from teleservices.mail_office.depositor import DepositorStore, DepositorSystem
from teleservices.mail_office.errors import InvalidTransition, MailOfficeError
from teleservices.mail_office.models import (
    NAMESPACE,
    SCHEMA,
    Acknowledgement,
    AlertQuery,
    Alerts,
    Assign,
    Attachment,
    Close,
    Deposit,
    GiveOpinion,
    MailRecord,
    Party,
    PartyKind,
    Redirect,
    Register,
    RegisterQuery,
    Reply,
    RequestOpinion,
    Send,
    Show,
    StatusChange,
    StatusReceipt,
    Validate,
    deposit_digest,
)
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.outbox import DrainReport, OutboxKind, OutboxMessage, Sink
from teleservices.mail_office.service import (
    DEFAULT_OFFICE_ID,
    OFFICE_ID_ENV,
    MailOfficeService,
    app,
    office_id,
)
from teleservices.mail_office.workflow import Action, Direction, Status

__all__ = [
    "ALERTS",
    "ASSIGN",
    "CLOSE",
    "DEFAULT_OFFICE_ID",
    "DEPOSIT",
    "DESK",
    "GIVE_OPINION",
    "NAMESPACE",
    "OFFICE_ID_ENV",
    "REDIRECT",
    "REGISTER",
    "REPLY",
    "REQUEST_OPINION",
    "SCHEMA",
    "SEND",
    "SHOW",
    "SIGNATURES",
    "STATUS",
    "VALIDATE",
    "Acknowledgement",
    "Action",
    "Alert",
    "AlertLevel",
    "AlertQuery",
    "Alerts",
    "Assign",
    "Attachment",
    "Close",
    "Courier",
    "DayCount",
    "Deposit",
    "DepositorStore",
    "DepositorSystem",
    "Direction",
    "DrainReport",
    "GiveOpinion",
    "InvalidTransition",
    "MailOffice",
    "MailOfficeError",
    "MailOfficeService",
    "MailRecord",
    "MailType",
    "OfficeConfig",
    "OutboxKind",
    "OutboxMessage",
    "Party",
    "PartyKind",
    "Redirect",
    "Register",
    "RegisterQuery",
    "Reply",
    "RequestOpinion",
    "Send",
    "Show",
    "Sink",
    "Status",
    "StatusChange",
    "StatusReceipt",
    "Validate",
    "app",
    "deposit_digest",
    "office_id",
]
