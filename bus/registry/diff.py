"""What changes between two catalogues, one line per participant, service or grant (the version aside)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bus.registry.catalogue import Catalogue, ServiceEntry

Sign = Literal["+", "-", "~"]


@dataclass(frozen=True, order=True)
class Change:
    """One added (``+``), removed (``-``) or changed (``~``) item of a catalogue."""

    kind: str
    subject: str
    sign: Sign
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.sign} {self.kind:<11} {self.subject}" + (f"  ({self.detail})" if self.detail else "")


def _describe(entry: ServiceEntry) -> str:
    digest = entry.digest[:12] if entry.digest else "no digest"
    return f"{entry.style}, {entry.schema} {digest}"


def _changed(old: ServiceEntry, new: ServiceEntry) -> str:
    parts = []
    if old.style != new.style:
        parts.append(f"style {old.style} -> {new.style}")
    if old.schema != new.schema:
        parts.append(f"schema {old.schema} -> {new.schema}")
    if old.digest != new.digest:
        parts.append(f"schema digest {old.digest[:12] or 'none'} -> {new.digest[:12] or 'none'}")
    if old.confidential != new.confidential:
        parts.append(f"confidential {str(old.confidential).lower()} -> {str(new.confidential).lower()}")
    if old.description != new.description:
        parts.append(f"description {old.description!r} -> {new.description!r}")
    return ", ".join(parts)


def catalogue_diff(old: Catalogue, new: Catalogue) -> list[Change]:
    """The changes that turn ``old`` into ``new``: participants, services, then grants, each sorted."""
    changes: list[Change] = []
    if old.instance != new.instance:
        changes.append(Change("instance", new.instance, "~", f"was {old.instance}"))
    for participant in sorted(old.participants.keys() | new.participants.keys()):
        before, after = old.participants.get(participant), new.participants.get(participant)
        if before is None:
            changes.append(Change("participant", str(participant), "+", after or ""))
        elif after is None:
            changes.append(Change("participant", str(participant), "-", before))
        elif before != after:
            changes.append(Change("participant", str(participant), "~", f"name {before!r} -> {after!r}"))
    for service in sorted(old.services.keys() | new.services.keys()):
        was, now = old.services.get(service), new.services.get(service)
        if was is None and now is not None:
            changes.append(Change("service", str(service), "+", _describe(now)))
        elif now is None and was is not None:
            changes.append(Change("service", str(service), "-", _describe(was)))
        elif was is not None and now is not None and was != now:
            changes.append(Change("service", str(service), "~", _changed(was, now)))
    for grant in sorted(old.grants ^ new.grants):
        sign: Sign = "+" if grant in new.grants else "-"
        changes.append(Change("grant", f"{grant.client} {grant.right} {grant.service}", sign))
    return changes
