"""``MailOffice``: the service layer of one administration's mail office.

Every entry point of the office (bus handlers, the CLI, tests) calls these methods; they validate, run
one SQLite transaction each, and answer with contract models. An office lives in one directory::

    DIR/mail-office.json          its configuration (``OfficeConfig``)
    DIR/mail-office.sqlite3       registers, history, opinions, counters, outbox
    DIR/attachments/sha256/ab/cdef...   attachment files, by content

Actors are whoever acts: an official's id (the envelope's ``userId``), a service, or a participant id.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar

import pydantic

from teleservices.mail_office import outbox, registers
from teleservices.mail_office.attachments import AttachmentStore
from teleservices.mail_office.clock import Clock, system_clock, utc_millis
from teleservices.mail_office.config import CONFIG_FILE, OfficeConfig
from teleservices.mail_office.deadlines import Alert, alert_level, deadline
from teleservices.mail_office.errors import (
    AttachmentDigestMismatch,
    ConfigurationError,
    InvalidRequest,
    InvalidSender,
    NotDeliverable,
    UnknownAttachment,
    UnknownRegistration,
    WrongRecipient,
)
from teleservices.mail_office.models import (
    Acknowledgement,
    Actor,
    AlertEntry,
    AlertQuery,
    Alerts,
    Assign,
    Attachment,
    AttachmentInfo,
    Close,
    Deposit,
    DeskOperation,
    GiveOpinion,
    HistoryEntry,
    MailPayload,
    MailRecord,
    Opinion,
    ParticipantId,
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
    StatusChange,
    Validate,
    deposit_digest,
    format_utc_millis,
)
from teleservices.mail_office.numbering import next_counter
from teleservices.mail_office.outbox import DrainReport, OutboxKind, OutboxMessage, Sink
from teleservices.mail_office.parties import check_party, member, same_administration
from teleservices.mail_office.store import DATABASE_FILE, Store
from teleservices.mail_office.workflow import Action, Direction, Status, next_status

ATTACHMENTS_DIR = "attachments"
REPLY_MAIL_TYPE = "reply"
_UNCHANGED = object()


def _party(row: sqlite3.Row, side: str) -> Party:
    return Party(kind=PartyKind(row[f"{side}_kind"]), identifier=row[f"{side}_id"], name=row[f"{side}_name"])


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class MailOffice:
    """One administration's bureau d'ordre and mail desk."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        config: OfficeConfig | None = None,
        clock: Clock = system_clock,
    ) -> None:
        """Open the office in ``directory``, with its saved configuration unless ``config`` is given."""
        self.directory = Path(directory)
        self.config = config if config is not None else OfficeConfig.load(self.directory)
        self._clock = clock
        self._store = Store(self.directory / DATABASE_FILE)
        self._store.initialise()
        self.attachments = AttachmentStore(self.directory / ATTACHMENTS_DIR)

    @classmethod
    def create(
        cls, directory: str | os.PathLike[str], config: OfficeConfig, *, clock: Clock = system_clock
    ) -> MailOffice:
        """Make ``directory`` a new mail office with ``config`` (saved there)."""
        path = Path(directory)
        if (path / CONFIG_FILE).exists():
            raise ConfigurationError(f"{path} is already a mail office")
        path.mkdir(parents=True, exist_ok=True)
        config.save(path)
        return cls(path, config=config, clock=clock)

    @property
    def participant(self) -> str:
        """The office's participant id on the bus."""
        return self.config.participant

    def now(self) -> datetime:
        """The office clock, in UTC, to the millisecond."""
        return utc_millis(self._clock())

    def local_date(self, moment: datetime | None = None) -> date:
        """The office's local date at ``moment`` (default: now)."""
        return (moment or self.now()).astimezone(self.config.zone).date()

    # Deposit (the bureau d'ordre)

    def deposit(self, deposit: Deposit, *, channel: str | None = None) -> Acknowledgement:
        """Register an incoming letter and return its acknowledgement of receipt.

        ``channel`` is the participant that carried the deposit (the envelope's client): status changes
        are sent to it. The same letter deposited again by the same sender (same deposit digest) is not
        registered twice: the original acknowledgement is returned, byte for byte.
        """
        self._check_sender(deposit.sender, channel)
        digest = deposit_digest(deposit)
        with self._store.read() as conn:
            original = self._original(conn, deposit.sender, digest)
        if original is not None:
            return original
        self._check_letter(deposit)
        for attachment in deposit.attachments:
            self.attachments.put(attachment.content)
        now = self.now()
        with self._store.write() as conn:
            original = self._original(conn, deposit.sender, digest)
            if original is not None:
                return original
            received_on = self.local_date(now)
            rule = self.config.mail_type(deposit.mail_type)
            service = rule.service or self.config.default_service
            due = deadline(received_on, rule.days, rule.count, self.config.calendar)
            counter = next_counter(conn, Direction.INCOMING.register, received_on.year)
            number = self.config.numbers.render(
                self.config.code, received_on.year, Direction.INCOMING.register, counter
            )
            acknowledgement = Acknowledgement(
                registration_number=number,
                office=self.participant,
                received_at=now,
                service_in_charge=service,
                deadline=due,
                deposit_digest=digest,
                linked_registration=deposit.sender_registration,
            )
            mail_id = self._insert(
                conn,
                direction=Direction.INCOMING,
                year=received_on.year,
                counter=counter,
                number=number,
                subject=deposit.subject,
                body=deposit.body,
                sender=deposit.sender,
                recipient=deposit.recipient,
                mail_type=deposit.mail_type,
                at=now,
                deadline=due,
                service=service,
                digest=digest,
                channel=channel,
                linked_number=deposit.sender_registration,
                in_reply_to=self._answered(conn, deposit),
                answers=deposit.in_reply_to,
                acknowledgement=acknowledgement.to_xml(),
                attachments=deposit.attachments,
            )
            self._history(
                conn,
                mail_id,
                Action.REGISTER,
                None,
                Status.REGISTERED,
                actor=channel or deposit.sender.identifier,
                at=now,
                service=service,
                agent=None,
            )
        return acknowledgement

    def _original(self, conn: sqlite3.Connection, sender: Party, digest: str) -> Acknowledgement | None:
        row = conn.execute(
            "SELECT acknowledgement FROM mails WHERE direction = 'incoming' "
            "AND sender_kind = ? AND sender_id = ? AND digest = ?",
            (sender.kind.value, sender.identifier, digest),
        ).fetchone()
        return None if row is None else Acknowledgement.from_xml(row["acknowledgement"])

    def _check_sender(self, sender: Party, channel: str | None) -> None:
        """Who may deposit in ``sender``'s name: checked before anything, a duplicate included."""
        if channel is not None:
            _check(_PARTICIPANT, channel, "channel")
        check_party(sender, "sender")
        if (
            sender.kind is PartyKind.ADMINISTRATION
            and channel is not None
            and not same_administration(channel, sender.identifier)
        ):
            raise InvalidSender(
                f"{channel} cannot deposit a letter in the name of the administration {sender.identifier}"
            )

    def _check_letter(self, deposit: Deposit) -> None:
        recipient = deposit.recipient
        if recipient.kind is not PartyKind.ADMINISTRATION or recipient.identifier not in (
            self.participant,
            member(self.participant),
        ):
            raise WrongRecipient(
                f"this is the mail office of {self.participant}; the letter is addressed to "
                f"{recipient.kind.value} {recipient.identifier}"
            )
        self.config.mail_type(deposit.mail_type)
        _check_digests(deposit.attachments)

    def _answered(self, conn: sqlite3.Connection, deposit: Deposit) -> int | None:
        """The local outgoing letter that ``deposit`` answers, when it was addressed to its sender."""
        if deposit.in_reply_to is None:
            return None
        row = conn.execute(
            "SELECT id, recipient_kind, recipient_id FROM mails WHERE direction = 'outgoing' AND number = ?",
            (deposit.in_reply_to,),
        ).fetchone()
        if row is None or row["recipient_kind"] != deposit.sender.kind.value:
            return None
        if deposit.sender.kind is PartyKind.ADMINISTRATION:
            answered = same_administration(row["recipient_id"], deposit.sender.identifier)
        else:
            answered = row["recipient_id"] == deposit.sender.identifier
        return int(row["id"]) if answered else None

    # The mail desk

    def assign(
        self, number: str, *, service: str, actor: str, agent: str | None = None, comment: str | None = None
    ) -> MailRecord:
        """Give a letter to a service (and optionally one of its agents)."""
        _checked(Assign, registration_number=number, service=service, agent=agent, comment=comment)
        return self._route(number, Action.ASSIGN, service=service, agent=agent, comment=comment, actor=actor)

    def redirect(self, number: str, *, service: str, reason: str, actor: str) -> MailRecord:
        """Send a letter on to the competent service; its agent, if any, is unassigned."""
        _checked(Redirect, registration_number=number, service=service, reason=reason)
        return self._route(number, Action.REDIRECT, service=service, agent=None, comment=reason, actor=actor)

    def _route(
        self, number: str, action: Action, *, service: str, agent: str | None, comment: str | None, actor: str
    ) -> MailRecord:
        """Assign or redirect: hand the letter to ``service`` (and ``agent``) through the desk's state machine."""
        _check(_ACTOR, actor, "actor")
        self.config.check_service(service)
        with self._store.write() as conn:
            row = self._row(conn, number)
            self._transition(conn, row, action, actor=actor, comment=comment, service=service, agent=agent)
            return self._record(conn, row["id"])

    def request_opinion(self, number: str, *, consulted: str, question: str, actor: str) -> MailRecord:
        """Ask ``consulted`` (a service, an official or an administration) for an opinion."""
        _checked(RequestOpinion, registration_number=number, consulted=consulted, question=question)
        _check(_ACTOR, actor, "actor")
        with self._store.write() as conn:
            row = self._row(conn, number)
            at = self.now()
            self._transition(conn, row, Action.REQUEST_OPINION, actor=actor, at=at)
            conn.execute(
                "INSERT INTO opinions (mail_id, consulted, question, requested_by, requested_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (row["id"], consulted, question, actor, format_utc_millis(at)),
            )
            return self._record(conn, row["id"])

    def give_opinion(self, number: str, *, opinion: str, actor: str) -> MailRecord:
        """Record the opinion asked for; the letter returns to its service."""
        _checked(GiveOpinion, registration_number=number, opinion=opinion)
        _check(_ACTOR, actor, "actor")
        with self._store.write() as conn:
            row = self._row(conn, number)
            at = self.now()
            self._transition(conn, row, Action.GIVE_OPINION, actor=actor, at=at)
            conn.execute(
                "UPDATE opinions SET opinion = ?, given_by = ?, given_at = ? WHERE id = "
                "(SELECT max(id) FROM opinions WHERE mail_id = ? AND given_at IS NULL)",
                (opinion, actor, format_utc_millis(at), row["id"]),
            )
            return self._record(conn, row["id"])

    def validate(self, number: str, *, actor: str, comment: str | None = None) -> MailRecord:
        """Approve the processing of a letter: it may then be answered or closed."""
        return self._simple_action(Validate, Action.VALIDATE, number, actor=actor, comment=comment)

    def _simple_action(
        self, model: type[Any], action: Action, number: str, *, actor: str, comment: str | None
    ) -> MailRecord:
        """A desk action that only moves the letter's status (validate, close)."""
        _checked(model, registration_number=number, comment=comment)
        _check(_ACTOR, actor, "actor")
        with self._store.write() as conn:
            row = self._row(conn, number)
            self._transition(conn, row, action, actor=actor, comment=comment)
            return self._record(conn, row["id"])

    def reply(
        self,
        number: str,
        *,
        subject: str,
        actor: str,
        body: str | None = None,
        attachments: Sequence[Attachment] = (),
        mail_type: str | None = None,
        comment: str | None = None,
    ) -> MailRecord:
        """Answer a validated letter: register the reply as outgoing mail, to be delivered to its sender.

        Returns the reply's record. The reply goes to the sender's mail office when the sender is an
        administration, otherwise to the system that deposited the letter (if it came over the bus).
        """
        _checked(
            Reply,
            registration_number=number,
            subject=subject,
            mail_type=mail_type,
            body=body,
            attachments=list(attachments),
            comment=comment,
        )
        _check(_ACTOR, actor, "actor")
        _check_digests(attachments)
        for attachment in attachments:
            self.attachments.put(attachment.content)
        with self._store.write() as conn:
            row = self._row(conn, number)
            at = self.now()
            next_status(row["number"], Direction(row["direction"]), Status(row["status"]), Action.REPLY)
            recipient = _party(row, "sender")
            destination = (
                recipient.identifier if recipient.kind is PartyKind.ADMINISTRATION else row["channel"]
            )
            reply_id, reply_number = self._register_outgoing(
                conn,
                subject=subject,
                recipient=recipient,
                mail_type=mail_type or REPLY_MAIL_TYPE,
                body=body,
                attachments=attachments,
                actor=actor,
                at=at,
                service=row["service"],
                destination=destination,
                in_reply_to=row["id"],
                answers=row["linked_number"] or row["number"],
            )
            self._transition(
                conn, row, Action.REPLY, actor=actor, comment=comment or f"reply {reply_number}", at=at
            )
            return self._record(conn, reply_id)

    def close(self, number: str, *, actor: str, comment: str | None = None) -> MailRecord:
        """File a letter whose processing is over."""
        return self._simple_action(Close, Action.CLOSE, number, actor=actor, comment=comment)

    def send(
        self,
        *,
        subject: str,
        recipient: Party,
        mail_type: str,
        actor: str,
        body: str | None = None,
        attachments: Sequence[Attachment] = (),
        service: str | None = None,
    ) -> MailRecord:
        """Register a new outgoing letter; an administration's letter is queued for delivery to it."""
        _checked(
            Send,
            subject=subject,
            recipient=recipient,
            mail_type=mail_type,
            body=body,
            attachments=list(attachments),
        )
        _check(_ACTOR, actor, "actor")
        check_party(recipient, "recipient")
        if service is not None:
            self.config.check_service(service)
        _check_digests(attachments)
        for attachment in attachments:
            self.attachments.put(attachment.content)
        with self._store.write() as conn:
            mail_id, _ = self._register_outgoing(
                conn,
                subject=subject,
                recipient=recipient,
                mail_type=mail_type,
                body=body,
                attachments=attachments,
                actor=actor,
                at=self.now(),
                service=service,
                destination=recipient.identifier if recipient.kind is PartyKind.ADMINISTRATION else None,
                in_reply_to=None,
                answers=None,
            )
            return self._record(conn, mail_id)

    def show(self, number: str) -> MailRecord:
        """Everything about one letter."""
        with self._store.read() as conn:
            return self._record(conn, self._row(conn, number)["id"])

    def perform(self, operation: DeskOperation, *, actor: str) -> MailRecord:
        """Run a desk operation received as a contract payload (what the bus handlers call)."""
        match operation:
            case Assign():
                return self.assign(
                    operation.registration_number,
                    service=operation.service,
                    agent=operation.agent,
                    comment=operation.comment,
                    actor=actor,
                )
            case Redirect():
                return self.redirect(
                    operation.registration_number,
                    service=operation.service,
                    reason=operation.reason,
                    actor=actor,
                )
            case RequestOpinion():
                return self.request_opinion(
                    operation.registration_number,
                    consulted=operation.consulted,
                    question=operation.question,
                    actor=actor,
                )
            case GiveOpinion():
                return self.give_opinion(
                    operation.registration_number, opinion=operation.opinion, actor=actor
                )
            case Validate():
                return self.validate(operation.registration_number, comment=operation.comment, actor=actor)
            case Reply():
                return self.reply(
                    operation.registration_number,
                    subject=operation.subject,
                    body=operation.body,
                    attachments=operation.attachments,
                    mail_type=operation.mail_type,
                    comment=operation.comment,
                    actor=actor,
                )
            case Close():
                return self.close(operation.registration_number, comment=operation.comment, actor=actor)
            case Send():
                return self.send(
                    subject=operation.subject,
                    recipient=operation.recipient,
                    mail_type=operation.mail_type,
                    body=operation.body,
                    attachments=operation.attachments,
                    actor=actor,
                )
            case Show():
                return self.show(operation.registration_number)
        raise TypeError(f"not a desk operation: {type(operation).__name__}")

    def attachment(self, number: str, sha256: str) -> tuple[AttachmentInfo, bytes]:
        """An attachment of a letter with its content, checked against its digest."""
        with self._store.read() as conn:
            row = self._row(conn, number)
            found = conn.execute(
                "SELECT * FROM attachments WHERE mail_id = ? AND sha256 = ? ORDER BY position LIMIT 1",
                (row["id"], sha256),
            ).fetchone()
        if found is None:
            raise UnknownAttachment(f"{number} has no attachment with SHA-256 {sha256}")
        info = AttachmentInfo(
            name=found["name"], media_type=found["media_type"], sha256=found["sha256"], size=found["size"]
        )
        return info, self.attachments.get(sha256)

    # Registers and deadlines

    def register(self, query: RegisterQuery, *, at: datetime | None = None) -> Register:
        """A page of a register with counts per status and the number of late letters."""
        with self._store.read() as conn:
            return registers.search(conn, query, self.local_date(at))

    def export_csv(self, query: RegisterQuery, out: TextIO, *, at: datetime | None = None) -> int:
        """Every letter matching ``query`` as CSV on ``out``; returns the number of letters."""
        with self._store.read() as conn:
            return registers.export_csv(conn, query, self.local_date(at), out)

    def late(self, *, at: datetime | None = None) -> list[RegisterEntry]:
        """Incoming letters past their deadline and not yet answered or closed."""
        with self._store.read() as conn:
            return registers.late(conn, self.local_date(at))

    def alerts(self, *, at: datetime | None = None) -> list[Alert]:
        """Open incoming letters within ``alert_days`` of their deadline, due today, or overdue."""
        today = self.local_date(at)
        with self._store.read() as conn:
            rows = registers.open_due_by(conn, today + timedelta(days=self.config.alert_days))
        alerts = []
        for row in rows:
            due = date.fromisoformat(row["deadline"])
            level = alert_level(due, today, self.config.alert_days)
            if level is not None:
                alerts.append(
                    Alert(
                        registration_number=row["number"],
                        level=level,
                        deadline=due,
                        days_left=(due - today).days,
                        subject=row["subject"],
                        service=row["service"],
                        agent=row["agent"],
                    )
                )
        return alerts

    def alert_list(self, query: AlertQuery | None = None, *, at: datetime | None = None) -> Alerts:
        """``alerts`` as the contract's ``Alerts``, limited to ``query``'s level and service."""
        moment = at or self.now()
        query = query or AlertQuery()
        return Alerts(
            day=self.local_date(moment),
            alerts=[
                AlertEntry(
                    registration_number=alert.registration_number,
                    level=alert.level,
                    deadline=alert.deadline,
                    days_left=alert.days_left,
                    subject=alert.subject,
                    service=alert.service,
                    agent=alert.agent,
                )
                for alert in self.alerts(at=moment)
                if query.level in (None, alert.level) and query.service in (None, alert.service)
            ],
        )

    # Outbox, delivery and news from other offices

    def pending(self) -> list[OutboxMessage]:
        """Messages not yet handed over, oldest first (a letter's payload is built only to send it)."""
        with self._store.read() as conn:
            return [self._message(conn, row, build_letter=False) for row in outbox.pending(conn)]

    def letter(self, number: str) -> Deposit:
        """The deposit that delivers outgoing letter ``number``, its attachments read back and checked."""
        with self._store.read() as conn:
            row = self._row(conn, number)
            if row["direction"] != Direction.OUTGOING.value:
                raise NotDeliverable(f"{number} is incoming mail: only outgoing letters are delivered")
            return self._letter(conn, row)

    def drain(self, sink: Sink, *, to: Callable[[str], bool] | None = None) -> DrainReport:
        """Hand pending messages to ``sink`` in order, marking each sent once ``sink`` returns.

        When a message fails (the sink raises, or a letter's acknowledgement does not fit), it stays
        pending with its error, and later messages to the same destination are held back so they keep
        their order. ``to`` limits the drain to the destinations it accepts.
        """
        sent: list[int] = []
        failed: list[tuple[int, str]] = []
        held: list[int] = []
        blocked: set[str] = set()
        with self._store.read() as conn:
            rows = outbox.pending(conn)
        for row in rows:
            destination = row["destination"]
            if to is not None and not to(destination):
                continue
            if destination in blocked:
                held.append(row["id"])
                continue
            try:
                with self._store.read() as conn:
                    message = self._message(conn, row)
                result = sink(message)
                with self._store.write() as conn:
                    if message.kind is OutboxKind.LETTER:
                        if not isinstance(result, Acknowledgement):
                            raise NotDeliverable(
                                f"{message.registration_number}: no acknowledgement came back"
                            )
                        self._record_delivery(conn, self._row(conn, message.registration_number), result)
                    outbox.mark_sent(conn, row["id"], self.now())
                sent.append(row["id"])
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                with self._store.write() as conn:
                    outbox.mark_failed(conn, row["id"], reason, self.now())
                failed.append((row["id"], reason))
                blocked.add(destination)
        return DrainReport(sent=tuple(sent), failed=tuple(failed), held=tuple(held))

    def record_delivery(self, number: str, acknowledgement: Acknowledgement) -> MailRecord:
        """Record the recipient's acknowledgement of outgoing letter ``number``: the two are linked."""
        with self._store.write() as conn:
            row = self._row(conn, number)
            self._record_delivery(conn, row, acknowledgement)
            return self._record(conn, row["id"])

    def record_status_change(self, change: StatusChange, *, sender: str) -> bool:
        """Note the status another office (``sender``) reports for the letter we delivered to it.

        Returns False for a step already known (or older than the one known).
        """
        with self._store.write() as conn:
            rows = conn.execute(
                "SELECT * FROM mails WHERE direction = 'outgoing' AND linked_number = ?",
                (change.registration_number,),
            ).fetchall()
            row = next((r for r in rows if same_administration(r["channel"] or "", sender)), None)
            if row is None:
                raise UnknownRegistration(change.registration_number)
            if row["linked_sequence"] is not None and change.sequence <= row["linked_sequence"]:
                return False
            conn.execute(
                "UPDATE mails SET linked_status = ?, linked_sequence = ? WHERE id = ?",
                (change.new_status.value, change.sequence, row["id"]),
            )
            return True

    # Internals

    def _row(self, conn: sqlite3.Connection, number: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM mails WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise UnknownRegistration(number)
        return row

    def _insert(
        self,
        conn: sqlite3.Connection,
        *,
        direction: Direction,
        year: int,
        counter: int,
        number: str,
        subject: str,
        body: str | None,
        sender: Party,
        recipient: Party,
        mail_type: str,
        at: datetime,
        deadline: date | None,
        service: str | None,
        digest: str,
        channel: str | None,
        linked_number: str | None,
        in_reply_to: int | None,
        answers: str | None,
        acknowledgement: bytes | None,
        attachments: Sequence[Attachment],
    ) -> int:
        cursor = conn.execute(
            "INSERT INTO mails (direction, year, counter, number, status, subject, body, sender_kind, "
            "sender_id, sender_name, recipient_kind, recipient_id, recipient_name, mail_type, "
            "registered_at, registered_on, deadline, service, digest, channel, linked_number, "
            "in_reply_to, answers, acknowledgement) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                direction.value,
                year,
                counter,
                number,
                Status.REGISTERED.value,
                subject,
                body,
                sender.kind.value,
                sender.identifier,
                sender.name,
                recipient.kind.value,
                recipient.identifier,
                recipient.name,
                mail_type,
                format_utc_millis(at),
                self.local_date(at).isoformat(),
                deadline.isoformat() if deadline else None,
                service,
                digest,
                channel,
                linked_number,
                in_reply_to,
                answers,
                acknowledgement,
            ),
        )
        mail_id = int(cursor.lastrowid or 0)
        conn.executemany(
            "INSERT INTO attachments (mail_id, position, name, media_type, sha256, size) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (mail_id, position, a.name, a.media_type, a.sha256, len(a.content))
                for position, a in enumerate(attachments)
            ],
        )
        return mail_id

    def _register_outgoing(
        self,
        conn: sqlite3.Connection,
        *,
        subject: str,
        recipient: Party,
        mail_type: str,
        body: str | None,
        attachments: Sequence[Attachment],
        actor: str,
        at: datetime,
        service: str | None,
        destination: str | None,
        in_reply_to: int | None,
        answers: str | None,
    ) -> tuple[int, str]:
        registered_on = self.local_date(at)
        counter = next_counter(conn, Direction.OUTGOING.register, registered_on.year)
        number = self.config.numbers.render(
            self.config.code, registered_on.year, Direction.OUTGOING.register, counter
        )
        sender = Party(kind=PartyKind.ADMINISTRATION, identifier=self.participant, name=self.config.name)
        letter = Deposit(
            subject=subject,
            sender=sender,
            recipient=recipient,
            mail_type=mail_type,
            sender_registration=number,
            in_reply_to=answers,
            body=body,
            attachments=list(attachments),
        )
        mail_id = self._insert(
            conn,
            direction=Direction.OUTGOING,
            year=registered_on.year,
            counter=counter,
            number=number,
            subject=subject,
            body=body,
            sender=sender,
            recipient=recipient,
            mail_type=mail_type,
            at=at,
            deadline=None,
            service=service,
            digest=deposit_digest(letter),
            channel=destination,
            linked_number=None,
            in_reply_to=in_reply_to,
            answers=answers,
            acknowledgement=None,
            attachments=attachments,
        )
        self._history(
            conn,
            mail_id,
            Action.REGISTER,
            None,
            Status.REGISTERED,
            actor=actor,
            at=at,
            service=service,
            agent=None,
        )
        if destination is not None:
            outbox.enqueue(conn, OutboxKind.LETTER, destination=destination, mail_id=mail_id, at=at)
        return mail_id, number

    def _history(
        self,
        conn: sqlite3.Connection,
        mail_id: int,
        action: Action,
        old: Status | None,
        new: Status,
        *,
        actor: str,
        at: datetime,
        service: str | None,
        agent: str | None,
        comment: str | None = None,
    ) -> int:
        sequence = int(
            conn.execute(
                "SELECT coalesce(max(sequence), 0) + 1 FROM history WHERE mail_id = ?", (mail_id,)
            ).fetchone()[0]
        )
        conn.execute(
            "INSERT INTO history (mail_id, sequence, action, old_status, new_status, actor, at, service, "
            "agent, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                mail_id,
                sequence,
                action.value,
                old.value if old else None,
                new.value,
                actor,
                format_utc_millis(at),
                service,
                agent,
                comment,
            ),
        )
        return sequence

    def _transition(
        self,
        conn: sqlite3.Connection,
        row: sqlite3.Row,
        action: Action,
        *,
        actor: str,
        comment: str | None = None,
        at: datetime | None = None,
        service: object = _UNCHANGED,
        agent: object = _UNCHANGED,
    ) -> Status:
        """Move a letter by ``action`` (or raise ``InvalidTransition``), record it, and tell its depositor."""
        direction = Direction(row["direction"])
        old = Status(row["status"])
        new = next_status(row["number"], direction, old, action)
        at = at or self.now()
        new_service = row["service"] if service is _UNCHANGED else service
        new_agent = row["agent"] if agent is _UNCHANGED else agent
        conn.execute(
            "UPDATE mails SET status = ?, service = ?, agent = ? WHERE id = ?",
            (new.value, new_service, new_agent, row["id"]),
        )
        sequence = self._history(
            conn,
            row["id"],
            action,
            old,
            new,
            actor=actor,
            at=at,
            service=new_service,  # type: ignore[arg-type]
            agent=new_agent,  # type: ignore[arg-type]
            comment=comment,
        )
        if direction is Direction.INCOMING and row["channel"]:
            change = StatusChange(
                registration_number=row["number"],
                sequence=sequence,
                action=action,
                old_status=old,
                new_status=new,
                actor=actor,
                time=at,
                service=new_service,
                comment=comment,
            )
            outbox.enqueue(
                conn,
                OutboxKind.STATUS_CHANGE,
                destination=row["channel"],
                mail_id=row["id"],
                at=at,
                payload=change,
            )
        return new

    def _record_delivery(self, conn: sqlite3.Connection, row: sqlite3.Row, ack: Acknowledgement) -> None:
        number = row["number"]
        if row["direction"] != Direction.OUTGOING.value:
            raise NotDeliverable(f"{number} is incoming mail: only outgoing letters are delivered")
        if ack.deposit_digest != row["digest"]:
            raise NotDeliverable(
                f"{number}: the acknowledgement is for another deposit (digest {ack.deposit_digest})"
            )
        if row["channel"] is None or not same_administration(ack.office, row["channel"]):
            raise NotDeliverable(f"{number} was sent to {row['channel']}, not acknowledged by {ack.office}")
        if row["status"] == Status.DELIVERED.value:
            if row["linked_number"] == ack.registration_number:
                return
            raise NotDeliverable(
                f"{number} was already registered by the recipient as {row['linked_number']}"
            )
        conn.execute(
            "UPDATE mails SET linked_number = ?, acknowledgement = ? WHERE id = ?",
            (ack.registration_number, ack.to_xml(), row["id"]),
        )
        self._transition(
            conn,
            row,
            Action.DELIVER,
            actor=ack.office,
            comment=f"registered as {ack.registration_number} on {format_utc_millis(ack.received_at)}",
        )

    def _message(
        self, conn: sqlite3.Connection, row: sqlite3.Row, *, build_letter: bool = True
    ) -> OutboxMessage:
        kind = OutboxKind(row["kind"])
        payload: StatusChange | Deposit | None = None
        if kind is OutboxKind.STATUS_CHANGE:
            payload = StatusChange.from_xml(row["payload"])
        elif build_letter:
            payload = self._letter(conn, self._row(conn, row["number"]))
        return OutboxMessage(
            id=row["id"],
            kind=kind,
            destination=row["destination"],
            registration_number=row["number"],
            payload=payload,
            created_at=row["created_at"],
            attempts=row["attempts"],
            last_error=row["last_error"],
        )

    def _letter(self, conn: sqlite3.Connection, row: sqlite3.Row) -> Deposit:
        """The deposit that delivers outgoing letter ``row``, attachments read back and checked."""
        attachments = [
            Attachment(
                name=a["name"],
                media_type=a["media_type"],
                sha256=a["sha256"],
                content=self.attachments.get(a["sha256"]),
            )
            for a in conn.execute(
                "SELECT * FROM attachments WHERE mail_id = ? ORDER BY position", (row["id"],)
            )
        ]
        letter = Deposit(
            subject=row["subject"],
            sender=_party(row, "sender"),
            recipient=_party(row, "recipient"),
            mail_type=row["mail_type"],
            sender_registration=row["number"],
            in_reply_to=row["answers"],
            body=row["body"],
            attachments=attachments,
        )
        if deposit_digest(letter) != row["digest"]:
            raise NotDeliverable(
                f"{row['number']}: the stored letter no longer matches its registration digest"
            )
        return letter

    def _record(self, conn: sqlite3.Connection, mail_id: int) -> MailRecord:
        row = conn.execute(
            "SELECT m.*, r.number AS in_reply_to_number FROM mails m "
            "LEFT JOIN mails r ON r.id = m.in_reply_to WHERE m.id = ?",
            (mail_id,),
        ).fetchone()
        attachments = [
            AttachmentInfo(name=a["name"], media_type=a["media_type"], sha256=a["sha256"], size=a["size"])
            for a in conn.execute("SELECT * FROM attachments WHERE mail_id = ? ORDER BY position", (mail_id,))
        ]
        opinions = [
            Opinion(
                consulted=o["consulted"],
                question=o["question"],
                requested_by=o["requested_by"],
                requested_at=datetime.fromisoformat(o["requested_at"]),
                opinion=o["opinion"],
                given_by=o["given_by"],
                given_at=_time(o["given_at"]),
            )
            for o in conn.execute("SELECT * FROM opinions WHERE mail_id = ? ORDER BY id", (mail_id,))
        ]
        history = [
            HistoryEntry(
                sequence=h["sequence"],
                action=Action(h["action"]),
                old_status=Status(h["old_status"]) if h["old_status"] else None,
                new_status=Status(h["new_status"]),
                actor=h["actor"],
                time=datetime.fromisoformat(h["at"]),
                service=h["service"],
                agent=h["agent"],
                comment=h["comment"],
            )
            for h in conn.execute("SELECT * FROM history WHERE mail_id = ? ORDER BY sequence", (mail_id,))
        ]
        replies = [
            r["number"]
            for r in conn.execute("SELECT number FROM mails WHERE in_reply_to = ? ORDER BY id", (mail_id,))
        ]
        return MailRecord(
            registration_number=row["number"],
            direction=Direction(row["direction"]),
            status=Status(row["status"]),
            subject=row["subject"],
            sender=_party(row, "sender"),
            recipient=_party(row, "recipient"),
            mail_type=row["mail_type"],
            registered_at=datetime.fromisoformat(row["registered_at"]),
            deadline=date.fromisoformat(row["deadline"]) if row["deadline"] else None,
            service=row["service"],
            agent=row["agent"],
            deposit_digest=row["digest"],
            linked_registration=row["linked_number"],
            linked_status=Status(row["linked_status"]) if row["linked_status"] else None,
            in_reply_to=row["in_reply_to_number"],
            replies=replies,
            body=row["body"],
            attachments=attachments,
            opinions=opinions,
            history=history,
        )


