"""The digital mail office: bureau d'ordre digital and electronic mail desk, a govbus participant.

``MailOffice`` is the service layer every entry point calls (bus handlers, the ``mail`` CLI); the payload
contract is in ``models`` (schemas/mail_office.xsd), the desk's state machine in ``workflow``.
"""

from teleservices.mail_office.config import MailType, OfficeConfig
from teleservices.mail_office.deadlines import Alert, AlertLevel, DayCount
from teleservices.mail_office.delivery import Courier
from teleservices.mail_office.errors import InvalidTransition, MailOfficeError
from teleservices.mail_office.models import (
    NAMESPACE,
    SCHEMA,
    Acknowledgement,
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
from teleservices.mail_office.workflow import Action, Direction, Status

__all__ = [
    "NAMESPACE",
    "SCHEMA",
    "Acknowledgement",
    "Action",
    "Alert",
    "AlertLevel",
    "Assign",
    "Attachment",
    "Close",
    "Courier",
    "DayCount",
    "Deposit",
    "Direction",
    "DrainReport",
    "GiveOpinion",
    "InvalidTransition",
    "MailOffice",
    "MailOfficeError",
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
    "deposit_digest",
]
