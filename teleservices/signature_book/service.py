"""The signature book as a bus participant: ``govbus run teleservices.signature_book:app``.

One ``Provider`` with a handler per contract of ``contract.py``, each one call to ``SignatureBook``:
the actor or viewer is the verified envelope signer (``ctx.client``) and the request id the message id
(``ctx.message_id``, recorded in the history). Refusals become ``ServiceError`` with the book's code, so
callers read ``CallFailed.service_code`` (``SignatureBook.NotAssigned``, ``Client.RevokedCertificate``).

The book lives in ``ctx.data_dir / "signature_book"``, opened once when the app starts (its
configuration is created with the default business types on the first start unless ``govbus sign init``
wrote one). Events leave through ``delivery.EventPump``, woken after every state change.

The participant is ``$GOVBUS_SIGNATURE_BOOK_ID``, by default ``MA/GOV/SGG/parapheur``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sdk import Client, Context, Node, Provider, ServiceError
from teleservices.signature_book._bus import ParticipantId
from teleservices.signature_book.book import SignatureBook
from teleservices.signature_book.config import CONFIG_FILE, BookConfig
from teleservices.signature_book.contract import (
    APPROVE,
    BUNDLE,
    DELEGATE,
    DOCUMENT,
    LIST,
    REJECT,
    SHOW,
    SIGN,
    SIGNING_REQUEST,
    SUBMIT,
    UNDO,
)
from teleservices.signature_book.delivery import BusSink, EventPump
from teleservices.signature_book.errors import SignatureBookError
from teleservices.signature_book.models import (
    ActionResult,
    ApproveFolder,
    DelegateSignature,
    DelegationView,
    DocumentContent,
    FolderBundle,
    FolderList,
    FolderView,
    GetBundle,
    GetDocument,
    GetSigningRequest,
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


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except SignatureBookError as error:
        raise ServiceError(error.reason, code=error.code) from None


def _participant(text: str | None) -> ParticipantId | None:
    return ParticipantId.parse(text) if text else None


@dataclass
class _Served:
    book: SignatureBook
    pump: EventPump


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
        self._served: dict[Node, _Served] = {}
        self._lock = threading.Lock()
        self.app.on_start(self._start)
        self.app.on_stop(self._stop)
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

    # Lifecycle

    def _start(self, node: Node) -> None:
        directory = book_directory(node.data_dir)
        if not (directory / CONFIG_FILE).exists():
            SignatureBook.create(directory, BookConfig(node.participant))
        book = SignatureBook.open(directory, node.home, clock=self.clock)
        sink = BusSink(Client(node=node), timeout=self.event_timeout)
        pump = EventPump(book, sink, interval=self.drain_interval, max_backoff=self.max_backoff).start()
        with self._lock:
            self._served[node] = _Served(book, pump)
        pump.wake()  # events left by an earlier run

    def _stop(self, node: Node) -> None:
        with self._lock:
            served = self._served.pop(node, None)
        if served is not None:
            served.pump.stop(self.event_timeout + 5)

    def book(self, node: Node) -> SignatureBook:
        """The book this app serves on ``node`` (started)."""
        return self._served[node].book

    def pump(self, node: Node) -> EventPump:
        return self._served[node].pump

    @contextmanager
    def _change(self, ctx: Context) -> Iterator[SignatureBook]:
        served = self._served[ctx.node]
        try:
            with _refusals():
                yield served.book
        finally:
            served.pump.wake()

    @contextmanager
    def _query(self, ctx: Context) -> Iterator[SignatureBook]:
        with _refusals():
            yield self._served[ctx.node].book

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

    # Queries

    def show(self, request: ShowFolder, ctx: Context) -> FolderView:
        with self._query(ctx) as book:
            return book.folder(request.folder_id, viewer=ctx.client)

    def folders(self, request: ListFolders, ctx: Context) -> FolderList:
        with self._query(ctx) as book:
            return book.folders(
                viewer=ctx.client, awaiting=_participant(request.awaiting), status=request.status
            )

    def document(self, request: GetDocument, ctx: Context) -> DocumentContent:
        with self._query(ctx) as book:
            return book.document(request.folder_id, request.name, viewer=ctx.client)

    def signing_request(self, request: GetSigningRequest, ctx: Context) -> SigningRequest:
        with self._query(ctx) as book:
            return book.signing_request(
                request.folder_id, ctx.client, on_behalf_of=_participant(request.on_behalf_of)
            )

    def bundle(self, request: GetBundle, ctx: Context) -> FolderBundle:
        with self._query(ctx) as book:
            content = book.bundle(request.folder_id, viewer=ctx.client)
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
