"""A running participant: identity, trust, catalogue, message log, idempotency store and transport.

One ``Node`` per participant per process, shared by its handlers (thread-safe) and its clients. A node
is built complete by ``sdk.compose.open_node`` (the composition root) and only holds its parts: its
constructor does no I/O, and nothing sets a part after it is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import lxml.etree as etree

from bus.envelope import EnvelopeVerifier, Header, MessageKind, VerifiedEnvelope, sign_envelope
from bus.faults import Fault
from bus.ids import ParticipantId
from bus.pki import BusHome, SigningIdentity, TrustStore
from bus.pki.keyring import EncryptionKeys
from bus.registry.catalogue import Catalogue
from bus.registry.store import CatalogueView
from bus.transport.base import Transport
from sdk.anchoring import AnchorSender
from sdk.context import Scope
from sdk.idempotency import IdempotencyStore
from sdk.journal import Journal, LogEntry, MessageRecorder
from sdk.receipts import ReceiptInbox
from sdk.resources import Resources
from sdk.sealing import Sealing

ANSWER_TTL = timedelta(minutes=5)


class Node:
    """Everything a participant process needs to send and receive signed messages."""

    def __init__(
        self,
        *,
        home: BusHome,
        identity: SigningIdentity,
        trust: TrustStore,
        catalogue_view: CatalogueView,
        journal: Journal,
        handled: IdempotencyStore,
        transport: Transport,
        inbox: ReceiptInbox,
        scope: Scope,
        anchor_sender: AnchorSender | None = None,
        closers: Sequence[Callable[[], object]] = (),
        sealing: Sealing | None = None,
    ) -> None:
        """``closers`` run in order by ``close`` (what the composition root opened for this node)."""
        self.participant: ParticipantId = identity.participant
        self.home = home
        self.identity = identity
        self.trust = trust
        self.verifier = EnvelopeVerifier(trust)
        self.answer_verifier = inbox.verifier
        self.catalogue_view = catalogue_view
        self.data_dir: Path = scope.data_dir
        self.journal = journal
        self.handled = handled
        self.transport = transport
        self.scope = scope
        self.anchor_sender = anchor_sender
        self.sealing = sealing or Sealing(
            identity.participant, catalogue_view, EncryptionKeys(home, identity.participant, trust)
        )
        self.keys = self.sealing.keys
        self._inbox = inbox
        self._closers = list(closers)
        self._closed = False

    @property
    def catalogue(self) -> Catalogue:
        return self.catalogue_view.current

    @property
    def resources(self) -> Resources:
        return self.scope.resources

    @property
    def recorder(self) -> MessageRecorder | None:
        """The message log (tests and tracing tools may wrap it)."""
        return self.journal.recorder

    @recorder.setter
    def recorder(self, recorder: MessageRecorder | None) -> None:
        self.journal.recorder = recorder

    def sign(self, header: Header, payload: etree._Element, *, to: ParticipantId | None = None) -> bytes:
        """Sign an envelope; a confidential service's payload is first sealed for its recipients.

        Encrypt, then sign (``sdk.sealing``); ``to`` is the recipient of a response or receipt. Raises
        ``Fault`` (``Client.NoEncryptionCertificate``, ...) when a recipient cannot be sealed for.
        """
        return sign_envelope(header, self.sealing.seal(header, payload, to), self.identity)

    def confidential(self, header: Header) -> bool:
        """Whether ``header``'s payload is sealed (``sdk.sealing``)."""
        return self.sealing.confidential(header)

    def open(self, verified: VerifiedEnvelope) -> VerifiedEnvelope:
        """``verified`` with a confidential payload decrypted (``Sealing.open``)."""
        return self.sealing.open(verified)

    def answer(
        self,
        kind: MessageKind,
        request: VerifiedEnvelope,
        payload: etree._Element,
    ) -> tuple[Header, bytes]:
        """Sign a response or receipt to ``request``, carrying its id and the digest of its bytes."""
        header = Header.new(
            kind,
            self.participant,
            request.header.service,
            ttl=ANSWER_TTL,
            correlation_id=request.header.id,
            request_hash=request.digest,
            user_id=request.header.user_id,
            purpose=request.header.purpose,
            data_subject=request.header.data_subject,
        )
        return header, self.sign(header, payload, to=request.header.client)

    def record(
        self,
        direction: str,
        raw: bytes,
        *,
        header: Header | None,
        outcome: str,
        fault: Fault | None = None,
        started: float | None = None,
        service: str | None = None,
        peer: str | None = None,
    ) -> None:
        """Write the message log entry (before any acknowledgement), count it and log one line."""
        self.journal.record(LogEntry(direction, raw, header, outcome, fault, started, service, peer))

    def record_many(self, entries: Sequence[LogEntry]) -> None:
        """Write several message log entries in one log transaction, then count and log each."""
        self.journal.record_many(entries)

    def record_sent(self, sent: list[tuple[Header, bytes]]) -> None:
        """Log several signed outgoing messages in one log transaction (before any of them is sent)."""
        self.journal.record_many([LogEntry("out", raw, header, "sent") for header, raw in sent])

    def inbox(self) -> ReceiptInbox:
        """This participant's receipt inbox (its consumer starts on first use)."""
        return self._inbox

    def close(self) -> None:
        """Close what the composition root opened, in reverse order of opening (once)."""
        if self._closed:
            return
        self._closed = True
        for closer in self._closers:
            closer()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["ANSWER_TTL", "LogEntry", "Node"]
