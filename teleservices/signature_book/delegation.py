"""Delegations: a signatory lets a substitute act in its place for a period.

A delegation covers every folder step assigned to the principal while it runs; the principal may still
act itself, and whichever acts first fills the principal's part of the step. A substitute acts for
its direct principals only (no chains). Its actions are recorded, and its signatures signed, as
"on behalf of" the principal, with the delegation copied into the history entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from teleservices.signature_book._bus import ParticipantId
from teleservices.signature_book.errors import InvalidDelegation
from teleservices.signature_book.history import DelegationRef, millis

MAX_DELEGATION = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Delegation:
    """A recorded delegation."""

    ref: DelegationRef
    created_at: datetime
    reason: str | None = None

    @property
    def principal(self) -> ParticipantId:
        return self.ref.principal

    @property
    def substitute(self) -> ParticipantId:
        return self.ref.substitute


def new_delegation(
    principal: ParticipantId,
    substitute: ParticipantId,
    valid_from: datetime,
    valid_until: datetime,
    *,
    now: datetime,
    reason: str | None = None,
) -> Delegation:
    """A checked delegation: not to oneself, a non-empty period that has not ended, at most a year."""
    if principal == substitute:
        raise InvalidDelegation(f"{principal} cannot delegate to itself")
    if valid_from.tzinfo is None or valid_until.tzinfo is None:
        raise InvalidDelegation("a delegation period is given in UTC")
    if valid_until <= valid_from:
        raise InvalidDelegation("a delegation ends after it starts")
    if valid_until <= now:
        raise InvalidDelegation("this delegation period has already ended")
    if valid_until - valid_from > MAX_DELEGATION:
        raise InvalidDelegation(f"a delegation lasts at most {MAX_DELEGATION.days} days")
    if reason is not None and not 0 < len(reason) <= 200:
        raise InvalidDelegation("a delegation reason has 1 to 200 characters")
    ref = DelegationRef(str(uuid.uuid4()), principal, substitute, millis(valid_from), millis(valid_until))
    return Delegation(ref, millis(now), reason)


def resolve_principal(
    actor: ParticipantId,
    awaiting: Sequence[ParticipantId],
    delegations: Sequence[Delegation],
    *,
    at: datetime,
    on_behalf_of: ParticipantId | None = None,
) -> tuple[ParticipantId | None, DelegationRef | None]:
    """Whose part ``actor`` fills now: (None, None) for its own, or (principal, delegation).

    Without ``on_behalf_of`` the actor acts for itself when its own part is awaited, otherwise for
    the first awaited principal that delegated to it. ``delegations`` are those granted to ``actor``.
    """
    if on_behalf_of == actor:
        on_behalf_of = None
    if on_behalf_of is None and actor in awaiting:
        return None, None
    active = [d.ref for d in delegations if d.substitute == actor and d.ref.covers(at)]
    if on_behalf_of is not None:
        ref = next((d for d in active if d.principal == on_behalf_of), None)
        if ref is not None:
            return on_behalf_of, ref
        idle = next(
            (d.ref for d in delegations if d.substitute == actor and d.principal == on_behalf_of), None
        )
        if idle is not None:
            raise InvalidDelegation(_not_running(idle, at))
        raise InvalidDelegation(f"{on_behalf_of} has not delegated to {actor}")
    for principal in awaiting:
        ref = next((d for d in active if d.principal == principal), None)
        if ref is not None:
            return principal, ref
    idle = next((d.ref for d in delegations if d.substitute == actor and d.principal in awaiting), None)
    if idle is not None:
        raise InvalidDelegation(_not_running(idle, at))
    return None, None


def _not_running(ref: DelegationRef, at: datetime) -> str:
    return (
        f"the delegation from {ref.principal} to {ref.substitute} runs from {ref.valid_from.isoformat()} "
        f"to {ref.valid_until.isoformat()}, not at {at.isoformat()}"
    )
