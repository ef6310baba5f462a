"""A folder's history: an append-only, hash-linked list of JSON entries, the record the workflow replays.

Each entry carries the hash of the one before it (``prev``; the first carries 64 zeros) and its own
``hash``: SHA-256 of its canonical JSON (keys sorted, no spaces, UTF-8) without the ``hash`` field.
The first entry (``submitted``) holds the whole folder definition: documents by digest, metadata,
circuit. Undoing an action appends an ``undone`` entry; nothing is ever rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from teleservices.signature_book._bus import Fault, ParticipantId
from teleservices.signature_book.circuit import Circuit
from teleservices.signature_book.errors import InvalidCircuit, StorageCorrupted
from teleservices.signature_book.times import format_timestamp, parse_timestamp

GENESIS = "0" * 64


class EntryKind(StrEnum):
    """What happened."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    SIGNED = "signed"
    REJECTED = "rejected"
    UNDONE = "undone"


def canonical_json(value: Any) -> bytes:
    """The byte form hashes are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def millis(moment: datetime) -> datetime:
    """``moment`` truncated to the millisecond precision history and events keep."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """A document of a folder, by content digest."""

    name: str
    mime_type: str
    sha256: str
    size: int
    description: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "mimeType": self.mime_type,
            "sha256": self.sha256,
            "size": self.size,
        }
        if self.description is not None:
            data["description"] = self.description
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DocumentRef:
        return cls(data["name"], data["mimeType"], data["sha256"], int(data["size"]), data.get("description"))


@dataclass(frozen=True, slots=True)
class FolderDefinition:
    """What was submitted: the part of a folder that never changes."""

    id: str
    title: str
    business_type: str
    submitter: ParticipantId
    documents: tuple[DocumentRef, ...]
    circuit: Circuit
    metadata: dict[str, str] = field(default_factory=dict)
    notify_service: str | None = None

    def document(self, name: str) -> DocumentRef | None:
        return next((d for d in self.documents if d.name == name), None)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "businessType": self.business_type,
            "submitter": str(self.submitter),
            "documents": [d.as_json() for d in self.documents],
            "circuit": self.circuit.as_json(),
            "metadata": dict(self.metadata),
        }
        if self.notify_service is not None:
            data["notifyService"] = self.notify_service
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FolderDefinition:
        return cls(
            id=data["id"],
            title=data["title"],
            business_type=data["businessType"],
            submitter=ParticipantId.parse(data["submitter"]),
            documents=tuple(DocumentRef.from_json(d) for d in data["documents"]),
            circuit=Circuit.from_json(data["circuit"]),
            metadata=dict(data.get("metadata", {})),
            notify_service=data.get("notifyService"),
        )


@dataclass(frozen=True, slots=True)
class DelegationRef:
    """The delegation a substitute acted under, copied into the entry so the history stands alone."""

    id: str
    principal: ParticipantId
    substitute: ParticipantId
    valid_from: datetime
    valid_until: datetime

    def covers(self, moment: datetime) -> bool:
        return self.valid_from <= moment <= self.valid_until

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "principal": str(self.principal),
            "substitute": str(self.substitute),
            "validFrom": format_timestamp(self.valid_from),
            "validUntil": format_timestamp(self.valid_until),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DelegationRef:
        return cls(
            data["id"],
            ParticipantId.parse(data["principal"]),
            ParticipantId.parse(data["substitute"]),
            parse_timestamp(data["validFrom"]),
            parse_timestamp(data["validUntil"]),
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded fact about a folder. ``hash`` is derived, never stored apart from the body."""

    folder: str
    seq: int
    at: datetime
    kind: EntryKind
    actor: ParticipantId
    prev: str = GENESIS
    step: int | None = None
    on_behalf_of: ParticipantId | None = None
    delegation: DelegationRef | None = None
    reason: str | None = None
    comment: str | None = None
    undoes: int | None = None
    signature: str | None = None
    request_id: str | None = None
    definition: FolderDefinition | None = None

    @property
    def principal(self) -> ParticipantId:
        """Whose part of the step this entry fills: the actor, or whom they acted for."""
        return self.on_behalf_of or self.actor

    def body(self) -> dict[str, Any]:
        """The hashed JSON object (no ``hash`` field; absent values left out)."""
        data: dict[str, Any] = {
            "folder": self.folder,
            "seq": self.seq,
            "at": format_timestamp(self.at),
            "kind": str(self.kind),
            "actor": str(self.actor),
            "prev": self.prev,
        }
        optional: dict[str, Any] = {
            "step": self.step,
            "onBehalfOf": str(self.on_behalf_of) if self.on_behalf_of else None,
            "delegation": self.delegation.as_json() if self.delegation else None,
            "reason": self.reason,
            "comment": self.comment,
            "undoes": self.undoes,
            "signature": self.signature,
            "requestId": self.request_id,
            "definition": self.definition.as_json() if self.definition else None,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data

    @property
    def hash(self) -> str:
        return sha256_hex(canonical_json(self.body()))

    def as_json(self) -> dict[str, Any]:
        return {**self.body(), "hash": self.hash}

    def chained(self, previous: HistoryEntry | None) -> HistoryEntry:
        """This entry placed after ``previous`` (or first): ``seq`` and ``prev`` set."""
        if previous is None:
            return replace(self, seq=1, prev=GENESIS)
        return replace(self, seq=previous.seq + 1, prev=previous.hash)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryEntry:
        """Parse an entry; when it carries a ``hash``, that hash must match its body."""
        try:
            on_behalf_of = data.get("onBehalfOf")
            delegation = data.get("delegation")
            definition = data.get("definition")
            entry = cls(
                folder=data["folder"],
                seq=int(data["seq"]),
                at=parse_timestamp(data["at"]),
                kind=EntryKind(data["kind"]),
                actor=ParticipantId.parse(data["actor"]),
                prev=data["prev"],
                step=data.get("step"),
                on_behalf_of=ParticipantId.parse(on_behalf_of) if on_behalf_of else None,
                delegation=DelegationRef.from_json(delegation) if delegation else None,
                reason=data.get("reason"),
                comment=data.get("comment"),
                undoes=data.get("undoes"),
                signature=data.get("signature"),
                request_id=data.get("requestId"),
                definition=FolderDefinition.from_json(definition) if definition else None,
            )
        except (AttributeError, KeyError, TypeError, ValueError, Fault, InvalidCircuit) as error:
            raise StorageCorrupted(f"unreadable history entry: {type(error).__name__}: {error}") from None
        expected = data.get("hash")
        if expected is not None and expected != entry.hash:
            raise StorageCorrupted(f"history entry {entry.seq} does not match its hash")
        return entry


def check_chain(entries: Sequence[HistoryEntry], folder: str | None = None) -> None:
    """Raise ``StorageCorrupted`` unless ``entries`` form one unbroken chain for one folder."""
    if not entries:
        raise StorageCorrupted("empty history")
    folder = folder or entries[0].folder
    previous = GENESIS
    for index, entry in enumerate(entries, start=1):
        if entry.folder != folder:
            raise StorageCorrupted(f"history entry {index} belongs to folder {entry.folder}, not {folder}")
        if entry.seq != index:
            raise StorageCorrupted(f"history entry {index} has sequence number {entry.seq}")
        if entry.prev != previous:
            raise StorageCorrupted(f"history entry {index} does not link to entry {index - 1}")
        if (entry.kind is EntryKind.SUBMITTED) != (index == 1) or (index == 1) != (
            entry.definition is not None
        ):
            raise StorageCorrupted("a history starts with its one 'submitted' entry holding the definition")
        previous = entry.hash


def history_json(entries: Sequence[HistoryEntry]) -> bytes:
    """The bundle form of a history: a JSON array of entries with their hashes."""
    text = json.dumps([e.as_json() for e in entries], indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def parse_history(data: bytes) -> list[HistoryEntry]:
    """Inverse of ``history_json``; the chain is checked."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise StorageCorrupted(f"history is not JSON: {error}") from None
    if not isinstance(raw, list):
        raise StorageCorrupted("history is a JSON array of entries")
    entries = [HistoryEntry.from_json(item) for item in raw]
    check_chain(entries)
    return entries
