"""The signature book's published contracts: one request/reply teleservice per operation.

The book provides the operations; the submitting application (and a substitute's application)
provides the two event services, so every state change reaches it point to point, signed both ways.
All share ``signature_book.xsd`` (a resource of this package) and the models of ``models.py``.
"""

from __future__ import annotations

from typing import Any

from sdk import RequestReply
from teleservices.signature_book.models import (
    SCHEMA,
    ActionResult,
    ApproveFolder,
    DelegateSignature,
    DelegationEvent,
    DelegationList,
    DelegationView,
    DocumentContent,
    EndDelegation,
    EventAck,
    FolderBundle,
    FolderEvent,
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
    SigningContext,
    SigningRequest,
    SubmitFolder,
    UndoAction,
)

VERSION = 1

SUBMIT = RequestReply("signature-book.submit", VERSION, SCHEMA, request=SubmitFolder, response=FolderView)
SHOW = RequestReply("signature-book.show", VERSION, SCHEMA, request=ShowFolder, response=FolderView)
LIST = RequestReply("signature-book.list", VERSION, SCHEMA, request=ListFolders, response=FolderList)
DOCUMENT = RequestReply(
    "signature-book.document", VERSION, SCHEMA, request=GetDocument, response=DocumentContent
)
SIGNING_REQUEST = RequestReply(
    "signature-book.signing-request", VERSION, SCHEMA, request=GetSigningRequest, response=SigningRequest
)
APPROVE = RequestReply(
    "signature-book.approve", VERSION, SCHEMA, request=ApproveFolder, response=ActionResult
)
SIGN = RequestReply("signature-book.sign", VERSION, SCHEMA, request=SignFolder, response=ActionResult)
REJECT = RequestReply("signature-book.reject", VERSION, SCHEMA, request=RejectFolder, response=ActionResult)
UNDO = RequestReply("signature-book.undo", VERSION, SCHEMA, request=UndoAction, response=ActionResult)
DELEGATE = RequestReply(
    "signature-book.delegate", VERSION, SCHEMA, request=DelegateSignature, response=DelegationView
)
DELEGATIONS = RequestReply(
    "signature-book.delegations", VERSION, SCHEMA, request=ListDelegations, response=DelegationList
)
END_DELEGATION = RequestReply(
    "signature-book.end-delegation", VERSION, SCHEMA, request=EndDelegation, response=DelegationView
)
BUNDLE = RequestReply("signature-book.bundle", VERSION, SCHEMA, request=GetBundle, response=FolderBundle)

FOLDER_EVENT = RequestReply("signature-book.event", VERSION, SCHEMA, request=FolderEvent, response=EventAck)
"""Served by the submitting application (or the folder's ``notifyService``): a folder changed."""

DELEGATION_EVENT = RequestReply(
    "signature-book.delegation-event", VERSION, SCHEMA, request=DelegationEvent, response=EventAck
)
"""Served by a substitute's application: a delegation names it."""

BOOK_CONTRACTS: tuple[RequestReply[Any, Any], ...] = (
    SUBMIT,
    SHOW,
    LIST,
    DOCUMENT,
    SIGNING_REQUEST,
    APPROVE,
    SIGN,
    REJECT,
    UNDO,
    DELEGATE,
    BUNDLE,
    DELEGATIONS,
    END_DELEGATION,
)
"""What the book provides."""

SCHEMA_ELEMENTS = (SigningContext,)
"""Published in the XSD without a contract: it travels inside every XAdES signature the book accepts."""

EVENT_CONTRACTS: tuple[RequestReply[Any, Any], ...] = (FOLDER_EVENT, DELEGATION_EVENT)
"""What the book calls."""


def folder_event_contract(code: str, version: int) -> RequestReply[FolderEvent, EventAck]:
    """``FOLDER_EVENT`` under another service code, for a folder's own ``notifyService``."""
    if (code, version) == (FOLDER_EVENT.code, FOLDER_EVENT.version):
        return FOLDER_EVENT
    return RequestReply(code, version, SCHEMA, request=FolderEvent, response=EventAck)


__all__ = [
    "APPROVE",
    "BOOK_CONTRACTS",
    "BUNDLE",
    "DELEGATE",
    "DELEGATIONS",
    "DELEGATION_EVENT",
    "DOCUMENT",
    "END_DELEGATION",
    "EVENT_CONTRACTS",
    "FOLDER_EVENT",
    "LIST",
    "REJECT",
    "SHOW",
    "SIGN",
    "SIGNING_REQUEST",
    "SUBMIT",
    "UNDO",
    "folder_event_contract",
]
