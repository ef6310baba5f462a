"""The death notice contracts: the notice and its cancellation, each answered by a receipt per fund.

The models are the contract: ``death_notice.xsd`` (a resource of this package) is generated from them (``govbus contract
generate teleservices.death_notice.contract``); the communes and the pension funds share these models.
death.notice: the commune or province where a death is registered notifies the pension funds; each fund
answers with a signed DeathNoticeReceipt saying what it did. death.notice.cancellation: the same notifier
withdraws a notice declared in error; each fund answers with a CancellationReceipt. A notice is
identified by its civil-status act (number and registry) within its notifier.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from sdk import Notification, Payload, attr, element
from sdk.xsdgen import XsdType

NAMESPACE = "urn:govbus:death-notice:1"
SCHEMA = "death_notice.xsd"
NSMAP = {"d": NAMESPACE}

# Lexical rules of the published XSD (generated from these models); the XSD check of both ends applies them.
Cin = Annotated[str, XsdType("Cin", pattern="^[A-Z]{1,2}[0-9]{1,7}$")]
"""National identity card number, e.g. AB123456."""
ActNumber = Annotated[str, XsdType("ActNumber", pattern="^[1-9][0-9]{0,6}/[0-9]{4}$")]
"""Civil-status act number within its registry and year, e.g. 41/2026."""
Text = Annotated[str, XsdType("Text", min_length=1, max_length=200)]
PensionNumber = Annotated[str, XsdType("PensionNumber", pattern="^[A-Z0-9-]{4,24}$")]


class NoticeOutcome(StrEnum):
    """What a pension fund did with a death notice.

    suspended: the pension is suspended from suspendedFrom. already-recorded: it already was (same act
    redelivered, or another act for the same person); pensionNumber and suspendedFrom are the recorded
    ones. not-a-pensioner: no pension at this fund. identity-mismatch: the CIN is a pensioner's but the
    name is not; nothing suspended, the fund reviews it by hand. cancelled: the notice was cancelled
    before it arrived; nothing suspended.
    """

    SUSPENDED = "suspended"
    ALREADY_RECORDED = "already-recorded"
    NOT_A_PENSIONER = "not-a-pensioner"
    IDENTITY_MISMATCH = "identity-mismatch"
    CANCELLED = "cancelled"


class CancellationOutcome(StrEnum):
    """What a pension fund did with a cancellation.

    reinstated: the pension suspended on this notice is paid again (arrears included). not-suspended: this
    notice had suspended nothing here (or had not arrived; it will be ignored if it does).
    already-cancelled: this cancellation was already applied.
    """

    REINSTATED = "reinstated"
    NOT_SUSPENDED = "not-suspended"
    ALREADY_CANCELLED = "already-cancelled"


class Deceased(Payload, tag="deceased", ns="d", nsmap=NSMAP, skip_empty=True):
    """The deceased as the civil register records them."""

    cin: Cin = element()
    last_name: Text = element(tag="lastName")
    first_name: Text = element(tag="firstName")
    birth_date: date | None = element(tag="birthDate", default=None)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Act(Payload, tag="act", ns="d", nsmap=NSMAP):
    """The civil-status act of death: its number (``41/2026``) in its registry."""

    number: ActNumber = element()
    registry: Text = element()


class DeclaringAuthority(Payload, tag="declaredBy", ns="d", nsmap=NSMAP):
    """The commune or province that registered the death."""

    kind: Literal["commune", "province"] = attr()
    name: Text


class DeathNotice(Payload, tag="DeathNotice", ns="d", nsmap=NSMAP):
    """A registered death, sent to every pension fund."""

    deceased: Deceased
    date_of_death: date = element(tag="dateOfDeath")
    place_of_death: Text = element(tag="placeOfDeath")
    act: Act
    declared_by: DeclaringAuthority


class DeathNoticeReceipt(Payload, tag="DeathNoticeReceipt", ns="d", nsmap=NSMAP, skip_empty=True):
    """One fund's answer to a death notice."""

    act: ActNumber = element()
    outcome: NoticeOutcome = element()
    pension_number: PensionNumber | None = element(tag="pensionNumber", default=None)
    suspended_from: date | None = element(tag="suspendedFrom", default=None)


class DeathNoticeCancellation(Payload, tag="DeathNoticeCancellation", ns="d", nsmap=NSMAP):
    """Withdraws the notice of ``act`` (declared in error), sent by the commune that sent it."""

    act: Act
    cin: Cin = element()
    reason: Text = element()


class CancellationReceipt(Payload, tag="CancellationReceipt", ns="d", nsmap=NSMAP, skip_empty=True):
    """One fund's answer to a cancellation."""

    act: ActNumber = element()
    outcome: CancellationOutcome = element()
    pension_number: PensionNumber | None = element(tag="pensionNumber", default=None)


DEATH_NOTICE: Notification[DeathNotice, DeathNoticeReceipt] = Notification(
    "death.notice", 1, SCHEMA, notification=DeathNotice, receipt=DeathNoticeReceipt
)
DEATH_NOTICE_CANCELLATION: Notification[DeathNoticeCancellation, CancellationReceipt] = Notification(
    "death.notice.cancellation", 1, SCHEMA, notification=DeathNoticeCancellation, receipt=CancellationReceipt
)
