"""The folder state machine: replay a history into a state, and check an action before it is recorded.

States of a folder::

    in-progress(step n) --approve/sign completes step n--> in-progress(step n+1)
    in-progress(step N) --approve/sign completes the last step--> completed   (final)
    in-progress(step n) --reject (reason required)--> rejected                 (final)
    in-progress(step n) --undo of an action in step n, or in step n-1 while step n has no action-->
                         in-progress(step n or n-1)

A step is ``pending`` until reached, ``active`` while it waits, ``done`` once its quorum acted (every
signatory for ``all``, one for ``any``), ``rejected`` if rejected there. A visa step takes ``approve``,
a signature step takes ``sign``; either takes ``reject``. A substitute fills the slot of the signatory
it acts for, under a delegation that covers the moment of the action.

Pure functions over immutable values: the book calls them before appending an entry, and bundle
verification replays a whole exported history through the same code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from teleservices.signature_book._bus import ParticipantId
from teleservices.signature_book.circuit import Quorum, Step, StepKind
from teleservices.signature_book.errors import (
    AlreadyActed,
    FolderClosed,
    InvalidDelegation,
    NotAssigned,
    NothingToUndo,
    ReasonRequired,
    StorageCorrupted,
    UndoRefused,
    WrongAction,
)
from teleservices.signature_book.history import EntryKind, FolderDefinition, HistoryEntry

MAX_REASON = 2000


class FolderStatus(StrEnum):
    """Where a folder is in its circuit."""

    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


class StepState(StrEnum):
    """Where a step is."""

    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    REJECTED = "rejected"


ACTION_FOR_STEP = {StepKind.VISA: EntryKind.APPROVED, StepKind.SIGNATURE: EntryKind.SIGNED}


@dataclass(frozen=True, slots=True)
class FolderState:
    """A folder as its history makes it: status, active step and the actions that still count."""

    definition: FolderDefinition
    status: FolderStatus
    current: int | None
    acts: tuple[HistoryEntry, ...] = ()
    step_started: dict[int, datetime] = field(default_factory=dict)
    rejection: HistoryEntry | None = None
    closed_at: datetime | None = None
    last: HistoryEntry | None = None

    @property
    def id(self) -> str:
        return self.definition.id

    def step(self, number: int) -> Step:
        return self.definition.circuit.step(number)

    def acts_in(self, number: int) -> list[HistoryEntry]:
        return [act for act in self.acts if act.step == number]

    def step_state(self, number: int) -> StepState:
        if self.rejection is not None and self.rejection.step == number:
            return StepState.REJECTED
        if self.current == number:
            return StepState.ACTIVE
        if _complete(self.step(number), self.acts_in(number)):
            return StepState.DONE
        return StepState.PENDING

    def awaiting(self) -> list[ParticipantId]:
        """Signatories of the active step whose action would still count."""
        if self.current is None:
            return []
        step = self.step(self.current)
        done = {act.principal for act in self.acts_in(self.current)}
        return [s for s in step.signatories if s not in done]

    def signatures(self) -> list[HistoryEntry]:
        """The ``signed`` entries that still count, in circuit order."""
        return [act for act in self.acts if act.kind is EntryKind.SIGNED]


def _complete(step: Step, acts: Iterable[HistoryEntry]) -> bool:
    principals = {act.principal for act in acts}
    if step.quorum is Quorum.ANY:
        return bool(principals)
    return principals >= set(step.signatories)


def start(entry: HistoryEntry) -> FolderState:
    """The state right after submission."""
    if entry.kind is not EntryKind.SUBMITTED or entry.definition is None:
        raise StorageCorrupted("a history starts with a 'submitted' entry holding the definition")
    return FolderState(
        definition=entry.definition,
        status=FolderStatus.IN_PROGRESS,
        current=1,
        step_started={1: entry.at},
        last=entry,
    )


def check_action(
    state: FolderState,
    kind: EntryKind,
    actor: ParticipantId,
    *,
    on_behalf_of: ParticipantId | None = None,
    reason: str | None = None,
) -> int:
    """Raise the specific error that forbids ``actor`` doing ``kind`` now; return the step number.

    ``kind`` is ``approved``, ``signed`` or ``rejected``. Delegation validity is not checked here.
    """
    if state.status is not FolderStatus.IN_PROGRESS or state.current is None:
        raise FolderClosed(f"folder {state.id} is {state.status}")
    number = state.current
    step = state.step(number)
    principal = on_behalf_of or actor
    if principal not in step.signatories:
        who = f"{actor} (for {principal})" if on_behalf_of else str(actor)
        raise NotAssigned(f"{who} is not a signatory of step {number} of folder {state.id}")
    if kind is EntryKind.REJECTED:
        if reason is None or not reason.strip():
            raise ReasonRequired("a rejection must give its reason")
        if len(reason) > MAX_REASON:
            raise ReasonRequired(f"a rejection reason has at most {MAX_REASON} characters")
        return number
    expected = ACTION_FOR_STEP[step.kind]
    if kind is not expected:
        wanted = "approve (visa)" if expected is EntryKind.APPROVED else "sign"
        raise WrongAction(
            f"step {number} of folder {state.id} is a {step.kind} step: {wanted}, do not {kind}"
        )
    if principal in {act.principal for act in state.acts_in(number)}:
        raise AlreadyActed(f"{principal} has already acted on step {number} of folder {state.id}")
    return number


def undo_target(state: FolderState, actor: ParticipantId) -> HistoryEntry:
    """The action ``actor`` may undo now, or the specific error that forbids it.

    It is the actor's own last action still counting; it can be undone while its step is active, or
    when its step completed and the next step (now active) has no action yet.
    """
    if state.status is not FolderStatus.IN_PROGRESS or state.current is None:
        raise UndoRefused(f"folder {state.id} is {state.status}: its actions stand")
    own = [act for act in state.acts if act.actor == actor]
    if not own:
        raise NothingToUndo(f"{actor} has no action to undo in folder {state.id}")
    target = max(own, key=lambda act: act.seq)
    assert target.step is not None
    if target.step == state.current:
        return target
    if target.step == state.current - 1 and not state.acts_in(state.current):
        return target
    raise UndoRefused(
        f"step {target.step + 1} of folder {state.id} has already acted: "
        f"{actor}'s action on step {target.step} stands"
    )


def apply(state: FolderState, entry: HistoryEntry) -> FolderState:
    """The state after ``entry``, checking that the entry was allowed (replay verifies a history)."""
    if state.last is not None and (entry.seq != state.last.seq + 1 or entry.prev != state.last.hash):
        raise StorageCorrupted(f"history entry {entry.seq} does not follow entry {state.last.seq}")
    if entry.kind is EntryKind.SUBMITTED:
        raise StorageCorrupted(f"history entry {entry.seq}: a folder is submitted once")
    if entry.kind is EntryKind.UNDONE:
        return _apply_undo(state, entry)
    number = check_action(
        state, entry.kind, entry.actor, on_behalf_of=entry.on_behalf_of, reason=entry.reason
    )
    if entry.step != number:
        raise StorageCorrupted(
            f"history entry {entry.seq} acts on step {entry.step}, not the active {number}"
        )
    check_delegation(entry)
    if entry.kind is EntryKind.SIGNED and not entry.signature:
        raise StorageCorrupted(f"history entry {entry.seq} is a signature without its signature file")
    if entry.kind is EntryKind.REJECTED:
        return replace(
            state, status=FolderStatus.REJECTED, current=None, rejection=entry, closed_at=entry.at, last=entry
        )
    acts = (*state.acts, entry)
    step = state.step(number)
    if not _complete(step, [act for act in acts if act.step == number]):
        return replace(state, acts=acts, last=entry)
    if number == len(state.definition.circuit):
        return replace(
            state, acts=acts, status=FolderStatus.COMPLETED, current=None, closed_at=entry.at, last=entry
        )
    started = {**state.step_started, number + 1: entry.at}
    return replace(state, acts=acts, current=number + 1, step_started=started, last=entry)


def check_delegation(entry: HistoryEntry) -> None:
    """An action on behalf of someone carries a delegation from them to the actor covering its time."""
    if entry.on_behalf_of is None:
        if entry.delegation is not None:
            raise StorageCorrupted(f"history entry {entry.seq} has a delegation but acts for no one")
        return
    delegation = entry.delegation
    if delegation is None:
        raise InvalidDelegation(f"{entry.actor} acts for {entry.on_behalf_of} without a delegation")
    if delegation.principal != entry.on_behalf_of or delegation.substitute != entry.actor:
        raise InvalidDelegation(
            f"delegation {delegation.id} is from {delegation.principal} to {delegation.substitute}, "
            f"not from {entry.on_behalf_of} to {entry.actor}"
        )
    if not delegation.covers(entry.at):
        raise InvalidDelegation(
            f"delegation {delegation.id} runs from {delegation.valid_from.isoformat()} "
            f"to {delegation.valid_until.isoformat()}, not at {entry.at.isoformat()}"
        )


def _apply_undo(state: FolderState, entry: HistoryEntry) -> FolderState:
    target = undo_target(state, entry.actor)
    if entry.undoes != target.seq:
        raise StorageCorrupted(f"history entry {entry.seq} undoes {entry.undoes}, not {target.seq}")
    acts = tuple(act for act in state.acts if act.seq != target.seq)
    assert target.step is not None and state.current is not None
    current = min(state.current, target.step)
    started = {n: t for n, t in state.step_started.items() if n <= current}
    return replace(state, acts=acts, current=current, step_started=started, last=entry)


def replay(entries: Iterable[HistoryEntry]) -> FolderState:
    """The state a whole history leads to."""
    iterator = iter(entries)
    first = next(iterator, None)
    if first is None:
        raise StorageCorrupted("empty history")
    state = start(first)
    for entry in iterator:
        state = apply(state, entry)
    return state
