"""The mail office's payload contract, namespace ``urn:govbus:mail-office:1`` (mail_office.xsd in this package).

The models are the contract: the XSD is generated from them (``govbus contract generate
teleservices.mail_office.contract``; ``XsdType`` names its lexical types), and
tests/mail_office/test_contract.py proves the two agree. Root elements:

- ``Deposit`` -> ``Acknowledgement``: a letter deposited with an administration and its receipt.
- ``CounterLetter`` -> ``Acknowledgement``: a paper letter handed in at the counter, registered by a clerk.
- ``StatusChange`` -> ``StatusReceipt``: sent to the depositor's system each time its letter changes
  hands or status.
- Desk operations, each answered with a ``MailRecord``: ``Assign``, ``Redirect``, ``RequestOpinion``,
  ``GiveOpinion``, ``Validate``, ``Reply`` (answers with the reply, an outgoing letter), ``Close``,
  ``Send`` (a new outgoing letter), ``Show``.
- ``Consultation`` -> ``Acknowledgement`` and ``ConsultationOpinion`` -> ``OpinionReceipt``: one office asks
  another administration's office for an opinion on a letter, and the opinion comes back to that letter;
  ``AnswerConsultation`` (a desk operation) gives it.
- ``RegisterQuery`` -> ``Register``: a page of a register with counts per status.
- ``AlertQuery`` -> ``Alerts``: open incoming letters near, at or past their processing deadline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

import lxml.etree as etree
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, StringConstraints
from pydantic_xml import attr, element, wrapped

from sdk import Fault, Payload
from sdk import ParticipantId as ParticipantIdentifier
from sdk.xsdgen import XsdType
from teleservices.mail_office.deadlines import AlertLevel
from teleservices.mail_office.workflow import Action, Direction, Status

NAMESPACE = "urn:govbus:mail-office:1"
SCHEMA = "teleservices.mail_office:mail_office.xsd"  # a resource of this package

# XML 1.0 characters: anything else cannot be carried in a document at all.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: str) -> str:
    if _NOT_XML_CHAR.search(value):
        raise ValueError("text contains a character XML cannot carry (a control character or NUL)")
    return value


_XML_TEXT = AfterValidator(_xml_text)


def _one_line(value: str) -> str:
    """One line with at least one visible character: the XSD's ``[^\n\r]*[^ \t\n\r][^\n\r]*``."""
    if "\n" in value or "\r" in value:
        raise ValueError("must fit on one line")
    if not value.strip(" \t"):
        raise ValueError("must contain a visible character")
    return value


_ONE_LINE = AfterValidator(_one_line)
_ONE_LINE_PATTERN = r"^[^\n\r]*[^ \t\n\r][^\n\r]*$"
_PARTICIPANT_PATTERN = r"^[A-Z][A-Z0-9\-]{1,15}/[A-Z][A-Z0-9]{1,15}/[A-Za-z0-9][A-Za-z0-9._\-]{0,63}(/[A-Za-z0-9][A-Za-z0-9._\-]{0,63})?$"

Subject = Annotated[
    str, StringConstraints(max_length=500), _ONE_LINE, _XML_TEXT, XsdType("SubjectType", _ONE_LINE_PATTERN)
]
SearchText = Subject
Name = Annotated[
    str, StringConstraints(max_length=300), _ONE_LINE, _XML_TEXT, XsdType("NameType", _ONE_LINE_PATTERN)
]
Actor = Annotated[
    str, StringConstraints(max_length=200), _ONE_LINE, _XML_TEXT, XsdType("ActorType", _ONE_LINE_PATTERN)
]
"""An official, a service or a participant id acting on a letter."""
Comment = Annotated[str, StringConstraints(min_length=1, max_length=4000), _XML_TEXT, XsdType("CommentType")]
Body = Annotated[str, StringConstraints(min_length=1, max_length=100_000), _XML_TEXT, XsdType("BodyType")]

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), XsdType("CodeType")]
"""A mail type or a service: ``request``, ``dep-juridique``."""

