"""The signature book's payload contract: pydantic-xml models in ``urn:govbus:signature-book:1``.

``signature_book.xsd`` (in this package) is generated from these models (``govbus contract generate
teleservices.signature_book.contract``); tests keep them in step.
Requests and their answers:

    SubmitFolder        -> FolderView          ShowFolder     -> FolderView
    ListFolders         -> FolderList          GetDocument    -> DocumentContent
    GetSigningRequest   -> SigningRequest      GetBundle      -> FolderBundle
    ApproveFolder | SignFolder | RejectFolder | UndoAction   -> ActionResult
    DelegateSignature   -> DelegationView      EndDelegation  -> DelegationView
    ListDelegations     -> DelegationList

Events sent to the submitting application: ``FolderEvent`` (acknowledged with ``EventAck``); to a
substitute: ``DelegationEvent``. ``SigningContext`` travels inside every XAdES signature the book accepts.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer
from pydantic_xml import attr, element, wrapped

from sdk import Payload
from sdk.xsdgen import XsdType
from teleservices.signature_book._bus import Fault, ParticipantId, ServiceId
from teleservices.signature_book.times import format_timestamp, parse_timestamp

NS = "urn:govbus:signature-book:1"
SCHEMA = "teleservices.signature_book:signature_book.xsd"  # a resource of this package


def _base64(value: object) -> object:
    if isinstance(value, str):
        try:
            return base64.b64decode("".join(value.split()), validate=True)
        except binascii.Error as error:
            raise ValueError(f"not base64: {error}") from None
    return value


def _utc(value: object) -> object:
    if isinstance(value, str):
        return parse_timestamp(value)
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("times carry a time zone (UTC)")
    return value


def _participant(value: str) -> str:
    try:
        return str(ParticipantId.parse(value))
    except Fault as fault:
        raise ValueError(fault.reason) from None


Base64 = Annotated[
    bytes, BeforeValidator(_base64), PlainSerializer(lambda b: base64.b64encode(b).decode(), return_type=str)
]
"""Binary content: raw bytes in Python, base64 text in XML."""

UtcTime = Annotated[
    datetime,
    BeforeValidator(_utc),
    AfterValidator(_aware),
    PlainSerializer(format_timestamp, return_type=str),
    XsdType("UtcMillisType", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"),
]
"""A UTC time written ``2026-11-21T10:15:30.123Z``."""


def _service(value: str) -> str:
    try:
        return str(ServiceId.parse(value))
    except Fault as fault:
        raise ValueError(fault.reason) from None


Participant = Annotated[
    str,
    AfterValidator(_participant),
    XsdType(
        "ParticipantIdType",
        r"^[A-Z][A-Z0-9\-]{1,15}/[A-Z][A-Z0-9]{1,15}/[A-Za-z0-9][A-Za-z0-9._\-]{0,63}(/[A-Za-z0-9][A-Za-z0-9._\-]{0,63})?$",
    ),
]
"""A participant id, checked by ``bus.ids``."""

Service = Annotated[
    str,
    AfterValidator(_service),
    XsdType(
        "ServiceIdType",
        r"^[A-Z][A-Z0-9\-]{1,15}/[A-Z][A-Z0-9]{1,15}/[A-Za-z0-9][A-Za-z0-9._\-]{0,63}(/[A-Za-z0-9][A-Za-z0-9._\-]{0,63})?/[A-Za-z0-9][A-Za-z0-9._\-]{0,63}/v[1-9][0-9]{0,5}$",
    ),
]
"""A service id ``PARTICIPANT/CODE/vN``."""

FolderId = Annotated[str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
DocumentName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]


def unique_document_name(name: str, taken: set[str]) -> str:
    """``name`` made a ``DocumentName`` (other characters become ``_``) not yet in ``taken``, then added to it."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120].lstrip("._-") or "document"
    candidate, counter = clean, 1
    while candidate in taken:
        counter += 1
        candidate = f"{counter}-{clean}"
    taken.add(candidate)
    return candidate


