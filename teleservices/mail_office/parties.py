"""Who may send or receive a letter: the identifier form that fits each kind of party.

- citizen: CIN, one or two capital letters then digits (``AB123456``);
- company: ICE, fifteen digits (``001525369000088``);
- administration: a bus participant id, ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]`` (``MA/GOV/MEF/bo``);
- visitor: a person at the counter who gave no CIN, named by the office (``guichet-`` and 16 hex digits).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sdk import Fault, ParticipantId
from teleservices.mail_office.errors import InvalidSender
from teleservices.mail_office.models import Party, PartyKind

CIN = re.compile(r"[A-Z]{1,2}[0-9]{1,7}")
VISITOR = re.compile(r"guichet-[0-9a-f]{16}")
ICE = re.compile(r"[0-9]{15}")


def is_participant(identifier: str) -> bool:
    """Whether ``identifier`` is a bus participant id (the SDK's ``ParticipantId`` rules)."""
    try:
        ParticipantId.parse(identifier)
    except Fault:
        return False
    return True


_FORMS: dict[PartyKind, tuple[Callable[[str], object], str]] = {
    PartyKind.CITIZEN: (CIN.fullmatch, "a CIN (one or two capital letters, then digits)"),
    PartyKind.COMPANY: (ICE.fullmatch, "an ICE (15 digits)"),
    PartyKind.ADMINISTRATION: (is_participant, "a participant id INSTANCE/CLASS/MEMBER[/SUBSYSTEM]"),
    PartyKind.VISITOR: (VISITOR.fullmatch, "a counter reference guichet-<16 hex digits>"),
}


def check_party(party: Party, role: str) -> None:
    """``InvalidSender`` unless the party's identifier has the form its kind requires."""
    fits, form = _FORMS[party.kind]
    if not fits(party.identifier):
        raise InvalidSender(f"the {role} is a {party.kind.value}: {party.identifier!r} is not {form}")


def member(participant: str) -> str:
    """The administration a participant id belongs to: ``MA/GOV/MEF/bo`` -> ``MA/GOV/MEF``."""
    return "/".join(participant.split("/")[:3])


def same_administration(a: str, b: str) -> bool:
    """Whether two participant ids belong to the same administration (member)."""
    return member(a) == member(b)
