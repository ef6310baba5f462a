"""The signature book service: the one API the CLI calls today and the bus handlers will call tomorrow.

Every command takes the acting participant explicitly (over the bus: the verified envelope signer,
``ctx.client``) and an optional ``request_id`` (``ctx.message_id``) recorded in the history, linking an
action to the signed message that asked for it. Queries take an optional ``viewer``: when given, only
the folder's submitter, its signatories and their running substitutes may see it; ``None`` is the
trusted local operator. Answers are the contract's payload models.

Each command is one SQLite transaction that re-reads the folder's history, checks the action with the
workflow, appends one history entry and writes the resulting events to the outbox; after the commit,
the configured sink (if any) is given the pending events.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from sdk.outbox import OutboxPump
from sdk.store import Locator
from teleservices.signature_book._bus import BusHome, ParticipantId, SigningIdentity, TrustStore
from teleservices.signature_book.bundle import (
    build_manifest,
    bundle_files,
    seal,
    signature_path,
    write_file,
    zip_bytes,
)
from teleservices.signature_book.circuit import Circuit, Quorum, Step, StepKind
from teleservices.signature_book.config import BookConfig
from teleservices.signature_book.delegation import Delegation, new_delegation, resolve_principal
from teleservices.signature_book.errors import (
    ConfigurationError,
    FolderClosed,
    InvalidDelegation,
    InvalidSubmission,
    NotFinished,
    SignatureRefused,
    StorageCorrupted,
    UnknownDocument,
    UnknownFolder,
    WrongAction,
)
from teleservices.signature_book.events import EventSink, folder_events, recipient_of, sender
from teleservices.signature_book.history import (
    DelegationRef,
    DocumentRef,
    EntryKind,
    FolderDefinition,
    HistoryEntry,
    history_json,
    millis,
    sha256_hex,
)
from teleservices.signature_book.models import (
    ActionResult,
    ActionView,
    DelegateSignature,
    DelegationEvent,
    DelegationView,
    DocumentContent,
    EntryKindName,
    FolderList,
    FolderStatusName,
    FolderSummary,
    FolderView,
    HistoryItem,
    MetadataEntry,
    QuorumName,
    SigningRequest,
    StepKindName,
    StepStateName,
    StepView,
    SubmitFolder,
)
from teleservices.signature_book.signing import (
    check_folder_signature,
    document_info,
    document_uri,
    sign_request,
)
from teleservices.signature_book.store import BookStore
from teleservices.signature_book.times import utc_now
from teleservices.signature_book.timestamp import LocalTimestampAuthority, TimestampService
from teleservices.signature_book.workflow import (
    FolderState,
    FolderStatus,
    apply,
    check_action,
    replay,
    start,
    undo_target,
)
from teleservices.signature_book.xades import CLOCK_SKEW, DetachedXadesSigner, add_signature_timestamp

log = structlog.get_logger(__name__)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_FOLDER_BYTES = 50 * 1024 * 1024
MAX_NOTIFY_SERVICE = 300
EVENTS = "signature_book.events"
"""The name of the book's outbox pump (its thread, its log events)."""


