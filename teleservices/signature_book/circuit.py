"""Circuits: the ordered steps a folder goes through, each a visa or a signature by assigned signatories.

A signatory is a bus participant (``ParticipantId``) holding its own signing certificate from the bus
CA: an administration, or an agent or office given its own subsystem id (``MA/GOV/MEF/dg-rh``). The
book never holds signatories' keys; it checks what they sign.

A step's quorum says who must act: ``all`` (every signatory, in any order) or ``any`` (the first one
to act completes the step).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from teleservices.signature_book._bus import Fault, ParticipantId
from teleservices.signature_book.errors import InvalidCircuit

MAX_STEPS = 30
MAX_SIGNATORIES = 50
MAX_LABEL = 200


class StepKind(StrEnum):
    """What a step asks of its signatories."""

    VISA = "visa"
    SIGNATURE = "signature"


class Quorum(StrEnum):
    """How many of a step's signatories must act."""

    ALL = "all"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a circuit; ``number`` is 1-based and set by the circuit."""

    kind: StepKind
    signatories: tuple[ParticipantId, ...]
    quorum: Quorum = Quorum.ALL
    label: str | None = None

    def __post_init__(self) -> None:
        if not self.signatories:
            raise InvalidCircuit("a step needs at least one signatory")
        if len(self.signatories) > MAX_SIGNATORIES:
            raise InvalidCircuit(f"a step has at most {MAX_SIGNATORIES} signatories")
        if len(set(self.signatories)) != len(self.signatories):
            raise InvalidCircuit("a step lists a signatory twice")
        if self.label is not None and not 0 < len(self.label) <= MAX_LABEL:
            raise InvalidCircuit(f"a step label has 1 to {MAX_LABEL} characters")

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": str(self.kind),
            "quorum": str(self.quorum),
            "signatories": [str(s) for s in self.signatories],
        }
        if self.label is not None:
            data["label"] = self.label
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        if not isinstance(data, Mapping):
            raise InvalidCircuit("a step is a JSON object with kind, quorum and signatories")
        unknown = set(data) - {"kind", "quorum", "signatories", "label"}
        if unknown:
            raise InvalidCircuit(f"unknown step field(s): {', '.join(sorted(unknown))}")
        try:
            kind = StepKind(data.get("kind"))
            quorum = Quorum(data.get("quorum", Quorum.ALL))
        except ValueError as error:
            raise InvalidCircuit(f"{error}: kind is visa|signature, quorum is all|any") from None
        signatories = data.get("signatories")
        if isinstance(signatories, str) or not isinstance(signatories, Sequence):
            raise InvalidCircuit("signatories is a list of participant ids")
        return cls(kind, parse_signatories(signatories), quorum, data.get("label"))


def parse_signatories(values: Iterable[object]) -> tuple[ParticipantId, ...]:
    """Participant ids from text, refusing malformed ones with ``InvalidCircuit``."""
    parsed = []
    for value in values:
        try:
            parsed.append(ParticipantId.parse(value))  # type: ignore[arg-type]
        except Fault as fault:
            raise InvalidCircuit(f"signatory {fault.reason}") from None
    return tuple(parsed)


@dataclass(frozen=True, slots=True)
class Circuit:
    """An ordered, non-empty sequence of steps with at least one signature step."""

    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise InvalidCircuit("a circuit has at least one step")
        if len(self.steps) > MAX_STEPS:
            raise InvalidCircuit(f"a circuit has at most {MAX_STEPS} steps")
        if not any(step.kind is StepKind.SIGNATURE for step in self.steps):
            raise InvalidCircuit("a circuit ends in signed documents: it needs at least one signature step")

    def step(self, number: int) -> Step:
        """The step with this 1-based number."""
        if not 1 <= number <= len(self.steps):
            raise InvalidCircuit(f"no step {number} in a circuit of {len(self.steps)}")
        return self.steps[number - 1]

    def __len__(self) -> int:
        return len(self.steps)

    def as_json(self) -> list[dict[str, Any]]:
        return [step.as_json() for step in self.steps]

    @classmethod
    def from_json(cls, data: object) -> Circuit:
        """Parse ``[{"kind": "visa", "quorum": "all", "signatories": [...]}, ...]``."""
        if isinstance(data, Mapping) and "steps" in data:
            data = data["steps"]
        if isinstance(data, str) or not isinstance(data, Sequence):
            raise InvalidCircuit("a circuit is a JSON list of steps")
        return cls(tuple(Step.from_json(item) for item in data))

    @classmethod
    def parse_step(cls, text: str) -> Step:
        """One step from ``KIND[:all|any]:ID[,ID...]`` (the CLI form), e.g. ``signature:any:MA/GOV/A/b``."""
        parts = text.split(":")
        if len(parts) == 2:
            kind, quorum, ids = parts[0], Quorum.ALL.value, parts[1]
        elif len(parts) == 3:
            kind, quorum, ids = parts
        else:
            raise InvalidCircuit(f"{text!r}: a step is KIND[:all|any]:ID[,ID...]")
        kind = {"sign": "signature"}.get(kind, kind)
        return Step.from_json({"kind": kind, "quorum": quorum, "signatories": ids.split(",")})
