"""The workspace's side of the signature book: every call is a signed bus call as a participant.

A signer acts as **their own signatory participant** (``Signatory``: their client and signing key, from
``Workspace.signers[login]``): the book sees the verified envelope signer, so what a signer may see and
do is decided by the book (a folder they are not in, or another administration's, answers
``SignatureBook.UnknownFolder``). Their XAdES signature is made here with their own key and only the
signature travels (``signatory.sign_folder``). Agents who build folders submit them as their
administration's desk system (``Workspace.desks[office]``), which then follows those folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sdk import CallFailed, Client
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
    SUBMIT,
    UNDO,
)
from teleservices.signature_book.models import (
    ActionResult,
    ApproveFolder,
    DelegateSignature,
    DelegationView,
    DocumentContent,
    EndDelegation,
    FolderList,
    FolderView,
    GetBundle,
    GetDocument,
    ListDelegations,
    ListFolders,
    RejectFolder,
    ShowFolder,
    SubmitFolder,
    UndoAction,
)
from teleservices.signature_book.signatory import sign_folder
from teleservices.signature_book.xades import DetachedXadesSigner

TIMEOUT = 20.0
UNKNOWN = ("SignatureBook.UnknownFolder", "SignatureBook.UnknownDocument")


class FolderNotFound(LookupError):
    """No such folder for this participant (it does not exist, or they may not see it)."""


@dataclass(frozen=True)
class Signatory:
    """A signing official's application: their bus client and their own signing key."""

    client: Client
    signer: DetachedXadesSigner

    @property
    def participant(self) -> str:
        return str(self.signer.participant)


class BookGateway:
    """Calls to the book ``book`` as ``client``'s participant; unknown folders raise ``FolderNotFound``."""

    def __init__(self, client: Client, book: str) -> None:
        self.client = client
        self.book = book

    def _call(self, contract: Any, request: Any) -> Any:
        try:
            return self.client.call(self.book, contract, request, timeout=TIMEOUT)
        except CallFailed as failure:
            if failure.service_code in UNKNOWN:
                raise FolderNotFound(str(failure)) from None
            raise
        except ValueError:  # a folder id or document name that does not fit the contract
            raise FolderNotFound("malformed") from None

    def folders(self, *, awaiting: str | None = None) -> FolderList:
        return self._call(LIST, ListFolders(awaiting=awaiting))  # type: ignore[no-any-return]

    def folder(self, folder_id: str) -> FolderView:
        return self._call(SHOW, ShowFolder(folder_id=folder_id))  # type: ignore[no-any-return]

    def document(self, folder_id: str, name: str) -> DocumentContent:
        return self._call(DOCUMENT, GetDocument(folder_id=folder_id, name=name))  # type: ignore[no-any-return]

    def bundle(self, folder_id: str) -> bytes:
        return bytes(self._call(BUNDLE, GetBundle(folder_id=folder_id)).content)

    def submit(self, request: SubmitFolder) -> FolderView:
        return self._call(SUBMIT, request)  # type: ignore[no-any-return]


class SignatoryGateway(BookGateway):
    """What a signer does, as their own participant."""

    def __init__(self, signatory: Signatory, book: str) -> None:
        super().__init__(signatory.client, book)
        self.signatory = signatory

    def approve(self, folder_id: str, *, on_behalf_of: str | None, comment: str | None) -> ActionResult:
        request = ApproveFolder(folder_id=folder_id, on_behalf_of=on_behalf_of, comment=comment)
        return self._call(APPROVE, request)  # type: ignore[no-any-return]

    def sign(self, folder_id: str, *, on_behalf_of: str | None) -> ActionResult:
        try:
            return sign_folder(
                self.client,
                self.book,
                self.signatory.signer,
                folder_id,
                on_behalf_of=on_behalf_of,
                timeout=TIMEOUT,
            )
        except CallFailed as failure:
            if failure.service_code in UNKNOWN:
                raise FolderNotFound(str(failure)) from None
            raise

    def reject(self, folder_id: str, *, on_behalf_of: str | None, reason: str) -> ActionResult:
        request = RejectFolder(folder_id=folder_id, on_behalf_of=on_behalf_of, reason=reason)
        return self._call(REJECT, request)  # type: ignore[no-any-return]

    def undo(self, folder_id: str) -> ActionResult:
        return self._call(UNDO, UndoAction(folder_id=folder_id))  # type: ignore[no-any-return]

    def delegations(self) -> list[DelegationView]:
        return list(self._call(DELEGATIONS, ListDelegations()).delegations)

    def delegate(
        self, substitute: str, valid_from: datetime, valid_until: datetime, reason: str | None
    ) -> DelegationView:
        request = DelegateSignature(
            substitute=substitute, valid_from=valid_from, valid_until=valid_until, reason=reason
        )
        return self._call(DELEGATE, request)  # type: ignore[no-any-return]

    def end_delegation(self, delegation_id: str) -> DelegationView:
        return self._call(END_DELEGATION, EndDelegation(delegation_id=delegation_id))  # type: ignore[no-any-return]
