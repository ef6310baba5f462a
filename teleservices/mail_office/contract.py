"""The mail office's published contracts: one request/reply teleservice per operation.

Every office provides all of them but ``STATUS`` is also provided by every system that deposits letters
(a citizen portal, another administration's office): each step of a letter's processing is a call to
the depositing system's ``mail.status``, point to point, never a fan-out notification. All share
``mail_office.xsd`` (a resource of this package) and the models of ``models.py``.
"""

from __future__ import annotations

from typing import Any

from sdk import RequestReply
from teleservices.mail_office.models import (
    SCHEMA,
    Acknowledgement,
    AlertQuery,
    Alerts,
    AnswerConsultation,
    Assign,
    Close,
    Consultation,
    ConsultationOpinion,
    CounterLetter,
    Deposit,
    GiveOpinion,
    MailRecord,
    OpinionReceipt,
    Redirect,
    Register,
    RegisterQuery,
    Reply,
    RequestOpinion,
    Send,
    Show,
    ShowSignatures,
    SignatureCircuits,
    StatusChange,
    StatusReceipt,
    Validate,
)

VERSION = 1

DEPOSIT = RequestReply("mail.deposit", VERSION, SCHEMA, request=Deposit, response=Acknowledgement)
STATUS = RequestReply("mail.status", VERSION, SCHEMA, request=StatusChange, response=StatusReceipt)
REGISTER_COUNTER = RequestReply(
    "mail.register-counter", VERSION, SCHEMA, request=CounterLetter, response=Acknowledgement
)

ASSIGN = RequestReply("mail.assign", VERSION, SCHEMA, request=Assign, response=MailRecord)
REDIRECT = RequestReply("mail.redirect", VERSION, SCHEMA, request=Redirect, response=MailRecord)
REQUEST_OPINION = RequestReply(
    "mail.request-opinion", VERSION, SCHEMA, request=RequestOpinion, response=MailRecord
)
GIVE_OPINION = RequestReply("mail.give-opinion", VERSION, SCHEMA, request=GiveOpinion, response=MailRecord)
VALIDATE = RequestReply("mail.validate", VERSION, SCHEMA, request=Validate, response=MailRecord)
REPLY = RequestReply("mail.reply", VERSION, SCHEMA, request=Reply, response=MailRecord)
CLOSE = RequestReply("mail.close", VERSION, SCHEMA, request=Close, response=MailRecord)
SEND = RequestReply("mail.send", VERSION, SCHEMA, request=Send, response=MailRecord)
SHOW = RequestReply("mail.show", VERSION, SCHEMA, request=Show, response=MailRecord)
ANSWER_CONSULTATION = RequestReply(
    "mail.answer-consultation", VERSION, SCHEMA, request=AnswerConsultation, response=MailRecord
)

CONSULT = RequestReply("mail.consult", VERSION, SCHEMA, request=Consultation, response=Acknowledgement)
OPINION = RequestReply("mail.opinion", VERSION, SCHEMA, request=ConsultationOpinion, response=OpinionReceipt)

REGISTER = RequestReply("mail.register", VERSION, SCHEMA, request=RegisterQuery, response=Register)
ALERTS = RequestReply("mail.alerts", VERSION, SCHEMA, request=AlertQuery, response=Alerts)
SIGNATURES = RequestReply(
    "mail.signatures", VERSION, SCHEMA, request=ShowSignatures, response=SignatureCircuits
)
"""Where the signature circuits of a letter's replies stand (``signing.py``)."""

DESK: tuple[RequestReply[Any, MailRecord], ...] = (
    ASSIGN,
    REDIRECT,
    REQUEST_OPINION,
    GIVE_OPINION,
    VALIDATE,
    REPLY,
    CLOSE,
    SEND,
    SHOW,
    ANSWER_CONSULTATION,
)
"""The desk operations, each answered with a ``MailRecord``: for the administration's own systems."""

COUNTER: tuple[RequestReply[Any, Any], ...] = (REGISTER_COUNTER,)
"""Registering a paper letter at the counter (the clerk is the envelope's userId): for desk systems."""

QUERIES: tuple[RequestReply[Any, Any], ...] = (REGISTER, ALERTS, SIGNATURES)
"""Read-only views of the registers and deadlines: for the administration's own systems."""

CORRESPONDENCE: tuple[RequestReply[Any, Any], ...] = (DEPOSIT, STATUS)
"""What depositing systems and other offices call: deposit a letter, report a letter's status."""

CONSULTATION: tuple[RequestReply[Any, Any], ...] = (CONSULT, OPINION)
"""Office to office: one asks another administration's office for an opinion, the opinion comes back."""

DESK_SYSTEM: tuple[RequestReply[Any, Any], ...] = (*DESK, *COUNTER, *QUERIES)
"""Everything an administration's own desk system is granted."""

OFFICE: tuple[RequestReply[Any, Any], ...] = (*CORRESPONDENCE, *CONSULTATION, *DESK, *COUNTER, *QUERIES)
"""Every contract an office provides."""

_BY_REQUEST: dict[type, RequestReply[Any, Any]] = {contract.request: contract for contract in OFFICE}


def contract_for(request: object) -> RequestReply[Any, Any]:
    """The contract whose request ``request`` is (a ``Deposit``, an ``Assign``...)."""
    try:
        return _BY_REQUEST[type(request)]
    except KeyError:
        raise TypeError(f"no mail office contract takes a {type(request).__name__}") from None


__all__ = [
    "ALERTS",
    "ANSWER_CONSULTATION",
    "ASSIGN",
    "CLOSE",
    "CONSULT",
    "CONSULTATION",
    "CORRESPONDENCE",
    "COUNTER",
    "DEPOSIT",
    "DESK",
    "DESK_SYSTEM",
    "GIVE_OPINION",
    "OFFICE",
    "OPINION",
    "QUERIES",
    "REDIRECT",
    "REGISTER",
    "REGISTER_COUNTER",
    "REPLY",
    "REQUEST_OPINION",
    "SEND",
    "SHOW",
    "SIGNATURES",
    "STATUS",
    "VALIDATE",
    "VERSION",
    "contract_for",
]