class SignatureBook:
    """A signature book over a store, sealing with ``identity`` and checking signatures with ``trust``."""

    def __init__(
        self,
        store: BookStore,
        config: BookConfig,
        *,
        identity: SigningIdentity,
        trust: TrustStore,
        timestamps: TimestampService | None = None,
        sink: EventSink | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if identity.participant != config.book:
            raise ConfigurationError(f"the book is {config.book} but its key is {identity.participant}'s")
        if (timestamps is None) != (config.timestamp_authority is None) or (
            timestamps is not None and timestamps.authority != config.timestamp_authority
        ):
            raise ConfigurationError("the timestamp service must be the configured timestamp authority")
        self.store = store
        self.config = config
        self.trust = trust
        self.timestamps = timestamps
        self.sink = sink
        self._sealer = DetachedXadesSigner(identity)
        self._clock = clock

    @classmethod
    def create(cls, directory: Path, config: BookConfig, *, storage: Locator | None = None) -> Path:
        """Write a new book's configuration and empty store; return the configuration file."""
        path = config.save(Path(directory))
        BookStore.open(Path(directory), storage)
        return path

    @classmethod
    def open(
        cls,
        directory: Path,
        home: BusHome,
        *,
        sink: EventSink | None = None,
        clock: Callable[[], datetime] = utc_now,
        storage: Locator | None = None,
    ) -> SignatureBook:
        """The book in ``directory``, with its own key, the bus trust store and timestamp key from ``home``.

        ``storage`` says where its tables live (its node's storage); by default a SQLite file in ``directory``.
        """
        config = BookConfig.load(Path(directory))
        identity = SigningIdentity.from_home(home, config.book)
        timestamps = None
        if config.timestamp_authority is not None:
            tsa = SigningIdentity.from_home(home, config.timestamp_authority)
            timestamps = LocalTimestampAuthority(tsa, clock=clock)
        return cls(
            BookStore.open(Path(directory), storage),
            config,
            identity=identity,
            trust=TrustStore.from_home(home),
            timestamps=timestamps,
            sink=sink,
            clock=clock,
        )

    @property
    def participant(self) -> ParticipantId:
        return self.config.book

    def _now(self) -> datetime:
        return millis(self._clock())

    # Commands

    def submit(
        self, submitter: ParticipantId, request: SubmitFolder, *, request_id: str | None = None
    ) -> FolderView:
        """Record a new folder and start its circuit at step 1."""
        self.config.business_type(request.business_type)
        circuit = self.config.circuit_for(request.business_type, _circuit(request))
        _check_documents(request)
        keys = [entry.key for entry in request.metadata]
        if len(set(keys)) != len(keys):
            raise InvalidSubmission("a metadata key appears twice")
        refs = []
        for upload in request.documents:
            digest = self.store.put_blob(upload.content)
            refs.append(
                DocumentRef(upload.name, upload.mime_type, digest, len(upload.content), upload.description)
            )
        definition = FolderDefinition(
            id=str(uuid.uuid4()),
            title=request.title,
            business_type=request.business_type,
            submitter=submitter,
            documents=tuple(refs),
            circuit=circuit,
            metadata={entry.key: entry.value for entry in request.metadata},
            notify_service=request.notify_service,
        )
        entry = HistoryEntry(
            folder=definition.id,
            seq=1,
            at=self._now(),
            kind=EntryKind.SUBMITTED,
            actor=submitter,
            definition=definition,
            request_id=request_id,
        )
        state = start(entry)
        with self.store.transaction() as conn:
            self.store.save_folder(conn, state)
            self.store.append(conn, entry)
            self._enqueue(conn, state, entry)
        log.info("signature_book.submitted", folder=definition.id, submitter=str(submitter))
        self._deliver()
        return self.folder(definition.id)

    def approve(
        self,
        folder_id: str,
        actor: ParticipantId,
        *,
        on_behalf_of: ParticipantId | None = None,
        comment: str | None = None,
        request_id: str | None = None,
    ) -> ActionResult:
        """Give the visa of ``actor`` (or of its principal) on the active visa step."""
        return self._act(
            folder_id,
            actor,
            EntryKind.APPROVED,
            on_behalf_of=on_behalf_of,
            comment=comment,
            request_id=request_id,
        )

    def reject(
        self,
        folder_id: str,
        actor: ParticipantId,
        reason: str,
        *,
        on_behalf_of: ParticipantId | None = None,
        request_id: str | None = None,
    ) -> ActionResult:
        """Reject the folder with a mandatory reason: the circuit ends and the submitter is notified."""
        return self._act(
            folder_id,
            actor,
            EntryKind.REJECTED,
            on_behalf_of=on_behalf_of,
            reason=reason,
            request_id=request_id,
        )

    def sign(
        self, folder_id: str, actor: ParticipantId, signature: bytes, *, request_id: str | None = None
    ) -> ActionResult:
        """Accept ``actor``'s detached XAdES B-B signature for the active signature step.

        The signature must verify over every document, be made by ``actor``'s bus certificate (valid and
        unrevoked now), carry the SigningContext of this book, folder and step, and name the principal
        when ``actor`` signs as a substitute. The book adds a SignatureTimeStamp (B-T) when it has a
        timestamp authority, then records the signature.
        """
        now = self._now()
        with self.store.transaction() as conn:
            entries = self.store.history(conn, folder_id)
            state = replay(entries)
            step = self._active_step(state, EntryKind.SIGNED)
            documents = self._document_contents(state)
            checked = check_folder_signature(
                signature,
                documents=documents,
                trust=self.trust,
                book=self.participant,
                folder_id=folder_id,
                step=step,
                signatory=actor,
                at=now,
                allow_timestamp=False,
            )
            if checked.verified.signing_time < state.step_started[step] - CLOCK_SKEW:
                raise SignatureRefused(
                    f"signed at {checked.verified.signing_time.isoformat()}, before step {step} started",
                    code="Signature.SigningTime",
                )
            delegations = self.store.delegations(conn, substitute=actor)
            principal, delegation = resolve_principal(
                actor, state.awaiting(), delegations, at=now, on_behalf_of=checked.on_behalf_of
            )
            if principal != checked.on_behalf_of:
                raise SignatureRefused(
                    f"{actor} signs here on behalf of {principal}: sign the book's signing request",
                    code="Signature.WrongContext",
                )
            check_action(state, EntryKind.SIGNED, actor, on_behalf_of=principal)
            if self.timestamps is not None:
                signature = add_signature_timestamp(signature, self.timestamps)
            digest = self.store.put_blob(signature)
            entry = HistoryEntry(
                folder=folder_id,
                seq=0,
                at=now,
                kind=EntryKind.SIGNED,
                actor=actor,
                step=step,
                on_behalf_of=principal,
                delegation=delegation,
                signature=digest,
                request_id=request_id,
            ).chained(entries[-1])
            result = self._record(conn, entries, state, entry)
        self._deliver()
        return result

    def undo(self, folder_id: str, actor: ParticipantId, *, request_id: str | None = None) -> ActionResult:
        """Undo ``actor``'s own last action, while the step after it has not acted."""
        now = self._now()
        with self.store.transaction() as conn:
            entries = self.store.history(conn, folder_id)
            state = replay(entries)
            target = undo_target(state, actor)
            entry = HistoryEntry(
                folder=folder_id,
                seq=0,
                at=now,
                kind=EntryKind.UNDONE,
                actor=actor,
                step=target.step,
                undoes=target.seq,
                request_id=request_id,
            ).chained(entries[-1])
            result = self._record(conn, entries, state, entry)
        self._deliver()
        return result

    def delegate(
        self, principal: ParticipantId, request: DelegateSignature, *, request_id: str | None = None
    ) -> DelegationView:
        """Let ``request.substitute`` act for ``principal`` during the period; the substitute is notified."""
        substitute = ParticipantId.parse(request.substitute)
        now = self._now()
        delegation = new_delegation(
            principal, substitute, request.valid_from, request.valid_until, now=now, reason=request.reason
        )
        event = DelegationEvent(
            event_id=str(uuid.uuid4()),
            delegation_id=delegation.ref.id,
            principal=str(principal),
            substitute=str(substitute),
            valid_from=delegation.ref.valid_from,
            valid_until=delegation.ref.valid_until,
            at=now,
        )
        with self.store.transaction() as conn:
            self.store.add_delegation(conn, delegation)
            self.store.enqueue(conn, str(substitute), event)
        log.info("signature_book.delegated", principal=str(principal), substitute=str(substitute))
        self._deliver()
        return _delegation_view(delegation)

    def _act(
        self,
        folder_id: str,
        actor: ParticipantId,
        kind: EntryKind,
        *,
        on_behalf_of: ParticipantId | None = None,
        reason: str | None = None,
        comment: str | None = None,
        request_id: str | None = None,
    ) -> ActionResult:
        now = self._now()
        with self.store.transaction() as conn:
            entries = self.store.history(conn, folder_id)
            state = replay(entries)
            delegations = self.store.delegations(conn, substitute=actor)
            principal, delegation = resolve_principal(
                actor, state.awaiting(), delegations, at=now, on_behalf_of=on_behalf_of
            )
            step = check_action(state, kind, actor, on_behalf_of=principal, reason=reason)
            entry = HistoryEntry(
                folder=folder_id,
                seq=0,
                at=now,
                kind=kind,
                actor=actor,
                step=step,
                on_behalf_of=principal,
                delegation=delegation,
                reason=reason.strip() if reason else None,
                comment=comment,
                request_id=request_id,
            ).chained(entries[-1])
            result = self._record(conn, entries, state, entry)
        self._deliver()
        return result

    def _record(
        self, conn: sqlite3.Connection, entries: list[HistoryEntry], state: FolderState, entry: HistoryEntry
    ) -> ActionResult:
        new_state = apply(state, entry)
        self.store.append(conn, entry)
        self.store.save_folder(conn, new_state)
        self._enqueue(conn, new_state, entry)
        if new_state.status is FolderStatus.COMPLETED:
            self._seal(conn, [*entries, entry], new_state)
        log.info(
            "signature_book.recorded",
            folder=entry.folder,
            kind=str(entry.kind),
            actor=str(entry.actor),
            status=str(new_state.status),
        )
        return ActionResult(
            folder_id=entry.folder,
            seq=entry.seq,
            action=EntryKindName(str(entry.kind)),
            status=FolderStatusName(str(new_state.status)),
            current_step=new_state.current,
        )

    def _enqueue(self, conn: sqlite3.Connection, state: FolderState, entry: HistoryEntry) -> None:
        for event in folder_events(state, entry):
            self.store.enqueue(conn, recipient_of(state), event)

    def _seal(self, conn: sqlite3.Connection, entries: list[HistoryEntry], state: FolderState) -> None:
        history = history_json(entries)
        signatures = [(e, e.signature or "") for e in state.signatures()]
        manifest = build_manifest(
            state,
            signatures,
            history,
            book=self.participant,
            timestamp_authority=self.config.timestamp_authority,
        )
        seal_xml = seal(
            self._sealer, manifest, history, timestamps=self.timestamps, signing_time=self._clock()
        )
        self.store.set_sealed(conn, state.id, self.store.put_blob(manifest), self.store.put_blob(seal_xml))

    def _deliver(self) -> None:
        if self.sink is not None:
            self.deliver_events(self.sink)

    def deliver_events(
        self, sink: EventSink | None = None, *, limit: int = 100, exclude: Collection[str] = ()
    ) -> int:
        """Hand pending outbox events (except to ``exclude``) to ``sink`` (default: the configured one).

        Returns how many were delivered.
        """
        target = sink or self.sink
        if target is None:
            return 0
        return OutboxPump(EVENTS, self.store.outbox, sender(target), batch=limit).drain(exclude)

    # Queries

    def _state(self, folder_id: str, viewer: ParticipantId | None) -> tuple[list[HistoryEntry], FolderState]:
        with self.store.reading() as conn:
            if viewer is not None and not self._may_see(conn, folder_id, viewer):
                raise UnknownFolder(f"no folder {folder_id} visible to {viewer}")
            entries = self.store.history(conn, folder_id)
        return entries, replay(entries)

    def _may_see(self, conn: sqlite3.Connection, folder_id: str, viewer: ParticipantId) -> bool:
        principals = [
            d.principal for d in self.store.delegations(conn, substitute=viewer) if d.ref.covers(self._now())
        ]
        return self.store.is_member(conn, folder_id, [viewer, *principals])

    def end_delegation(self, principal: ParticipantId, delegation_id: str) -> DelegationView:
        """End ``principal``'s delegation now: from this moment its substitute no longer acts for it.

        Actions already taken under it stay valid (each history entry holds its own copy of the
        delegation). Only the principal ends a delegation; one that has ended already is refused.
        """
        now = self._now()
        with self.store.transaction() as conn:
            delegation = next(
                (d for d in self.store.delegations(conn, principal=principal) if d.ref.id == delegation_id),
                None,
            )
            if delegation is None:
                raise InvalidDelegation(f"{principal} gave no delegation {delegation_id}")
            ref = delegation.ref
            if ref.valid_until < now:
                raise InvalidDelegation(f"delegation {delegation_id} has already ended")
            until = now - timedelta(milliseconds=1)
            since = min(ref.valid_from, until)
            self.store.shorten_delegation(conn, delegation_id, since, until)
        log.info("signature_book.delegation_ended", principal=str(principal), substitute=str(ref.substitute))
        ended = DelegationRef(ref.id, ref.principal, ref.substitute, since, until)
        return _delegation_view(Delegation(ended, delegation.created_at, delegation.reason))

    def folder(self, folder_id: str, *, viewer: ParticipantId | None = None) -> FolderView:
        """The folder as it stands: documents, circuit with each step's state and actions, history."""
        entries, state = self._state(folder_id, viewer)
        return _folder_view(entries, state)

    def folders(
        self,
        *,
        viewer: ParticipantId | None = None,
        awaiting: ParticipantId | None = None,
        status: FolderStatus | str | None = None,
    ) -> FolderList:
        """Folders ``viewer`` may see; with ``awaiting``, only those waiting for it or its principals."""
        now = self._now()
        with self.store.reading() as conn:
            members = None
            if viewer is not None:
                principals = [
                    d.principal for d in self.store.delegations(conn, substitute=viewer) if d.ref.covers(now)
                ]
                members = [viewer, *principals]
            waiting = None
            if awaiting is not None:
                principals = [
                    d.principal
                    for d in self.store.delegations(conn, substitute=awaiting)
                    if d.ref.covers(now)
                ]
                waiting = [awaiting, *principals]
            rows = self.store.folder_rows(
                conn, status=str(status) if status else None, awaiting=waiting, members=members
            )
        return FolderList(
            folders=[
                FolderSummary(
                    folder_id=row.id,
                    business_type=row.business_type,
                    submitter=row.submitter,
                    status=FolderStatusName(row.status),
                    current_step=row.current_step,
                    updated_at=row.updated_at,
                    title=row.title,
                )
                for row in rows
            ]
        )

    def document(self, folder_id: str, name: str, *, viewer: ParticipantId | None = None) -> DocumentContent:
        """A document's content, checked against its digest."""
        _, state = self._state(folder_id, viewer)
        ref = state.definition.document(name)
        if ref is None:
            raise UnknownDocument(f"folder {folder_id} has no document {name!r}")
        return DocumentContent(
            folder_id=folder_id,
            name=ref.name,
            mime_type=ref.mime_type,
            sha256=ref.sha256,
            content=self.store.get_blob(ref.sha256),
        )

    def signing_request(
        self, folder_id: str, signatory: ParticipantId, *, on_behalf_of: ParticipantId | None = None
    ) -> SigningRequest:
        """What ``signatory`` must sign now for the active signature step (and for whom)."""
        _, state = self._state(folder_id, None)
        step = self._active_step(state, EntryKind.SIGNED)
        with self.store.reading() as conn:
            delegations = self.store.delegations(conn, substitute=signatory)
        principal, _ = resolve_principal(
            signatory, state.awaiting(), delegations, at=self._now(), on_behalf_of=on_behalf_of
        )
        check_action(state, EntryKind.SIGNED, signatory, on_behalf_of=principal)
        return SigningRequest(
            book=str(self.participant),
            folder_id=folder_id,
            step=step,
            signatory=str(signatory),
            on_behalf_of=str(principal) if principal else None,
            documents=[document_info(ref) for ref in state.definition.documents],
        )

    def sign_as(
        self,
        signer: DetachedXadesSigner,
        folder_id: str,
        *,
        on_behalf_of: ParticipantId | None = None,
        signing_time: datetime | None = None,
        request_id: str | None = None,
    ) -> ActionResult:
        """Local convenience doing what a signatory's application does over the bus: fetch, sign, submit."""
        request = self.signing_request(folder_id, signer.participant, on_behalf_of=on_behalf_of)
        contents = {d.name: self.document(folder_id, d.name).content for d in request.documents}
        signature = sign_request(signer, request, contents, signing_time=signing_time or self._clock())
        return self.sign(folder_id, signer.participant, signature, request_id=request_id)

    def bundle(self, folder_id: str, *, viewer: ParticipantId | None = None) -> bytes:
        """The zip bundle of a completed folder."""
        entries, state = self._state(folder_id, viewer)
        if state.status is not FolderStatus.COMPLETED:
            raise NotFinished(f"folder {folder_id} is {state.status}: only a completed folder has a bundle")
        with self.store.reading() as conn:
            row = self.store.folder_row(conn, folder_id)
        if row.manifest is None or row.seal is None:
            raise StorageCorrupted(f"completed folder {folder_id} has no seal")
        history = history_json(entries)
        manifest = self.store.get_blob(row.manifest)
        if sha256_hex(history) != json.loads(manifest)["history"]["sha256"]:
            raise StorageCorrupted(f"the history of folder {folder_id} no longer matches its seal")
        contents = {
            document_uri(ref.name): self.store.get_blob(ref.sha256) for ref in state.definition.documents
        }
        for entry in state.signatures():
            contents[signature_path(entry)] = self.store.get_blob(entry.signature or "")
        files = bundle_files(
            state, self.participant, manifest, self.store.get_blob(row.seal), history, contents
        )
        return zip_bytes(files)

    def export_bundle(self, folder_id: str, path: Path, *, viewer: ParticipantId | None = None) -> Path:
        """Write the bundle of a completed folder to ``path``."""
        return write_file(Path(path), self.bundle(folder_id, viewer=viewer))

    def delegations(self, participant: ParticipantId) -> list[DelegationView]:
        """Delegations given by or to ``participant``."""
        with self.store.reading() as conn:
            given = self.store.delegations(conn, principal=participant)
            received = self.store.delegations(conn, substitute=participant)
        return [
            _delegation_view(d)
            for d in sorted({d.ref.id: d for d in given + received}.values(), key=_created)
        ]

    # Helpers

    def _active_step(self, state: FolderState, kind: EntryKind) -> int:
        number = state.current
        if state.status is not FolderStatus.IN_PROGRESS or number is None:
            raise FolderClosed(f"folder {state.id} is {state.status}")
        if kind is EntryKind.SIGNED and state.step(number).kind is not StepKind.SIGNATURE:
            raise WrongAction(f"step {number} of folder {state.id} is a visa step: approve it, do not sign")
        return number

    def _document_contents(self, state: FolderState) -> dict[str, tuple[DocumentRef, bytes]]:
        return {ref.name: (ref, self.store.get_blob(ref.sha256)) for ref in state.definition.documents}


def _created(delegation: Delegation) -> tuple[datetime, str]:
    return delegation.created_at, delegation.ref.id


def _circuit(request: SubmitFolder) -> Circuit | None:
    if not request.circuit:
        return None
    return Circuit(
        tuple(
            Step(
                StepKind(str(step.kind)),
                tuple(ParticipantId.parse(s) for s in step.signatories),
                Quorum(str(step.quorum)),
                step.label,
            )
            for step in request.circuit
        )
    )


def _check_documents(request: SubmitFolder) -> None:
    names = [d.name for d in request.documents]
    if len(set(names)) != len(names):
        raise InvalidSubmission("two documents have the same name")
    total = 0
    for document in request.documents:
        if not document.content:
            raise InvalidSubmission(f"document {document.name} is empty")
        if len(document.content) > MAX_DOCUMENT_BYTES:
            raise InvalidSubmission(f"document {document.name} is over {MAX_DOCUMENT_BYTES} bytes")
        total += len(document.content)
    if total > MAX_FOLDER_BYTES:
        raise InvalidSubmission(f"a folder's documents total at most {MAX_FOLDER_BYTES} bytes")


def _delegation_view(delegation: Delegation) -> DelegationView:
    ref = delegation.ref
    return DelegationView(
        delegation_id=ref.id,
        principal=str(ref.principal),
        substitute=str(ref.substitute),
        valid_from=ref.valid_from,
        valid_until=ref.valid_until,
        reason=delegation.reason,
        created_at=delegation.created_at,
    )


def _folder_view(entries: list[HistoryEntry], state: FolderState) -> FolderView:
    definition = state.definition
    steps = []
    for number, step in enumerate(definition.circuit.steps, start=1):
        steps.append(
            StepView(
                number=number,
                kind=StepKindName(str(step.kind)),
                quorum=QuorumName(str(step.quorum)),
                state=StepStateName(str(state.step_state(number))),
                label=step.label,
                signatories=[str(s) for s in step.signatories],
                actions=[
                    ActionView(
                        seq=act.seq,
                        kind=EntryKindName(str(act.kind)),
                        actor=str(act.actor),
                        on_behalf_of=str(act.on_behalf_of) if act.on_behalf_of else None,
                        at=act.at,
                    )
                    for act in state.acts_in(number)
                ],
            )
        )
    history = [
        HistoryItem(
            seq=entry.seq,
            kind=EntryKindName(str(entry.kind)),
            actor=str(entry.actor),
            at=entry.at,
            step=entry.step,
            on_behalf_of=str(entry.on_behalf_of) if entry.on_behalf_of else None,
            undoes=entry.undoes,
            hash=entry.hash,
            reason=entry.reason,
            comment=entry.comment,
        )
        for entry in entries
    ]
    return FolderView(
        folder_id=definition.id,
        title=definition.title,
        business_type=definition.business_type,
        submitter=str(definition.submitter),
        status=FolderStatusName(str(state.status)),
        current_step=state.current,
        submitted_at=entries[0].at,
        updated_at=entries[-1].at,
        metadata=[MetadataEntry(key=k, value=v) for k, v in definition.metadata.items()],
        documents=[document_info(ref) for ref in definition.documents],
        steps=steps,
        history=history,
    )


__all__ = ["SignatureBook"]
