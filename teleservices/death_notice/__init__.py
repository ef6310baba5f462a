"""Pilot: the death notice ("avis de décès"), notifications fanned out to the pension funds.

Funds: ``govbus run teleservices.death_notice:cmr`` (and ``cnss``, ``rcar``, ``cimr``). The commune
(``rabat``) runs inside the civil-status office's own program: see ``teleservices.death_notice.commune``.
"""

from teleservices.death_notice.civil_register import Answer, CivilRegister, Office
from teleservices.death_notice.commune import (
    RABAT,
    answers,
    commune,
    declare_death,
    rabat,
    send_cancellation,
    send_notice,
    unanswered,
)
from teleservices.death_notice.contract import (
    DEATH_NOTICE,
    DEATH_NOTICE_CANCELLATION,
    Act,
    CancellationOutcome,
    CancellationReceipt,
    DeathNotice,
    DeathNoticeCancellation,
    DeathNoticeReceipt,
    Deceased,
    DeclaringAuthority,
    NoticeOutcome,
)
from teleservices.death_notice.pension_fund import PARTICIPANTS, cimr, cmr, cnss, pension_fund, rcar
from teleservices.death_notice.pensions import PensionRegister

__all__ = [
    "DEATH_NOTICE",
    "DEATH_NOTICE_CANCELLATION",
    "PARTICIPANTS",
    "RABAT",
    "Act",
    "Answer",
    "CancellationOutcome",
    "CancellationReceipt",
    "CivilRegister",
    "DeathNotice",
    "DeathNoticeCancellation",
    "DeathNoticeReceipt",
    "Deceased",
    "DeclaringAuthority",
    "NoticeOutcome",
    "Office",
    "PensionRegister",
    "answers",
    "cimr",
    "cmr",
    "cnss",
    "commune",
    "declare_death",
    "pension_fund",
    "rabat",
    "rcar",
    "send_cancellation",
    "send_notice",
    "unanswered",
]
