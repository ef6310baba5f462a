"""Contact details of the administrations' mail offices, shown on acknowledgements and the deposit form.

The signed catalogue says which offices exist and their names; where to write, call or go is the
portal's own directory, ``portal-offices.json`` in the portal's data directory::

    {"MA/GOV/MEF/bureau-ordre": {"name": "...", "address": "...", "phone": "...", "email": "...",
                                  "hours": "..."}}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

DIRECTORY_FILE = "portal-offices.json"


@dataclass(frozen=True, slots=True)
class OfficeContact:
    name: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    hours: str = ""


class OfficeDirectory:
    def __init__(self, contacts: dict[str, OfficeContact] | None = None) -> None:
        self.contacts = dict(contacts or {})

    def contact(self, office: str) -> OfficeContact | None:
        return self.contacts.get(office)

    @classmethod
    def load(cls, path: Path) -> OfficeDirectory:
        """The directory in ``path``; an absent file is an empty directory."""
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return cls()
        known = set(OfficeContact.__dataclass_fields__)
        return cls(
            {
                office: OfficeContact(**{k: str(v) for k, v in entry.items() if k in known})
                for office, entry in data.items()
            }
        )

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {office: asdict(c) for office, c in self.contacts.items()}, ensure_ascii=False, indent=2
            ),
            "utf-8",
        )
