"""The data subject of an exchange: the person or company whose personal data it concerns.

Written ``TYPE:IDENTIFIER`` in the signed ``dataSubject`` header field (schemas/envelope.xsd), so a
provider, the access tracker and the subject itself can rely on it: changing it breaks the signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bus.faults import Fault, FaultCode


class SubjectKind(StrEnum):
    """Which register the identifier belongs to."""

    CIN = "CIN"  # national identity card number of a citizen
    ICE = "ICE"  # common company identifier (15 digits)


_RULES = {
    SubjectKind.CIN: re.compile(r"[A-Z]{1,2}[0-9]{1,7}"),
    SubjectKind.ICE: re.compile(r"[0-9]{15}"),
}


@dataclass(frozen=True, slots=True)
class DataSubject:
    """A typed identifier; ``str()`` is its header form, ``CIN:AB123456``."""

    kind: SubjectKind
    identifier: str

    @classmethod
    def parse(cls, text: str) -> DataSubject:
        """``CIN:AB12345`` or ``ICE:001234567000089``; ``Fault(Client.InvalidIdentifier)`` otherwise."""
        kind, sep, identifier = text.partition(":")
        if not sep or kind not in SubjectKind.__members__:
            raise Fault(FaultCode.INVALID_IDENTIFIER, f"data subject {text!r} is not CIN:... or ICE:...")
        subject_kind = SubjectKind(kind)
        if not _RULES[subject_kind].fullmatch(identifier):
            raise Fault(FaultCode.INVALID_IDENTIFIER, f"data subject {text!r} is not a valid {kind} number")
        return cls(subject_kind, identifier)

    def __str__(self) -> str:
        return f"{self.kind}:{self.identifier}"


def subject_text(subject: DataSubject | str | None) -> str | None:
    """The header form of ``subject``, validated; None stays None."""
    if subject is None:
        return None
    return str(subject if isinstance(subject, DataSubject) else DataSubject.parse(subject))
