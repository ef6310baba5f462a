"""One fully populated and one minimal instance of every payload model of the mail office contract."""

from __future__ import annotations

from datetime import UTC, date, datetime

from teleservices.mail_office.deadlines import AlertLevel
from teleservices.mail_office.models import (
    Acknowledgement,
    AlertEntry,
    AlertQuery,
    Alerts,
    AnswerConsultation,
    Assign,
    Attachment,
    AttachmentInfo,
    Close,
    Consultation,
    ConsultationOpinion,
    CounterLetter,
    Deposit,
    GiveOpinion,
    HistoryEntry,
    MailPayload,
    MailRecord,
    Opinion,
    OpinionReceipt,
    Party,
    PartyKind,
    Redirect,
    Register,
    RegisterEntry,
    RegisterQuery,
    Reply,
    RequestOpinion,
    Send,
    Show,
    ShowSignatures,
    SignatureCircuit,
    SignatureCircuits,
    SignatureState,
    SignatureStep,
    StatusChange,
    StatusCount,
    StatusReceipt,
    Validate,
)
from teleservices.mail_office.workflow import Action, Direction, Status

AT = datetime(2026, 3, 2, 9, 30, 15, 123000, tzinfo=UTC)
DIGEST = "ab" * 32
NUMBER = "MEF/2026/A/42"

CITIZEN = Party(kind=PartyKind.CITIZEN, identifier="AB123456", name="Amina El Idrissi")
COMPANY = Party(kind=PartyKind.COMPANY, identifier="001525369000088", name="Atlas Travaux SARL")
MINISTRY = Party(kind=PartyKind.ADMINISTRATION, identifier="MA/GOV/MEF/bo", name="Ministère de l'Économie")
PDF = Attachment.of("demande signée.pdf", "application/pdf", b"%PDF-1.7 \x00\xff scanned letter")
INFO = AttachmentInfo(name=PDF.name, media_type=PDF.media_type, sha256=PDF.sha256, size=len(PDF.content))
HISTORY = HistoryEntry(
    sequence=2,
    action=Action.ASSIGN,
    old_status=Status.REGISTERED,
    new_status=Status.ASSIGNED,
    actor="k.alami",
    time=AT,
    service="rh",
    agent="s.bennani",
    comment="Urgent — à traiter\navant la fin du mois",
)
ENTRY = RegisterEntry(
    registration_number=NUMBER,
    status=Status.ASSIGNED,
    registered_at=AT,
    subject="Demande de mutation",
    sender=CITIZEN,
    recipient=MINISTRY,
    mail_type="request",
    service="rh",
    agent="s.bennani",
    deadline=date(2026, 3, 30),
    late=True,
    linked_registration="CNSS/2026/D/7",
    in_reply_to="MEF/2026/D/3",
)


