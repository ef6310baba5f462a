"""Every statement on a letter: its row, attachments, history, opinions and the registration counters.

Rows come out as ``MailRow`` values and contract models, never as SQLite rows: the office's parts do not
see SQL. The history table is append-only (triggers refuse changes); a letter's history sequence is
1, 2, 3... without gaps.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from teleservices.mail_office.errors import UnknownRegistration
from teleservices.mail_office.models import (
    Acknowledgement,
    AttachmentInfo,
    HistoryEntry,
    MailRecord,
    Opinion,
    Party,
    format_utc_millis,
)
from teleservices.mail_office.store.rows import MailRow, NewMail, Step, date_or_none, party, time_or_none
from teleservices.mail_office.workflow import Action, Direction, Status


class Mails:
    """The ``mails``, ``attachments``, ``history``, ``opinions`` and ``counters`` tables, in one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, number: str) -> MailRow:
        """The letter registered under ``number``, or ``UnknownRegistration``."""
        row = self._conn.execute("SELECT * FROM mails WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise UnknownRegistration(number)
        return MailRow.of(row)

    def acknowledgement(self, sender: Party, digest: str) -> Acknowledgement | None:
        """The acknowledgement issued for ``sender``'s deposit with this digest, if it was registered."""
        row = self._conn.execute(
            "SELECT acknowledgement FROM mails WHERE direction = 'incoming' "
            "AND sender_kind = ? AND sender_id = ? AND digest = ?",
            (sender.kind.value, sender.identifier, digest),
        ).fetchone()
        return None if row is None else Acknowledgement.from_xml(row["acknowledgement"])

    def outgoing(self, number: str) -> MailRow | None:
        """The outgoing letter registered under ``number``, if any."""
        row = self._conn.execute(
            "SELECT * FROM mails WHERE direction = 'outgoing' AND number = ?", (number,)
        ).fetchone()
        return None if row is None else MailRow.of(row)

    def delivered_as(self, linked_number: str) -> list[MailRow]:
        """Outgoing letters the recipient registered as ``linked_number`` (one per recipient office)."""
        rows = self._conn.execute(
            "SELECT * FROM mails WHERE direction = 'outgoing' AND linked_number = ?", (linked_number,)
        ).fetchall()
        return [MailRow.of(row) for row in rows]

    def next_counter(self, register: str, year: int) -> int:
        """Take the next counter of ``register`` for ``year``: rolled back with a failed registration."""
        if not self._conn.in_transaction:
            raise RuntimeError("a registration counter is taken inside the registering transaction")
        row = self._conn.execute(
            "INSERT INTO counters (register, year, last) VALUES (?, ?, 1) "
            "ON CONFLICT (register, year) DO UPDATE SET last = counters.last + 1 RETURNING last",
            (register, year),
        ).fetchone()
        return int(row[0])

    def insert(self, mail: NewMail) -> int:
        """Register ``mail`` with its attachments; returns its row id."""
        cursor = self._conn.execute(
            "INSERT INTO mails (direction, year, counter, number, status, subject, body, sender_kind, "
            "sender_id, sender_name, recipient_kind, recipient_id, recipient_name, mail_type, "
            "registered_at, registered_on, deadline, service, digest, channel, linked_number, "
            "in_reply_to, answers, acknowledgement) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                mail.direction.value,
                mail.year,
                mail.counter,
                mail.number,
                Status.REGISTERED.value,
                mail.subject,
                mail.body,
                mail.sender.kind.value,
                mail.sender.identifier,
                mail.sender.name,
                mail.recipient.kind.value,
                mail.recipient.identifier,
                mail.recipient.name,
                mail.mail_type,
                format_utc_millis(mail.registered_at),
                mail.registered_on.isoformat(),
                mail.deadline.isoformat() if mail.deadline else None,
                mail.service,
                mail.digest,
                mail.channel,
                mail.linked_number,
                mail.in_reply_to,
                mail.answers,
                mail.acknowledgement.to_xml() if mail.acknowledgement else None,
            ),
        )
        mail_id = int(cursor.fetchone()[0])
        self._conn.executemany(
            "INSERT INTO attachments (mail_id, position, name, media_type, sha256, size) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (mail_id, position, a.name, a.media_type, a.sha256, len(a.content))
                for position, a in enumerate(mail.attachments)
            ],
        )
        return mail_id

    def append_history(self, mail_id: int, step: Step) -> int:
        """Append ``step`` to the letter's history; returns its sequence number."""
        sequence = int(
            self._conn.execute(
                "SELECT coalesce(max(sequence), 0) + 1 FROM history WHERE mail_id = ?", (mail_id,)
            ).fetchone()[0]
        )
        self._conn.execute(
            "INSERT INTO history (mail_id, sequence, action, old_status, new_status, actor, at, service, "
            "agent, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                mail_id,
                sequence,
                step.action.value,
                step.old.value if step.old else None,
                step.new.value,
                step.actor,
                format_utc_millis(step.at),
                step.service,
                step.agent,
                step.comment,
            ),
        )
        return sequence

    def move(self, mail_id: int, status: Status, *, service: str | None, agent: str | None) -> None:
        """Set the letter's status and who handles it."""
        self._conn.execute(
            "UPDATE mails SET status = ?, service = ?, agent = ? WHERE id = ?",
            (status.value, service, agent, mail_id),
        )

    def link(self, mail_id: int, acknowledgement: Acknowledgement) -> None:
        """Link an outgoing letter to the recipient's registration of it."""
        self._conn.execute(
            "UPDATE mails SET linked_number = ?, acknowledgement = ? WHERE id = ?",
            (acknowledgement.registration_number, acknowledgement.to_xml(), mail_id),
        )

    def note_linked_status(self, mail_id: int, status: Status, sequence: int) -> None:
        """Keep the latest step the recipient reported for an outgoing letter."""
        self._conn.execute(
            "UPDATE mails SET linked_status = ?, linked_sequence = ? WHERE id = ?",
            (status.value, sequence, mail_id),
        )

    def ask_opinion(self, mail_id: int, *, consulted: str, question: str, actor: str, at: datetime) -> None:
        self._conn.execute(
            "INSERT INTO opinions (mail_id, consulted, question, requested_by, requested_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (mail_id, consulted, question, actor, format_utc_millis(at)),
        )

    def give_opinion(self, mail_id: int, *, opinion: str, actor: str, at: datetime) -> None:
        """Answer the latest opinion asked for and not given yet."""
        self._conn.execute(
            "UPDATE opinions SET opinion = ?, given_by = ?, given_at = ? WHERE id = "
            "(SELECT max(id) FROM opinions WHERE mail_id = ? AND given_at IS NULL)",
            (opinion, actor, format_utc_millis(at), mail_id),
        )

    def attachments(self, mail_id: int) -> list[AttachmentInfo]:
        """The letter's attachments, in order."""
        return [
            _attachment(a)
            for a in self._conn.execute(
                "SELECT * FROM attachments WHERE mail_id = ? ORDER BY position", (mail_id,)
            )
        ]

    def attachment(self, mail_id: int, sha256: str) -> AttachmentInfo | None:
        """The letter's first attachment with this digest."""
        row = self._conn.execute(
            "SELECT * FROM attachments WHERE mail_id = ? AND sha256 = ? ORDER BY position LIMIT 1",
            (mail_id, sha256),
        ).fetchone()
        return None if row is None else _attachment(row)

    def record(self, mail_id: int) -> MailRecord:
        """Everything about one letter: row, attachments, opinions, history and replies."""
        row = self._conn.execute(
            "SELECT m.*, r.number AS in_reply_to_number FROM mails m "
            "LEFT JOIN mails r ON r.id = m.in_reply_to WHERE m.id = ?",
            (mail_id,),
        ).fetchone()
        opinions = [
            Opinion(
                consulted=o["consulted"],
                question=o["question"],
                requested_by=o["requested_by"],
                requested_at=datetime.fromisoformat(o["requested_at"]),
                opinion=o["opinion"],
                given_by=o["given_by"],
                given_at=time_or_none(o["given_at"]),
            )
            for o in self._conn.execute("SELECT * FROM opinions WHERE mail_id = ? ORDER BY id", (mail_id,))
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
            for h in self._conn.execute(
                "SELECT * FROM history WHERE mail_id = ? ORDER BY sequence", (mail_id,)
            )
        ]
        replies = [
            r["number"]
            for r in self._conn.execute(
                "SELECT number FROM mails WHERE in_reply_to = ? ORDER BY id", (mail_id,)
            )
        ]
        return MailRecord(
            registration_number=row["number"],
            direction=Direction(row["direction"]),
            status=Status(row["status"]),
            subject=row["subject"],
            sender=party(row, "sender"),
            recipient=party(row, "recipient"),
            mail_type=row["mail_type"],
            registered_at=datetime.fromisoformat(row["registered_at"]),
            deadline=date_or_none(row["deadline"]),
            service=row["service"],
            agent=row["agent"],
            deposit_digest=row["digest"],
            linked_registration=row["linked_number"],
            linked_status=Status(row["linked_status"]) if row["linked_status"] else None,
            in_reply_to=row["in_reply_to_number"],
            replies=replies,
            body=row["body"],
            attachments=self.attachments(mail_id),
            opinions=opinions,
            history=history,
        )


def _attachment(row: sqlite3.Row) -> AttachmentInfo:
    return AttachmentInfo(
        name=row["name"], media_type=row["media_type"], sha256=row["sha256"], size=row["size"]
    )
