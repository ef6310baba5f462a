"""The death notice contracts: the notice and its cancellation, each answered by a receipt per fund.

Published as ``death_notice.xsd``, a resource of this package; the communes and the pension funds share these models.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from sdk import Notification, Payload, attr, element

NAMESPACE = "urn:govbus:death-notice:1"
SCHEMA = "death_notice.xsd"
NSMAP = {"d": NAMESPACE}


class NoticeOutcome(StrEnum):
    """What a pension fund did with a death notice."""

    SUSPENDED = "suspended"
    ALREADY_RECORDED = "already-recorded"
    NOT_A_PENSIONER = "not-a-pensioner"
    IDENTITY_MISMATCH = "identity-mismatch"
    CANCELLED = "cancelled"


class CancellationOutcome(StrEnum):
    """What a pension fund did with a cancellation."""

    REINSTATED = "reinstated"
    NOT_SUSPENDED = "not-suspended"
    ALREADY_CANCELLED = "already-cancelled"


class Deceased(Payload, tag="deceased", ns="d", nsmap=NSMAP, skip_empty=True):
    """The deceased as the civil register records them."""

    cin: str = element()
    last_name: str = element(tag="lastName")
    first_name: str = element(tag="firstName")
    birth_date: date | None = element(tag="birthDate", default=None)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Act(Payload, tag="act", ns="d", nsmap=NSMAP):
    """The civil-status act of death: its number (``41/2026``) in its registry."""

    number: str = element()
    registry: str = element()


class DeclaringAuthority(Payload, tag="declaredBy", ns="d", nsmap=NSMAP):
    """The commune or province that registered the death."""

    kind: Literal["commune", "province"] = attr()
    name: str


class DeathNotice(Payload, tag="DeathNotice", ns="d", nsmap=NSMAP):
    """A registered death, sent to every pension fund."""

    deceased: Deceased
    date_of_death: date = element(tag="dateOfDeath")
    place_of_death: str = element(tag="placeOfDeath")
    act: Act
    declared_by: DeclaringAuthority


class DeathNoticeReceipt(Payload, tag="DeathNoticeReceipt", ns="d", nsmap=NSMAP, skip_empty=True):
    """One fund's answer to a death notice."""

    act: str = element()
    outcome: NoticeOutcome = element()
    pension_number: str | None = element(tag="pensionNumber", default=None)
    suspended_from: date | None = element(tag="suspendedFrom", default=None)


class DeathNoticeCancellation(Payload, tag="DeathNoticeCancellation", ns="d", nsmap=NSMAP):
    """Withdraws the notice of ``act`` (declared in error), sent by the commune that sent it."""

    act: Act
    cin: str = element()
    reason: str = element()


class CancellationReceipt(Payload, tag="CancellationReceipt", ns="d", nsmap=NSMAP, skip_empty=True):
    """One fund's answer to a cancellation."""

    act: str = element()
    outcome: CancellationOutcome = element()
    pension_number: str | None = element(tag="pensionNumber", default=None)


DEATH_NOTICE: Notification[DeathNotice, DeathNoticeReceipt] = Notification(
    "death.notice", 1, SCHEMA, notification=DeathNotice, receipt=DeathNoticeReceipt
)
DEATH_NOTICE_CANCELLATION: Notification[DeathNoticeCancellation, CancellationReceipt] = Notification(
    "death.notice.cancellation", 1, SCHEMA, notification=DeathNoticeCancellation, receipt=CancellationReceipt
)