def full() -> list[MailPayload]:
    """Every model with every optional field and list filled in."""
    return [
        Deposit(
            subject="Demande de mutation",
            sender=COMPANY,
            recipient=MINISTRY,
            mail_type="request",
            sender_registration="ATLAS/2026/17",
            in_reply_to="MEF/2026/D/3",
            body="Madame, Monsieur,\n\nVeuillez trouver ci-joint…\r\n",
            attachments=[PDF, Attachment.of("annexe.xml", "application/xml", b"<a/>")],
        ),
        Acknowledgement(
            registration_number=NUMBER,
            office="MA/GOV/MEF/bo",
            received_at=AT,
            service_in_charge="bureau-ordre",
            deadline=date(2026, 4, 1),
            deposit_digest=DIGEST,
            linked_registration="CNSS/2026/D/7",
        ),
        StatusChange(
            registration_number=NUMBER,
            sequence=3,
            action=Action.REDIRECT,
            old_status=Status.ASSIGNED,
            new_status=Status.ASSIGNED,
            actor="k.alami",
            time=AT,
            service="finances",
            comment="relève des finances",
        ),
        StatusReceipt(registration_number=NUMBER, sequence=3, applied=True),
        Assign(registration_number=NUMBER, service="rh", agent="s.bennani", comment="pour suite à donner"),
        Redirect(registration_number=NUMBER, service="finances", reason="relève des finances"),
        RequestOpinion(registration_number=NUMBER, consulted="juridique", question="Est-ce recevable ?"),
        GiveOpinion(registration_number=NUMBER, opinion="Recevable."),
        Validate(registration_number=NUMBER, comment="vu et approuvé"),
        Reply(
            registration_number=NUMBER,
            subject="Réponse à votre demande",
            mail_type="reply",
            body="Votre demande est acceptée.",
            attachments=[PDF],
            comment="réponse favorable",
            signature=[
                SignatureStep(kind="visa", signatories=["MA/GOV/MEF/dg"]),
                SignatureStep(kind="signature", quorum="any", signatories=["MA/GOV/MEF/sg"]),
            ],
        ),
        Close(registration_number=NUMBER, comment="dossier traité"),
        Send(
            subject="Demande d'avis",
            recipient=MINISTRY,
            mail_type="letter",
            body="Objet : demande d'avis",
            attachments=[PDF],
        ),
        CounterLetter(
            subject="Demande de mutation",
            visitor_name="Amina El Idrissi",
            visitor_kind=PartyKind.CITIZEN,
            visitor_id="AB123456",
            mail_type="request",
            body="Lettre remise au guichet",
            attachments=[PDF],
        ),
        Show(registration_number=NUMBER),
        Consultation(
            registration_number=NUMBER,
            subject="Demande de mutation",
            question="Le demandeur est-il à jour de ses cotisations ?",
            requested_by="mef.agent (Omar Tazi)",
            requested_at=AT,
        ),
        ConsultationOpinion(
            registration_number=NUMBER,
            opinion="Oui, à jour.",
            given_by="cnss.agent (Meryem Idrissi)",
            given_at=AT,
            consultation_number="CNSS-A-2026-00001",
        ),
        OpinionReceipt(registration_number=NUMBER, applied=True),
        AnswerConsultation(registration_number=NUMBER, opinion="Oui, à jour."),
        MailRecord(
            registration_number=NUMBER,
            direction=Direction.INCOMING,
            status=Status.REPLIED,
            subject="Demande de mutation",
            sender=CITIZEN,
            recipient=MINISTRY,
            mail_type="request",
            registered_at=AT,
            deadline=date(2026, 4, 1),
            service="rh",
            agent="s.bennani",
            deposit_digest=DIGEST,
            linked_registration="CNSS/2026/D/7",
            linked_status=Status.ASSIGNED,
            in_reply_to="MEF/2026/D/3",
            replies=["MEF/2026/D/9", "MEF/2026/D/10"],
            body="Madame, Monsieur,",
            attachments=[INFO],
            opinions=[
                Opinion(
                    consulted="juridique",
                    question="Recevable ?",
                    requested_by="k.alami",
                    requested_at=AT,
                    opinion="Oui.",
                    given_by="n.tazi",
                    given_at=AT,
                )
            ],
            history=[HISTORY],
        ),
        RegisterQuery(
            direction=Direction.INCOMING,
            year=2026,
            status=Status.ASSIGNED,
            correspondent="El Idrissi",
            text="mutation",
            service="rh",
            registered_from=date(2026, 1, 1),
            registered_to=date(2026, 12, 31),
            late_only=True,
            offset=20,
            limit=10,
        ),
        Register(
            direction=Direction.INCOMING,
            total=1,
            late=1,
            counts=[StatusCount(status=Status.ASSIGNED, count=1)],
            entries=[ENTRY],
        ),
        AlertQuery(level=AlertLevel.OVERDUE, service="rh"),
        Alerts(
            day=date(2026, 4, 2),
            alerts=[
                AlertEntry(
                    registration_number=NUMBER,
                    level=AlertLevel.OVERDUE,
                    deadline=date(2026, 3, 30),
                    days_left=-3,
                    subject="Demande de mutation",
                    service="rh",
                    agent="s.bennani",
                )
            ],
        ),
        ShowSignatures(registration_number=NUMBER),
        SignatureCircuits(
            registration_number=NUMBER,
            circuits=[
                SignatureCircuit(
                    reply=NUMBER,
                    state=SignatureState.REJECTED,
                    book="MA/GOV/SGG/parapheur",
                    folder_id="0b5c3f4e-1d2a-4c6b-9e8f-7a6b5c4d3e2f",
                    current_step=1,
                    updated_at=AT,
                    steps=[SignatureStep(kind="signature", signatories=["MA/GOV/MEF/sg"])],
                    last_actor="MA/GOV/MEF/sg",
                    on_behalf_of="MA/GOV/MEF/dg",
                    reason="à reformuler",
                )
            ],
        ),
    ]


def minimal() -> list[MailPayload]:
    """Every model with only its required fields."""
    return [
        Deposit(subject="x", sender=CITIZEN, recipient=MINISTRY, mail_type="letter"),
        Acknowledgement(
            registration_number=NUMBER,
            office="MA/GOV/MEF",
            received_at=AT,
            service_in_charge="bo",
            deadline=date(2026, 4, 1),
            deposit_digest=DIGEST,
        ),
        StatusChange(
            registration_number=NUMBER,
            sequence=1,
            action=Action.CLOSE,
            old_status=Status.VALIDATED,
            new_status=Status.CLOSED,
            actor="a",
            time=AT,
        ),
        StatusReceipt(registration_number=NUMBER, sequence=1, applied=False),
        Assign(registration_number=NUMBER, service="rh"),
        Redirect(registration_number=NUMBER, service="rh", reason="r"),
        RequestOpinion(registration_number=NUMBER, consulted="MA/GOV/CNSS", question="?"),
        GiveOpinion(registration_number=NUMBER, opinion="ok"),
        Validate(registration_number=NUMBER),
        Reply(registration_number=NUMBER, subject="Réponse"),
        Close(registration_number=NUMBER),
        Send(subject="s", recipient=CITIZEN, mail_type="letter"),
        CounterLetter(subject="s", visitor_name="v", mail_type="letter"),
        Show(registration_number="1"),
        Consultation(registration_number="1", subject="s", question="q", requested_by="a", requested_at=AT),
        ConsultationOpinion(
            registration_number="1", opinion="o", given_by="a", given_at=AT, consultation_number="2"
        ),
        OpinionReceipt(registration_number="1", applied=False),
        AnswerConsultation(registration_number="1", opinion="o"),
        MailRecord(
            registration_number=NUMBER,
            direction=Direction.OUTGOING,
            status=Status.REGISTERED,
            subject="s",
            sender=MINISTRY,
            recipient=CITIZEN,
            mail_type="reply",
            registered_at=AT,
            deposit_digest=DIGEST,
        ),
        RegisterQuery(direction=Direction.OUTGOING),
        Register(direction=Direction.OUTGOING, total=0, late=0),
        AlertQuery(),
        Alerts(day=date(2026, 4, 2)),
        ShowSignatures(registration_number=NUMBER),
        SignatureCircuits(registration_number=NUMBER),
    ]
