"""The signature book as a bus participant: ``govbus run teleservices.signature_book:app``.

One ``Provider`` with a handler per contract of ``contract.py``, each one call to ``SignatureBook``:
the actor or viewer is the verified envelope signer (``ctx.client``) and the request id the message id
(``ctx.message_id``, recorded in the history). Refusals become ``ServiceError`` with the book's code, so
callers read ``CallFailed.service_code`` (``SignatureBook.NotAssigned``, ``Client.RevokedCertificate``):
the app maps every ``SignatureBookError`` (``app.refuse``).

The book lives in ``<participant directory>/signature_book``, a per-node resource opened when the app
starts (its configuration is created with the default business types on the first start unless
``govbus sign init`` wrote one). Events leave through the SDK's ``OutboxPump`` over ``delivery.BusSink``,
woken after every state change.

The participant is ``$GOVBUS_SIGNATURE_BOOK_ID``, by default ``MA/GOV/SGG/parapheur``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sdk import Context, Environment, Node, OutboxMessage, OutboxPump, Provider
from teleservices.signature_book._bus import ParticipantId
from teleservices.signature_book.book import EVENTS, SignatureBook
from teleservices.signature_book.config import CONFIG_FILE, BookConfig
from teleservices.signature_book.contract import (
    APPROVE,
    BUNDLE,
    DELEGATE,
    DELEGATIONS,
    DOCUMENT,
    END_DELEGATION,
    LIST,
    REJECT,
    SHOW,
    SIGN,
    SIGNING_REQUEST,
    SUBMIT,
    UNDO,
)
from teleservices.signature_book.delivery import BusSink
from teleservices.signature_book.errors import SignatureBookError
from teleservices.signature_book.events import sender
from teleservices.signature_book.models import (
    ActionResult,
    ApproveFolder,
    DelegateSignature,
    DelegationList,
    DelegationView,
    DocumentContent,
    EndDelegation,
    FolderBundle,
    FolderList,
    FolderView,
    GetBundle,
    GetDocument,
    GetSigningRequest,
    ListDelegations,
    ListFolders,
    RejectFolder,
    ShowFolder,
    SignFolder,
    SigningRequest,
    SubmitFolder,
    UndoAction,
)
from teleservices.signature_book.times import utc_now

BOOK_ID_ENV = "GOVBUS_SIGNATURE_BOOK_ID"
DEFAULT_BOOK_ID = "MA/GOV/SGG/parapheur"
BOOK_DIRECTORY = "signature_book"


def book_id(environ: Mapping[str, str] = os.environ) -> ParticipantId:
    """The book's participant id: ``$GOVBUS_SIGNATURE_BOOK_ID``, else ``MA/GOV/SGG/parapheur``."""
    return ParticipantId.parse(environ.get(BOOK_ID_ENV) or DEFAULT_BOOK_ID)


def book_directory(data_dir: Path) -> Path:
    """Where a book participant keeps its book, inside its own participant directory."""
    return data_dir / BOOK_DIRECTORY


def _participant(text: str | None) -> ParticipantId | None:
    return ParticipantId.parse(text) if text else None


@dataclass
class _Served:
    book: SignatureBook
    pump: OutboxPump[OutboxMessage]