_ACTOR: pydantic.TypeAdapter[str] = pydantic.TypeAdapter(Actor)
_PARTICIPANT: pydantic.TypeAdapter[str] = pydantic.TypeAdapter(ParticipantId)
_P = TypeVar("_P", bound=MailPayload)


def _problems(error: pydantic.ValidationError, prefix: str = "") -> str:
    return "; ".join(
        f"{'.'.join([prefix, *map(str, e['loc'])]).strip('.') or 'input'}: {e['msg']}" for e in error.errors()
    )


def _checked(model: type[_P], **fields: object) -> _P:
    """The request as its contract model, or ``InvalidRequest`` saying which field does not fit."""
    try:
        return model(**fields)
    except pydantic.ValidationError as error:
        raise InvalidRequest(_problems(error)) from None


def _check(adapter: pydantic.TypeAdapter[str], value: str, name: str) -> None:
    try:
        adapter.validate_python(value)
    except pydantic.ValidationError as error:
        raise InvalidRequest(_problems(error, name)) from None


def _check_digests(attachments: Sequence[Attachment]) -> None:
    for attachment in attachments:
        actual = hashlib.sha256(attachment.content).hexdigest()
        if actual != attachment.sha256:
            raise AttachmentDigestMismatch(
                f"attachment {attachment.name!r} declares SHA-256 {attachment.sha256} but its content "
                f"hashes to {actual}"
            )