MimeType = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")]
BusinessTypeCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,39}$")]
MetadataKey = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=2000)]
StepNumber = Annotated[int, Field(ge=1, le=30)]


class BookPayload(Payload, ns="sb", nsmap={"sb": NS}, skip_empty=True, search_mode="strict"):
    """Base of every signature book payload: an ``sdk.Payload`` (frozen, no unknown fields)."""


class StepKindName(StrEnum):
    VISA = "visa"
    SIGNATURE = "signature"


class QuorumName(StrEnum):
    ALL = "all"
    ANY = "any"


class FolderStatusName(StrEnum):
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


class StepStateName(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    REJECTED = "rejected"


class EntryKindName(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SIGNED = "signed"
    REJECTED = "rejected"
    UNDONE = "undone"


class EventKind(StrEnum):
    """One per folder state change; ``completed`` follows the action that completes the last step."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    SIGNED = "signed"
    REJECTED = "rejected"
    UNDONE = "undone"
    COMPLETED = "completed"


# Parts


class MetadataEntry(BookPayload, tag="entry"):
    key: MetadataKey = attr()
    value: Annotated[str, Field(max_length=1000)] = ""


class DocumentUpload(BookPayload, tag="document"):
    name: DocumentName = attr()
    mime_type: MimeType = attr(name="mimeType")
    description: ShortText | None = element(default=None)
    content: Base64 = element()


class DocumentInfo(BookPayload, tag="document"):
    name: DocumentName = attr()
    mime_type: MimeType = attr(name="mimeType")
    sha256: Sha256 = attr()
    size: Annotated[int, Field(ge=0)] = attr()
    description: ShortText | None = element(default=None)


class CircuitStep(BookPayload, tag="step"):
    kind: StepKindName = attr()
    quorum: QuorumName = attr(default=QuorumName.ALL)
    label: ShortText | None = attr(default=None)
    signatories: list[Participant] = element(tag="signatory", min_length=1, max_length=50)


class ActionView(BookPayload, tag="action"):
    seq: Annotated[int, Field(ge=1)] = attr()
    kind: EntryKindName = attr()
    actor: Participant = attr()
    on_behalf_of: Participant | None = attr(name="onBehalfOf", default=None)
    at: UtcTime = attr()


class StepView(BookPayload, tag="step"):
    number: StepNumber = attr()
    kind: StepKindName = attr()
    quorum: QuorumName = attr()
    state: StepStateName = attr()
    label: ShortText | None = attr(default=None)
    signatories: list[Participant] = element(tag="signatory", min_length=1, max_length=50)
    actions: list[ActionView] = element(default_factory=list, max_length=50)


class HistoryItem(BookPayload, tag="entry"):
    seq: Annotated[int, Field(ge=1)] = attr()
    kind: EntryKindName = attr()
    actor: Participant = attr()
    at: UtcTime = attr()
    step: StepNumber | None = attr(default=None)
    on_behalf_of: Participant | None = attr(name="onBehalfOf", default=None)
    undoes: Annotated[int, Field(ge=1)] | None = attr(default=None)
    hash: Sha256 = attr()
    reason: LongText | None = element(default=None)
    comment: LongText | None = element(default=None)


class FolderSummary(BookPayload, tag="folder"):
    folder_id: FolderId = attr(name="id")
    business_type: BusinessTypeCode = attr(name="businessType")
    submitter: Participant = attr()
    status: FolderStatusName = attr()
    current_step: StepNumber | None = attr(name="currentStep", default=None)
    updated_at: UtcTime = attr(name="updatedAt")
    title: ShortText = element()


# Requests


class SubmitFolder(BookPayload, tag="SubmitFolder"):
    """Submit a folder; without ``circuit`` the business type's template applies."""

    title: ShortText = element()
    business_type: BusinessTypeCode = element(tag="businessType")
    notify_service: Service | None = element(tag="notifyService", default=None)
    metadata: list[MetadataEntry] = wrapped("metadata", default_factory=list, max_length=50)
    documents: list[DocumentUpload] = element(min_length=1, max_length=50)
    circuit: list[CircuitStep] = wrapped("circuit", default_factory=list, max_length=30)


class ShowFolder(BookPayload, tag="ShowFolder"):
    folder_id: FolderId = element(tag="folderId")


class ListFolders(BookPayload, tag="ListFolders"):
    """Folders the caller may see; ``awaiting`` keeps those waiting for that signatory (or its substitute)."""

    awaiting: Participant | None = element(default=None)
    status: FolderStatusName | None = element(default=None)


class GetDocument(BookPayload, tag="GetDocument"):
    folder_id: FolderId = element(tag="folderId")
    name: DocumentName = element()


class GetSigningRequest(BookPayload, tag="GetSigningRequest"):
    folder_id: FolderId = element(tag="folderId")
    on_behalf_of: Participant | None = element(tag="onBehalfOf", default=None)


class ApproveFolder(BookPayload, tag="ApproveFolder"):
    folder_id: FolderId = element(tag="folderId")
    on_behalf_of: Participant | None = element(tag="onBehalfOf", default=None)
    comment: LongText | None = element(default=None)


class SignFolder(BookPayload, tag="SignFolder"):
    """A detached XAdES signature over the folder's documents, made for a ``SigningRequest``."""

    folder_id: FolderId = element(tag="folderId")
    signature: Base64 = element()


class RejectFolder(BookPayload, tag="RejectFolder"):
    folder_id: FolderId = element(tag="folderId")
    on_behalf_of: Participant | None = element(tag="onBehalfOf", default=None)
    reason: LongText = element()


class UndoAction(BookPayload, tag="UndoAction"):
    folder_id: FolderId = element(tag="folderId")


class DelegateSignature(BookPayload, tag="DelegateSignature"):
    """The caller lets ``substitute`` act in its place from ``validFrom`` to ``validUntil``."""

    substitute: Participant = element()
    valid_from: UtcTime = element(tag="validFrom")
    valid_until: UtcTime = element(tag="validUntil")
    reason: ShortText | None = element(default=None)


class ListDelegations(BookPayload, tag="ListDelegations"):
    """The delegations the caller gave or received, oldest first."""


class EndDelegation(BookPayload, tag="EndDelegation"):
    """The caller (the principal) ends one of its delegations now, before its ``validUntil``."""

    delegation_id: FolderId = element(tag="delegationId")


class GetBundle(BookPayload, tag="GetBundle"):
    folder_id: FolderId = element(tag="folderId")


# Answers


class FolderView(BookPayload, tag="FolderView"):
    folder_id: FolderId = element(tag="folderId")
    title: ShortText = element()
    business_type: BusinessTypeCode = element(tag="businessType")
    submitter: Participant = element()
    status: FolderStatusName = element()
    current_step: StepNumber | None = element(tag="currentStep", default=None)
    submitted_at: UtcTime = element(tag="submittedAt")
    updated_at: UtcTime = element(tag="updatedAt")
    metadata: list[MetadataEntry] = wrapped("metadata", default_factory=list, max_length=50)
    documents: list[DocumentInfo] = wrapped("documents", element(min_length=1, max_length=50))
    steps: list[StepView] = wrapped("circuit", element(min_length=1, max_length=30))
    history: list[HistoryItem] = wrapped("history", element(min_length=1))


class FolderList(BookPayload, tag="FolderList"):
    folders: list[FolderSummary] = element(default_factory=list)


class DocumentContent(BookPayload, tag="DocumentContent"):
    folder_id: FolderId = element(tag="folderId")
    name: DocumentName = element()
    mime_type: MimeType = element(tag="mimeType")
    sha256: Sha256 = element()
    content: Base64 = element()


class SigningRequest(BookPayload, tag="SigningRequest"):
    """What a signatory signs: these documents, bound to this book, folder, step and principal."""

    book: Participant = element()
    folder_id: FolderId = element(tag="folderId")
    step: StepNumber = element()
    signatory: Participant = element()
    on_behalf_of: Participant | None = element(tag="onBehalfOf", default=None)
    documents: list[DocumentInfo] = element(min_length=1, max_length=50)


class ActionResult(BookPayload, tag="ActionResult"):
    folder_id: FolderId = element(tag="folderId")
    seq: Annotated[int, Field(ge=1)] = element()
    action: EntryKindName = element()
    status: FolderStatusName = element()
    current_step: StepNumber | None = element(tag="currentStep", default=None)


class DelegationView(BookPayload, tag="DelegationView"):
    delegation_id: FolderId = element(tag="delegationId")
    principal: Participant = element()
    substitute: Participant = element()
    valid_from: UtcTime = element(tag="validFrom")
    valid_until: UtcTime = element(tag="validUntil")
    reason: ShortText | None = element(default=None)
    created_at: UtcTime = element(tag="createdAt")


class DelegationList(BookPayload, tag="DelegationList"):
    delegations: list[DelegationView] = element(default_factory=list)


class FolderBundle(BookPayload, tag="FolderBundle"):
    """The zip bundle of a completed folder (see ``bundle``)."""

    folder_id: FolderId = element(tag="folderId")
    content: Base64 = element()


# Events


class FolderEvent(BookPayload, tag="FolderEvent"):
    """A folder state change, sent to the submitting application."""

    event_id: FolderId = element(tag="eventId")
    kind: EventKind = element()
    folder_id: FolderId = element(tag="folderId")
    seq: Annotated[int, Field(ge=1)] = element()
    status: FolderStatusName = element()
    current_step: StepNumber | None = element(tag="currentStep", default=None)
    step: StepNumber | None = element(default=None)
    actor: Participant = element()
    on_behalf_of: Participant | None = element(tag="onBehalfOf", default=None)
    reason: LongText | None = element(default=None)
    at: UtcTime = element()


class DelegationEvent(BookPayload, tag="DelegationEvent"):
    """A delegation was granted; sent to the substitute."""

    event_id: FolderId = element(tag="eventId")
    delegation_id: FolderId = element(tag="delegationId")
    principal: Participant = element()
    substitute: Participant = element()
    valid_from: UtcTime = element(tag="validFrom")
    valid_until: UtcTime = element(tag="validUntil")
    at: UtcTime = element()


class EventAck(BookPayload, tag="EventAck"):
    event_id: FolderId = element(tag="eventId")


# Inside signatures


class SigningContext(BookPayload, tag="SigningContext"):
    """Binds a signature to one book, folder, step and signatory (and whom it signs for).

    Carried as the CommitmentTypeQualifier of the XAdES ProofOfApproval commitment, so it is signed.
    """

    book: Participant = element()
    folder_id: FolderId = element(tag="folderId")
    step: StepNumber = element()
    signatory: Participant = element()
    on_behalf_of: Participant | None = element(tag="onBehalfOf", default=None)


REQUESTS: tuple[type[BookPayload], ...] = (
    SubmitFolder,
    ShowFolder,
    ListFolders,
    GetDocument,
    GetSigningRequest,
    ApproveFolder,
    SignFolder,
    RejectFolder,
    UndoAction,
    DelegateSignature,
    GetBundle,
    ListDelegations,
    EndDelegation,
)
ANSWERS: tuple[type[BookPayload], ...] = (
    FolderView,
    FolderList,
    DocumentContent,
    SigningRequest,
    ActionResult,
    DelegationView,
    FolderBundle,
    DelegationList,
)
EVENTS: tuple[type[BookPayload], ...] = (FolderEvent, DelegationEvent, EventAck)
TOP_LEVEL: tuple[type[BookPayload], ...] = (*REQUESTS, *ANSWERS, *EVENTS, SigningContext)