class BookService:
    """The book's handlers and their lifecycle on a ``Provider`` (``self.app``).

    ``drain_interval`` is the outbox timer (seconds); a recipient that fails is retried after twice the
    previous delay, from ``drain_interval`` up to ``max_backoff``; ``event_timeout`` bounds one delivery.
    """

    def __init__(
        self,
        participant: ParticipantId | str,
        *,
        drain_interval: float = 5.0,
        max_backoff: float = 300.0,
        event_timeout: float = 10.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.app = Provider(participant)
        self.drain_interval = drain_interval
        self.max_backoff = max_backoff
        self.event_timeout = event_timeout
        self.clock = clock
        self.served = self.app.resource(self._serve)
        self.app.refuse(SignatureBookError)
        implement = self.app.implement
        implement(SUBMIT)(self.submit)
        implement(SHOW)(self.show)
        implement(LIST)(self.folders)
        implement(DOCUMENT)(self.document)
        implement(SIGNING_REQUEST)(self.signing_request)
        implement(APPROVE)(self.approve)
        implement(SIGN)(self.sign)
        implement(REJECT)(self.reject)
        implement(UNDO)(self.undo)
        implement(DELEGATE)(self.delegate)
        implement(BUNDLE)(self.bundle)
        implement(DELEGATIONS)(self.delegations)
        implement(END_DELEGATION)(self.end_delegation)

    # Lifecycle

    def _serve(self, env: Environment) -> Iterator[_Served]:
        directory = book_directory(env.data_dir)
        if not (directory / CONFIG_FILE).exists():
            SignatureBook.create(directory, BookConfig(env.participant), storage=env.storage)
        book = SignatureBook.open(directory, env.home, clock=self.clock, storage=env.storage)
        sink = BusSink(env.client(), timeout=self.event_timeout)
        pump = OutboxPump(
            EVENTS,
            book.store.outbox,
            sender(sink),
            interval=self.drain_interval,
            max_backoff=self.max_backoff,
        )
        pump.start().wake()  # events left by an earlier run
        yield _Served(book, pump)
        pump.stop(self.event_timeout + 5)

    def book(self, node: Node) -> SignatureBook:
        """The book this app serves on ``node`` (started)."""
        return node.resources.get(self.served).book

    def pump(self, node: Node) -> OutboxPump[OutboxMessage]:
        return node.resources.get(self.served).pump

    @contextmanager
    def _change(self, ctx: Context) -> Iterator[SignatureBook]:
        served = ctx.use(self.served)
        try:
            yield served.book
        finally:
            served.pump.wake()

    def _query(self, ctx: Context) -> SignatureBook:
        return ctx.use(self.served).book

    # Commands

    def submit(self, request: SubmitFolder, ctx: Context) -> FolderView:
        with self._change(ctx) as book:
            return book.submit(ctx.client, request, request_id=ctx.message_id)

    def approve(self, request: ApproveFolder, ctx: Context) -> ActionResult:
        with self._change(ctx) as book:
            return book.approve(
                request.folder_id,
                ctx.client,
                on_behalf_of=_participant(request.on_behalf_of),
                comment=request.comment,
                request_id=ctx.message_id,
            )

    def sign(self, request: SignFolder, ctx: Context) -> ActionResult:
        with self._change(ctx) as book:
            return book.sign(request.folder_id, ctx.client, request.signature, request_id=ctx.message_id)

    def reject(self, request: RejectFolder, ctx: Context) -> ActionResult:
        with self._change(ctx) as book:
            return book.reject(
                request.folder_id,
                ctx.client,
                request.reason,
                on_behalf_of=_participant(request.on_behalf_of),
                request_id=ctx.message_id,
            )

    def undo(self, request: UndoAction, ctx: Context) -> ActionResult:
        with self._change(ctx) as book:
            return book.undo(request.folder_id, ctx.client, request_id=ctx.message_id)

    def delegate(self, request: DelegateSignature, ctx: Context) -> DelegationView:
        with self._change(ctx) as book:
            return book.delegate(ctx.client, request, request_id=ctx.message_id)

    def end_delegation(self, request: EndDelegation, ctx: Context) -> DelegationView:
        with self._change(ctx) as book:
            return book.end_delegation(ctx.client, request.delegation_id)

    # Queries

    def delegations(self, request: ListDelegations, ctx: Context) -> DelegationList:
        return DelegationList(delegations=self._query(ctx).delegations(ctx.client))

    def show(self, request: ShowFolder, ctx: Context) -> FolderView:
        return self._query(ctx).folder(request.folder_id, viewer=ctx.client)

    def folders(self, request: ListFolders, ctx: Context) -> FolderList:
        return self._query(ctx).folders(
            viewer=ctx.client, awaiting=_participant(request.awaiting), status=request.status
        )

    def document(self, request: GetDocument, ctx: Context) -> DocumentContent:
        return self._query(ctx).document(request.folder_id, request.name, viewer=ctx.client)

    def signing_request(self, request: GetSigningRequest, ctx: Context) -> SigningRequest:
        return self._query(ctx).signing_request(
            request.folder_id, ctx.client, on_behalf_of=_participant(request.on_behalf_of)
        )

    def bundle(self, request: GetBundle, ctx: Context) -> FolderBundle:
        content = self._query(ctx).bundle(request.folder_id, viewer=ctx.client)
        return FolderBundle(folder_id=request.folder_id, content=content)


service = BookService(book_id())
app = service.app
"""The book ``govbus run teleservices.signature_book:app`` runs."""

__all__ = [
    "BOOK_ID_ENV",
    "DEFAULT_BOOK_ID",
    "BookService",
    "app",
    "book_directory",
    "book_id",
    "service",
]
