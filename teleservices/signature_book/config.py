"""A book's configuration: who it is, its business types with their circuit templates, its timestamping.

Stored as ``config.json`` in the book directory::

    {
      "book": "MA/GOV/MEF/parapheur",
      "timestampAuthority": "MA/GOV/MEF/horodatage",        (optional: B-T when set, B-B otherwise)
      "businessTypes": {
        "hr": {"label": "Human resources",
               "circuit": [{"kind": "visa", "quorum": "all", "signatories": ["MA/GOV/MEF/drh"]},
                           {"kind": "signature", "quorum": "any", "signatories": ["MA/GOV/MEF/sg"]}]},
        "purchasing": {"label": "Purchasing"}                  (no template: the submitter gives the circuit)
      }
    }
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teleservices.signature_book._bus import Fault, ParticipantId
from teleservices.signature_book.circuit import Circuit
from teleservices.signature_book.errors import ConfigurationError, InvalidSubmission

CONFIG_FILE = "config.json"
BUSINESS_TYPE = re.compile(r"[a-z][a-z0-9-]{1,39}")


@dataclass(frozen=True, slots=True)
class BusinessType:
    """A kind of folder (HR, purchasing, ...) with an optional circuit template."""

    code: str
    label: str
    template: Circuit | None = None

    def __post_init__(self) -> None:
        if not BUSINESS_TYPE.fullmatch(self.code):
            raise ConfigurationError(f"business type {self.code!r}: 2-40 lower-case letters, digits or '-'")


DEFAULT_BUSINESS_TYPES: tuple[BusinessType, ...] = (
    BusinessType("hr", "Human resources"),
    BusinessType("purchasing", "Purchasing"),
    BusinessType("logistics", "Logistics"),
    BusinessType("internal-communication", "Internal communication"),
)


@dataclass(frozen=True, slots=True)
class BookConfig:
    """Who the book is, which business types it accepts, and which timestamp authority it uses."""

    book: ParticipantId
    business_types: dict[str, BusinessType] = field(
        default_factory=lambda: {b.code: b for b in DEFAULT_BUSINESS_TYPES}
    )
    timestamp_authority: ParticipantId | None = None

    def business_type(self, code: str) -> BusinessType:
        """The configured business type ``code``, or ``InvalidSubmission``."""
        try:
            return self.business_types[code]
        except KeyError:
            known = ", ".join(sorted(self.business_types))
            raise InvalidSubmission(f"unknown business type {code!r}; this book accepts: {known}") from None

    def circuit_for(self, code: str, circuit: Circuit | None) -> Circuit:
        """The submitted circuit, or the business type's template when none is given."""
        business = self.business_type(code)
        if circuit is not None:
            return circuit
        if business.template is None:
            raise InvalidSubmission(f"business type {code!r} has no circuit template: submit one")
        return business.template

    def as_json(self) -> dict[str, Any]:
        types: dict[str, Any] = {}
        for code, business in self.business_types.items():
            entry: dict[str, Any] = {"label": business.label}
            if business.template is not None:
                entry["circuit"] = business.template.as_json()
            types[code] = entry
        data: dict[str, Any] = {"book": str(self.book), "businessTypes": types}
        if self.timestamp_authority is not None:
            data["timestampAuthority"] = str(self.timestamp_authority)
        return data

    @classmethod
    def from_json(cls, data: Any) -> BookConfig:
        if not isinstance(data, dict) or "book" not in data:
            raise ConfigurationError("the configuration is a JSON object with at least 'book'")
        try:
            book = ParticipantId.parse(data["book"])
            tsa = data.get("timestampAuthority")
            authority = ParticipantId.parse(tsa) if tsa is not None else None
        except Fault as fault:
            raise ConfigurationError(fault.reason) from None
        raw_types = data.get("businessTypes")
        if raw_types is None:
            return cls(book, timestamp_authority=authority)
        if not isinstance(raw_types, dict) or not raw_types:
            raise ConfigurationError("businessTypes is a non-empty JSON object")
        types = {}
        for code, entry in raw_types.items():
            if not isinstance(entry, dict):
                raise ConfigurationError(f"business type {code!r} is a JSON object")
            template = entry.get("circuit")
            types[code] = BusinessType(
                code,
                str(entry.get("label", code)),
                Circuit.from_json(template) if template is not None else None,
            )
        return cls(book, types, authority)

    def save(self, directory: Path) -> Path:
        path = directory / CONFIG_FILE
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: Path) -> BookConfig:
        path = directory / CONFIG_FILE
        if not path.exists():
            raise ConfigurationError(f"no signature book in {directory}: run 'govbus sign init' first")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ConfigurationError(f"{path}: {error}") from None
        return cls.from_json(data)