RegistrationNumber = Annotated[
    str, StringConstraints(pattern=r"^[!-~]{1,100}$"), XsdType("RegistrationNumberType")
]
"""Printable ASCII without spaces, e.g. ``MEF/2026/A/42``; each office chooses its format."""

Identifier = Annotated[str, StringConstraints(pattern=r"^[!-~]{1,100}$"), XsdType("IdentifierType")]
"""A CIN, an ICE or a participant id; the office checks the form that fits the party's kind."""


def _participant_id(value: str) -> str:
    try:
        ParticipantIdentifier.parse(value)
    except Fault as fault:
        raise ValueError(fault.reason) from None
    return value


ParticipantId = Annotated[
    str, AfterValidator(_participant_id), XsdType("ParticipantIdType", _PARTICIPANT_PATTERN)
]
"""A bus participant id, ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]``, checked by the SDK's ``ParticipantId``."""

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$"), XsdType("Sha256HexType")]

MediaType = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9.+\-]{0,126}/[a-z0-9][a-z0-9.+\-]{0,126}$"),
    XsdType("MediaTypeType"),
]

FileName = Annotated[
    str,
    StringConstraints(pattern=r"^[^/\\\t\n\r]*[^/\\ \t\n\r][^/\\\t\n\r]*$", max_length=255),
    _XML_TEXT,
    XsdType("FileNameType"),
]

_UTC_MILLIS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _utc_millis_in(value: Any) -> Any:
    if isinstance(value, str) and not _UTC_MILLIS.fullmatch(value):
        raise ValueError("a timestamp is UTC with milliseconds, e.g. 2026-11-21T10:15:30.123Z")
    return value


