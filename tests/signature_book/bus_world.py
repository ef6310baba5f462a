"""A signature book running on a test bus (memory:// or RabbitMQ), its signatories and the submitting
application that receives its events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sdk import CallFailed, Client, Context, Payload, Provider, RequestReply
from sdk.security import SigningIdentity
from sdk.testing import TestBus
from teleservices.signature_book import BookConfig, BookService, DetachedXadesSigner, EventReceiver
from teleservices.signature_book.contract import BOOK_CONTRACTS, DELEGATION_EVENT, FOLDER_EVENT, SUBMIT
from teleservices.signature_book.models import (
    DelegationEvent,
    EventKind,
    FolderEvent,
    FolderView,
    SubmitFolder,
)
from teleservices.signature_book.service import book_directory
from teleservices.signature_book.signatory import sign_folder
from tests.signature_book.conftest import ADJOINT, AGENT, BOOK, DAF, DRH, MINISTER, SG, TSA

SIGNATORIES = (DRH, DAF, SG, ADJOINT, MINISTER)
OUTSIDER = "MA/GOV/MEF/stagiaire"


def eventually(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``predicate`` until it holds (a generous deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"never: {what}")
        time.sleep(0.05)


class Inbox:
    """Events an application received over the bus, in arrival order."""

    def __init__(self) -> None:
        self.folder_events: list[FolderEvent] = []
        self.delegation_events: list[DelegationEvent] = []
        self.failures_left = 0
        self.changed = threading.Condition()

    def folder(self, event: FolderEvent, ctx: Context) -> None:
        with self.changed:
            if self.failures_left > 0:
                self.failures_left -= 1
                raise RuntimeError("the application is not ready")
            self.folder_events.append(event)
            self.changed.notify_all()

    def delegation(self, event: DelegationEvent, ctx: Context) -> None:
        with self.changed:
            self.delegation_events.append(event)
            self.changed.notify_all()

    def kinds(self, folder_id: str) -> list[EventKind]:
        return [e.kind for e in self.folder_events if e.folder_id == folder_id]

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        """Wait until ``predicate`` holds (a generous deadline, not a timing assertion)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(
                        f"never received {what}; got {[(e.kind, e.folder_id) for e in self.folder_events]}"
                    )
                self.changed.wait(min(remaining, 0.5))

    def wait_for_kinds(self, folder_id: str, kinds: list[EventKind]) -> None:
        self.wait_for(lambda: self.kinds(folder_id) == kinds, f"{kinds} for {folder_id}")


class BookWorld:
    """The book ``BOOK`` served in process; ``AGENT``'s application receives folder events and
    ``ADJOINT``'s delegation events."""

    def __init__(self, root: Path, broker: str | None, *, tsa: bool = False) -> None:
        self.bus = TestBus(root, broker=broker)
        everyone = [AGENT, *SIGNATORIES, OUTSIDER]
        for contract in BOOK_CONTRACTS:
            self.bus.publish(contract, provider=BOOK, clients=everyone)
        self.bus.publish(FOLDER_EVENT, provider=AGENT, clients=[BOOK])
        self.bus.publish(DELEGATION_EVENT, provider=ADJOINT, clients=[BOOK])
        self.bus.participant(TSA)
        if tsa:
            BookConfig(self.bus.participant(BOOK), timestamp_authority=self.bus.participant(TSA)).save(
                book_directory(self.bus.home.participant_dir(self.bus.participant(BOOK)))
            )
        self.service = BookService(BOOK, drain_interval=0.2, max_backoff=1.0, event_timeout=5.0)
        self.agent_inbox = Inbox()
        self.adjoint_inbox = Inbox()
        self.agent_app = Provider(AGENT)
        EventReceiver(self.agent_app, on_folder=self.agent_inbox.folder)
        self.adjoint_app = Provider(ADJOINT)
        EventReceiver(self.adjoint_app, on_delegation=self.adjoint_inbox.delegation)
        self._clients: dict[str, Client] = {}

    def start(self, *, agent: bool = True) -> BookWorld:
        self.book_running = self.bus.start(self.service.app)
        if agent:
            self.bus.start(self.agent_app)
        self.bus.start(self.adjoint_app)
        return self

    @property
    def book(self) -> Any:
        return self.service.book(self.book_running.node)

    def client(self, who: str) -> Client:
        if who not in self._clients:
            self._clients[who] = self.bus.client(who)
        return self._clients[who]

    def call(self, who: str, contract: RequestReply[Any, Any], request: Payload) -> Any:
        return self.client(who).call(BOOK, contract, request, timeout=20)

    def refused(self, who: str, contract: RequestReply[Any, Any], request: Payload) -> CallFailed:
        with pytest.raises(CallFailed) as failure:
            self.call(who, contract, request)
        return failure.value

    def submit(self, request: SubmitFolder, who: str = AGENT) -> FolderView:
        return self.call(who, SUBMIT, request)

    def signer(self, who: str) -> DetachedXadesSigner:
        return DetachedXadesSigner(SigningIdentity.from_home(self.bus.home, who))

    def sign(self, who: str, folder_id: str, *, on_behalf_of: str | None = None) -> Any:
        return sign_folder(self.client(who), BOOK, self.signer(who), folder_id, on_behalf_of=on_behalf_of)

    def close(self) -> None:
        self.bus.close()
