"""The mail desk state machine: which action moves a letter from which status to which.

Incoming letters (register ``A``) go through the desk::

    registered --assign--> assigned --validate--> validated --reply--> replied --close--> closed
                           assigned --assign|redirect--> assigned
                           assigned --request-opinion--> awaiting-opinion --give-opinion--> assigned
                                                         validated --close--> closed
    assigned | validated --answer-consultation--> replied     (another administration's consultation)

Outgoing letters (register ``D``) are registered, then delivered once the recipient acknowledges them::

    registered --deliver--> delivered

Any other move raises ``InvalidTransition``, which names the allowed moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from teleservices.mail_office.errors import InvalidTransition


class Direction(StrEnum):
    """Which register a letter belongs to."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"

    @property
    def register(self) -> str:
        """The register letter in registration numbers: ``A`` (arrivée) or ``D`` (départ)."""
        return "A" if self is Direction.INCOMING else "D"


class Status(StrEnum):
    """Where a letter is in its life."""

    REGISTERED = "registered"
    ASSIGNED = "assigned"
    AWAITING_OPINION = "awaiting-opinion"
    VALIDATED = "validated"
    REPLIED = "replied"
    CLOSED = "closed"
    DELIVERED = "delivered"


class Action(StrEnum):
    """What an agent (or the office itself) does to a letter; each one is a history entry."""

    REGISTER = "register"
    ASSIGN = "assign"
    REDIRECT = "redirect"
    REQUEST_OPINION = "request-opinion"
    GIVE_OPINION = "give-opinion"
    VALIDATE = "validate"
    REPLY = "reply"
    CLOSE = "close"
    DELIVER = "deliver"
    ANSWER_CONSULTATION = "answer-consultation"
    """The opinion another administration asked for (``consultation``), sent back to it."""


Transitions = Mapping[Status, Mapping[Action, Status]]


def _freeze(table: dict[Status, dict[Action, Status]]) -> Transitions:
    return MappingProxyType({status: MappingProxyType(moves) for status, moves in table.items()})


INCOMING_TRANSITIONS: Transitions = _freeze(
    {
        Status.REGISTERED: {Action.ASSIGN: Status.ASSIGNED},
        Status.ASSIGNED: {
            Action.ASSIGN: Status.ASSIGNED,
            Action.REDIRECT: Status.ASSIGNED,
            Action.REQUEST_OPINION: Status.AWAITING_OPINION,
            Action.VALIDATE: Status.VALIDATED,
            Action.ANSWER_CONSULTATION: Status.REPLIED,
        },
        Status.AWAITING_OPINION: {Action.GIVE_OPINION: Status.ASSIGNED},
        Status.VALIDATED: {
            Action.REPLY: Status.REPLIED,
            Action.CLOSE: Status.CLOSED,
            Action.ANSWER_CONSULTATION: Status.REPLIED,
        },
        Status.REPLIED: {Action.CLOSE: Status.CLOSED},
        Status.CLOSED: {},
    }
)

OUTGOING_TRANSITIONS: Transitions = _freeze(
    {
        Status.REGISTERED: {Action.DELIVER: Status.DELIVERED},
        Status.DELIVERED: {},
    }
)

TRANSITIONS: Mapping[Direction, Transitions] = MappingProxyType(
    {Direction.INCOMING: INCOMING_TRANSITIONS, Direction.OUTGOING: OUTGOING_TRANSITIONS}
)

# An incoming letter in one of these statuses has been answered: its processing deadline no longer runs.
DONE: frozenset[Status] = frozenset({Status.REPLIED, Status.CLOSED})


def allowed(direction: Direction, status: Status) -> Mapping[Action, Status]:
    """The moves open to a letter of ``direction`` in ``status``."""
    return TRANSITIONS[direction].get(status, MappingProxyType({}))


def next_status(number: str, direction: Direction, status: Status, action: Action) -> Status:
    """The status ``action`` leads to, or ``InvalidTransition`` naming the moves that are allowed."""
    moves = allowed(direction, status)
    target = moves.get(action)
    if target is None:
        raise InvalidTransition(
            number,
            direction=direction.value,
            status=status.value,
            action=action.value,
            allowed={a.value: s.value for a, s in moves.items()},
        )
    return target