def _to_utc_millis(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a timestamp must carry its time zone")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def format_utc_millis(moment: datetime) -> str:
    """``2026-11-21T10:15:30.123Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


UtcMillis = Annotated[
    datetime,
    BeforeValidator(_utc_millis_in),
    AfterValidator(_to_utc_millis),
    PlainSerializer(format_utc_millis, return_type=str),
    XsdType("UtcMillisType", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"),
]


def _iso_date_in(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    if isinstance(value, datetime):
        raise ValueError("a date, not a timestamp")
    return value


IsoDate = Annotated[
    date, BeforeValidator(_iso_date_in), PlainSerializer(date.isoformat, return_type=str), XsdType("DateType")
]


def _base64_in(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"not base64: {error}") from None
    return value


Content = Annotated[
    bytes,
    BeforeValidator(_base64_in),
    Field(min_length=1),
    PlainSerializer(lambda content: base64.b64encode(content).decode("ascii"), return_type=str),
    XsdType("ContentType"),
]

MAX_ATTACHMENTS = 50


class PartyKind(StrEnum):
    """Who sends or receives a letter, and therefore which identifier names them."""

    CITIZEN = "citizen"  # identifier: CIN (carte nationale d'identité électronique)
    COMPANY = "company"  # identifier: ICE (identifiant commun de l'entreprise)
    ADMINISTRATION = "administration"  # identifier: bus participant id
    VISITOR = "visitor"  # a person at the counter who gave no CIN: identifier assigned by the office


class MailPayload(Payload, ns="m", nsmap={"m": NAMESPACE}, skip_empty=True):
    """Base of every mail office element: an ``sdk.Payload`` (immutable, no unknown fields), absent optionals left out."""


class Party(MailPayload):
    """A sender or recipient."""

    kind: PartyKind = element()
    identifier: Identifier = element()
    name: Name = element()


class Attachment(MailPayload):
    """A file carried with a letter; ``sha256`` is the digest of ``content`` (checked on deposit)."""

    name: FileName = element()
    media_type: MediaType = element(tag="mediaType")
    sha256: Sha256Hex = element()
    content: Content = element()

    @classmethod
    def of(cls, name: str, media_type: str, content: bytes) -> Attachment:
        """An attachment with its digest computed."""
        return cls(
            name=name, media_type=media_type, sha256=hashlib.sha256(content).hexdigest(), content=content
        )


class AttachmentInfo(MailPayload):
    """A stored attachment as listed in a record: everything but the content."""

    name: FileName = element()
    media_type: MediaType = element(tag="mediaType")
    sha256: Sha256Hex = element()
    size: int = element(ge=1)


class Deposit(MailPayload, tag="Deposit"):
    """A letter deposited with an administration (or delivered by another one's mail office).

    ``sender_registration`` is the sender office's own (outgoing) registration number when the sender is an
    administration; ``in_reply_to`` is the registration number, as the recipient knows it, that this
    letter answers.
    """

    subject: Subject = element()
    sender: Party = element()
    recipient: Party = element()
    mail_type: Code = element(tag="mailType")
    sender_registration: RegistrationNumber | None = element(tag="senderRegistration", default=None)
    in_reply_to: RegistrationNumber | None = element(tag="inReplyTo", default=None)
    body: Body | None = element(default=None)
    attachments: list[Attachment] = element(
        tag="attachment", default_factory=list, max_length=MAX_ATTACHMENTS
    )


class Acknowledgement(MailPayload, tag="Acknowledgement"):
    """The acknowledgement of receipt (accusé de réception), signed by the office's envelope signature.

    Carries the legal minimum: registration number, date and time of receipt, the service in charge and
    the processing deadline; ``deposit_digest`` binds it to the deposit (see ``deposit_digest``).
    """

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    office: ParticipantId = element()
    received_at: UtcMillis = element(tag="receivedAt")
    service_in_charge: Code = element(tag="serviceInCharge")
    deadline: IsoDate = element()
    deposit_digest: Sha256Hex = element(tag="depositDigest")
    linked_registration: RegistrationNumber | None = element(tag="linkedRegistration", default=None)


class StatusChange(MailPayload, tag="StatusChange"):
    """One step of a letter's processing, sent to the system that deposited it.

    ``sequence`` numbers the steps of one letter from 1 (its registration); a receiver keeps the highest
    it has seen, so a step delivered twice or late changes nothing.
    """

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    sequence: int = element(ge=1)
    action: Action = element()
    old_status: Status = element(tag="oldStatus")
    new_status: Status = element(tag="newStatus")
    actor: Actor = element()
    time: UtcMillis = element()
    service: Code | None = element(default=None)
    comment: Comment | None = element(default=None)


class StatusReceipt(MailPayload, tag="StatusReceipt"):
    """The depositor's system's answer to a ``StatusChange``: ``applied`` is false for a step it knew."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    sequence: int = element(ge=1)
    applied: bool = element()


class Assign(MailPayload, tag="Assign"):
    """Assign a letter to a service, optionally to one of its agents."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    service: Code = element()
    agent: Actor | None = element(default=None)
    comment: Comment | None = element(default=None)


class Redirect(MailPayload, tag="Redirect"):
    """The service in charge sends the letter on to the competent service."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    service: Code = element()
    reason: Comment = element()


class RequestOpinion(MailPayload, tag="RequestOpinion"):
    """Ask another service or administration for its opinion before answering."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    consulted: Actor = element()
    question: Comment = element()


class GiveOpinion(MailPayload, tag="GiveOpinion"):
    """The opinion asked for by the last ``RequestOpinion``."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    opinion: Comment = element()


class Validate(MailPayload, tag="Validate"):
    """The head of service approves the processing; the letter may then be answered or closed."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    comment: Comment | None = element(default=None)


class SignatureStepKind(StrEnum):
    VISA = "visa"
    SIGNATURE = "signature"


class SignatureQuorum(StrEnum):
    ALL = "all"
    ANY = "any"


class SignatureStep(MailPayload):
    """One step of the signature circuit a reply goes through before it leaves the office."""

    kind: SignatureStepKind = attr()
    quorum: SignatureQuorum = attr(default=SignatureQuorum.ALL)
    signatories: list[ParticipantId] = element(tag="signatory", min_length=1, max_length=50)


class Reply(MailPayload, tag="Reply"):
    """Answer a validated letter: the reply is registered as an outgoing letter linked to it.

    With ``signature`` steps the reply is held until a signature book completes that circuit over it
    (``signing.py``); a rejected reply never leaves the office.
    """

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    subject: Subject = element()
    mail_type: Code | None = element(tag="mailType", default=None)
    body: Body | None = element(default=None)
    attachments: list[Attachment] = element(
        tag="attachment", default_factory=list, max_length=MAX_ATTACHMENTS
    )
    comment: Comment | None = element(default=None)
    signature: list[SignatureStep] = wrapped(
        "signature", element(tag="step"), default_factory=list, max_length=30
    )


class Close(MailPayload, tag="Close"):
    """File a letter whose processing is over."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    comment: Comment | None = element(default=None)


class Send(MailPayload, tag="Send"):
    """Register a new outgoing letter and deliver it to its recipient."""

    subject: Subject = element()
    recipient: Party = element()
    mail_type: Code = element(tag="mailType")
    body: Body | None = element(default=None)
    attachments: list[Attachment] = element(
        tag="attachment", default_factory=list, max_length=MAX_ATTACHMENTS
    )


class CounterLetter(MailPayload, tag="CounterLetter"):
    """A paper letter handed in at the office's counter, registered by the clerk who received it.

    The clerk is the envelope's ``userId`` (never a field). ``visitor_kind`` and ``visitor_id`` are both
    given (a citizen's CIN, a company's ICE) or both absent (the office then names the visitor with a
    reference of its own, and the answer goes by post). Answered with the letter's ``Acknowledgement``.
    """

    subject: Subject = element()
    visitor_name: Name = element(tag="visitorName")
    visitor_kind: PartyKind | None = element(tag="visitorKind", default=None)
    visitor_id: Identifier | None = element(tag="visitorId", default=None)
    mail_type: Code = element(tag="mailType")
    body: Body | None = element(default=None)
    attachments: list[Attachment] = element(
        tag="attachment", default_factory=list, max_length=MAX_ATTACHMENTS
    )


class Consultation(MailPayload, tag="Consultation"):
    """An office asks another administration's office for its opinion on one of its letters (``mail.consult``).

    ``registration_number`` is the asking office's letter; the consulted office registers the consultation
    as an incoming letter linked to it and answers with its ``Acknowledgement``.
    """

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    subject: Subject = element()
    question: Comment = element()
    requested_by: Actor = element(tag="requestedBy")
    requested_at: UtcMillis = element(tag="requestedAt")


class ConsultationOpinion(MailPayload, tag="ConsultationOpinion"):
    """The consulted office's opinion, sent back to the asking office's letter (``mail.opinion``)."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    opinion: Comment = element()
    given_by: Actor = element(tag="givenBy")
    given_at: UtcMillis = element(tag="givenAt")
    consultation_number: RegistrationNumber = element(tag="consultationNumber")


class OpinionReceipt(MailPayload, tag="OpinionReceipt"):
    """The asking office's answer to a ``ConsultationOpinion``: ``applied`` is false for one it had."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    applied: bool = element()


class AnswerConsultation(MailPayload, tag="AnswerConsultation"):
    """Answer a consultation received from another administration: the opinion goes back to its letter."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    opinion: Comment = element()


class Show(MailPayload, tag="Show"):
    """Ask for a letter's record."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")


class Opinion(MailPayload):
    """An opinion asked for, and given once ``given_by`` is set."""

    consulted: Actor = element()
    question: Comment = element()
    requested_by: Actor = element(tag="requestedBy")
    requested_at: UtcMillis = element(tag="requestedAt")
    opinion: Comment | None = element(default=None)
    given_by: Actor | None = element(tag="givenBy", default=None)
    given_at: UtcMillis | None = element(tag="givenAt", default=None)


class HistoryEntry(MailPayload):
    """One recorded action on a letter: who did what, when, and the status it led to."""

    sequence: int = element(ge=1)
    action: Action = element()
    old_status: Status | None = element(tag="oldStatus", default=None)
    new_status: Status = element(tag="newStatus")
    actor: Actor = element()
    time: UtcMillis = element()
    service: Code | None = element(default=None)
    agent: Actor | None = element(default=None)
    comment: Comment | None = element(default=None)


class MailRecord(MailPayload, tag="MailRecord"):
    """Everything the office knows about one letter, answered to every desk operation.

    ``linked_registration`` is the other office's registration of the same letter; ``linked_status`` the
    latest status it reported. ``in_reply_to`` is the local letter this one answers, ``replies`` the
    local replies to this one.
    """

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    direction: Direction = element()
    status: Status = element()
    subject: Subject = element()
    sender: Party = element()
    recipient: Party = element()
    mail_type: Code = element(tag="mailType")
    registered_at: UtcMillis = element(tag="registeredAt")
    deadline: IsoDate | None = element(default=None)
    service: Code | None = element(default=None)
    agent: Actor | None = element(default=None)
    deposit_digest: Sha256Hex = element(tag="depositDigest")
    linked_registration: RegistrationNumber | None = element(tag="linkedRegistration", default=None)
    linked_status: Status | None = element(tag="linkedStatus", default=None)
    in_reply_to: RegistrationNumber | None = element(tag="inReplyTo", default=None)
    replies: list[RegistrationNumber] = element(tag="reply", default_factory=list)
    body: Body | None = element(default=None)
    attachments: list[AttachmentInfo] = element(tag="attachment", default_factory=list)
    opinions: list[Opinion] = element(tag="opinion", default_factory=list)
    history: list[HistoryEntry] = element(tag="historyEntry", default_factory=list)


MAX_PAGE = 1000


class RegisterQuery(MailPayload, tag="RegisterQuery"):
    """Search a register.

    ``correspondent`` (the sender of incoming mail, the recipient of outgoing mail) matches an identifier
    exactly or a name in part, ``text`` the subject in part, both ignoring case; dates are the office's
    local dates of registration, both included.
    """

    direction: Direction = element()
    year: int | None = element(default=None, ge=1900, le=9999)
    status: Status | None = element(default=None)
    correspondent: SearchText | None = element(default=None)
    text: SearchText | None = element(default=None)
    service: Code | None = element(default=None)
    registered_from: IsoDate | None = element(tag="registeredFrom", default=None)
    registered_to: IsoDate | None = element(tag="registeredTo", default=None)
    late_only: bool = element(tag="lateOnly", default=False)
    offset: int = element(default=0, ge=0)
    limit: int = element(default=100, ge=1, le=MAX_PAGE)


class RegisterEntry(MailPayload):
    """One line of a register."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    status: Status = element()
    registered_at: UtcMillis = element(tag="registeredAt")
    subject: Subject = element()
    sender: Party = element()
    recipient: Party = element()
    mail_type: Code = element(tag="mailType")
    service: Code | None = element(default=None)
    agent: Actor | None = element(default=None)
    deadline: IsoDate | None = element(default=None)
    late: bool = element(default=False)
    linked_registration: RegistrationNumber | None = element(tag="linkedRegistration", default=None)
    in_reply_to: RegistrationNumber | None = element(tag="inReplyTo", default=None)


class StatusCount(MailPayload):
    """How many letters matching a query are in one status."""

    status: Status = element()
    count: int = element(ge=0)


class Register(MailPayload, tag="Register"):
    """A page of a register: ``total`` and ``late`` count every matching letter, ``entries`` one page."""

    direction: Direction = element()
    total: int = element(ge=0)
    late: int = element(ge=0)
    counts: list[StatusCount] = element(tag="statusCount", default_factory=list)
    entries: list[RegisterEntry] = element(tag="entry", default_factory=list, max_length=MAX_PAGE)


class AlertQuery(MailPayload, tag="AlertQuery"):
    """Ask for the deadline alerts of open incoming letters, optionally of one level or one service."""

    level: AlertLevel | None = element(default=None)
    service: Code | None = element(default=None)


class AlertEntry(MailPayload):
    """An open incoming letter near, at or past its deadline; ``days_left`` is negative once overdue."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")
    level: AlertLevel = element()
    deadline: IsoDate = element()
    days_left: int = element(tag="daysLeft", ge=-(2**31), le=2**31 - 1)
    subject: Subject = element()
    service: Code | None = element(default=None)
    agent: Actor | None = element(default=None)


class Alerts(MailPayload, tag="Alerts"):
    """The alerts as of the office's local date ``day``."""

    day: IsoDate = element(tag="date")
    alerts: list[AlertEntry] = element(tag="alert", default_factory=list)


class SignatureState(StrEnum):
    """Where a reply's signature circuit stands."""

    TO_SUBMIT = "to-submit"  # held; the folder is not yet in the signature book
    IN_CIRCUIT = "in-circuit"
    SIGNED = "signed"  # the reply is released for delivery
    REJECTED = "rejected"  # the reply never leaves the office


class ShowSignatures(MailPayload, tag="ShowSignatures"):
    """The signature circuits of a letter's replies (or of the reply itself)."""

    registration_number: RegistrationNumber = element(tag="registrationNumber")


class SignatureCircuit(MailPayload):
    reply: RegistrationNumber = attr()
    state: SignatureState = attr()
    book: ParticipantId | None = attr(default=None)
    folder_id: Code | None = attr(name="folderId", default=None)
    current_step: int | None = attr(name="currentStep", default=None, ge=1, le=30)
    updated_at: UtcMillis = attr(name="updatedAt")
    steps: list[SignatureStep] = element(tag="step", min_length=1, max_length=30)
    last_actor: ParticipantId | None = element(tag="lastActor", default=None)
    on_behalf_of: ParticipantId | None = element(tag="onBehalfOf", default=None)
    reason: Comment | None = element(default=None)


class SignatureCircuits(MailPayload, tag="SignatureCircuits"):
    registration_number: RegistrationNumber = element(tag="registrationNumber")
    circuits: list[SignatureCircuit] = element(tag="circuit", default_factory=list)


DeskOperation = (
    Assign
    | Redirect
    | RequestOpinion
    | GiveOpinion
    | Validate
    | Reply
    | Close
    | Send
    | Show
    | AnswerConsultation
)

PAYLOADS: tuple[type[MailPayload], ...] = (
    Deposit,
    Acknowledgement,
    CounterLetter,
    StatusChange,
    StatusReceipt,
    Assign,
    Redirect,
    RequestOpinion,
    GiveOpinion,
    Validate,
    Reply,
    Close,
    Send,
    Show,
    Consultation,
    ConsultationOpinion,
    OpinionReceipt,
    AnswerConsultation,
    MailRecord,
    RegisterQuery,
    Register,
    AlertQuery,
    Alerts,
    ShowSignatures,
    SignatureCircuits,
)
"""Every root element of the contract, one per global element of the XSD."""


def canonical_bytes(payload: MailPayload) -> bytes:
    """Exclusive C14N (without comments) of a payload as the contract models serialise it."""
    return etree.tostring(payload.to_xml_tree(), method="c14n", exclusive=True, with_comments=False)


def deposit_digest(deposit: Deposit) -> str:
    """SHA-256 (hex) of the deposit's canonical form: what the acknowledgement's ``depositDigest`` binds.

    A depositor recomputes it from the ``Deposit`` it sent with these models; two deposits of the same
    letter, attachments included, have the same digest.
    """
    return hashlib.sha256(canonical_bytes(deposit)).hexdigest()
