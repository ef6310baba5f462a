"""The depositing system's side: what offices send back about the letters it deposited for its users.

A system that deposits letters on behalf of citizens or companies (a citizen portal, a company's
e-government account) provides two of the office's contracts, and ``DepositorSystem`` serves both on the
system's own ``Provider``:

- ``mail.status``: each step of a letter's processing. Offices deliver steps at least once, in order;
  the store keeps each (office, registration number, sequence) once, so a step delivered twice answers
  ``applied: false`` and reaches ``on_change`` once (again only if ``on_change`` raised);
- ``mail.deposit``: the office's reply, addressed to the user; the system keeps it in the user's mailbox
  and acknowledges it (a redelivered reply gets the original acknowledgement)::

    portal = Provider("MA/GOV/PORTAIL/guichet")
    depositor = DepositorSystem(portal, on_change=lambda office, change: notify_citizen(change))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from sdk import App, Context, Environment, Node
from sdk.store import SchemaHistory, Store, scalar
from teleservices.mail_office.contract import DEPOSIT, STATUS
from teleservices.mail_office.errors import InvalidSender
from teleservices.mail_office.models import (
    Acknowledgement,
    Deposit,
    PartyKind,
    StatusChange,
    StatusReceipt,
    deposit_digest,
    format_utc_millis,
)
from teleservices.mail_office.parties import same_administration

DEPOSITOR_FILE = "mail-depositor.sqlite3"
MAILBOX_SERVICE = "mailbox"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS steps (
    office TEXT NOT NULL,
    number TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    change BLOB NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (office, number, sequence)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS letters (
    id INTEGER PRIMARY KEY,
    office TEXT NOT NULL,
    digest TEXT NOT NULL,
    recipient TEXT NOT NULL,
    letter BLOB NOT NULL,
    acknowledgement BLOB NOT NULL,
    UNIQUE (office, digest)
);
"""

ChangeHandler = Callable[[str, StatusChange], None]
"""Called with the reporting office and each step, the first time it arrives."""

LetterHandler = Callable[[str, Deposit], None]
"""Called with the sending office and each letter, the first time it arrives."""

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _now() -> datetime:
    return datetime.now(UTC)


class DepositorStore(Store):
    """Steps and letters received from offices, in ``mail-depositor.sqlite3`` (on the SDK's store base)."""

    FILE_NAME = DEPOSITOR_FILE
    MIGRATIONS = SchemaHistory("mail depositor", MIGRATIONS_DIR / "mail_depositor")
    SCHEMA_VERSION = "0001"
    SCHEMA = _SCHEMA

    def record(
        self, office: str, change: StatusChange, *, on_change: ChangeHandler | None = None
    ) -> StatusReceipt:
        """Keep ``change`` unless known; ``applied`` when it is newer than every step known for the letter.

        ``on_change`` runs for an applied step before it is kept: when it raises, nothing is kept, the
        office gets a fault and sends the step again.
        """
        with self.transaction() as db:
            highest = scalar(
                db,
                "SELECT coalesce(max(sequence), 0) FROM steps WHERE office = ? AND number = ?",
                (office, change.registration_number),
            )
            inserted = db.execute(
                "INSERT INTO steps (office, number, sequence, change, received_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    office,
                    change.registration_number,
                    change.sequence,
                    change.to_xml(),
                    format_utc_millis(_now()),
                ),
            ).rowcount
            applied = bool(inserted) and change.sequence > highest
            if applied and on_change is not None:
                on_change(office, change)
        return StatusReceipt(
            registration_number=change.registration_number, sequence=change.sequence, applied=applied
        )

    def receive(
        self, office: str, letter: Deposit, *, participant: str, on_letter: LetterHandler | None = None
    ) -> Acknowledgement:
        """Keep a letter ``office`` sent to one of this system's users; acknowledge it (once per letter).

        ``participant`` is this system, which registers the letter under ``MEMBER/R/<n>``.
        """
        digest = deposit_digest(letter)
        with self.transaction() as db:
            row = db.execute(
                "SELECT acknowledgement FROM letters WHERE office = ? AND digest = ?", (office, digest)
            ).fetchone()
            if row is not None:
                return Acknowledgement.from_xml(row[0])
            counter = scalar(db, "SELECT coalesce(max(id), 0) + 1 FROM letters")
            now = _now()
            acknowledgement = Acknowledgement(
                registration_number=f"{participant.split('/')[2]}/R/{counter}",
                office=participant,
                received_at=now,
                service_in_charge=MAILBOX_SERVICE,
                deadline=now.date(),
                deposit_digest=digest,
                linked_registration=letter.sender_registration,
            )
            db.execute(
                "INSERT INTO letters (id, office, digest, recipient, letter, acknowledgement) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    counter,
                    office,
                    digest,
                    letter.recipient.identifier,
                    letter.to_xml(),
                    acknowledgement.to_xml(),
                ),
            )
            if on_letter is not None:
                on_letter(office, letter)
        return acknowledgement

    def steps(self, office: str, number: str) -> list[StatusChange]:
        """The steps of one letter received from ``office``, in sequence order."""
        with self.reading() as db:
            rows = db.execute(
                "SELECT change FROM steps WHERE office = ? AND number = ? ORDER BY sequence", (office, number)
            ).fetchall()
        return [StatusChange.from_xml(row[0]) for row in rows]

    def latest(self, office: str, number: str) -> StatusChange | None:
        """The newest step of one letter, or None when nothing arrived yet."""
        steps = self.steps(office, number)
        return steps[-1] if steps else None

    def letters(self, recipient: str) -> list[Deposit]:
        """The letters received for one user (CIN, ICE), oldest first."""
        with self.reading() as db:
            rows = db.execute(
                "SELECT letter FROM letters WHERE recipient = ? ORDER BY id", (recipient,)
            ).fetchall()
        return [Deposit.from_xml(row[0]) for row in rows]


class DepositorSystem:
    """Serves ``mail.status`` and ``mail.deposit`` on ``app``, in ``<participant directory>/mail-depositor.sqlite3``."""

    def __init__(
        self, app: App, *, on_change: ChangeHandler | None = None, on_letter: LetterHandler | None = None
    ) -> None:
        self.on_change = on_change
        self.on_letter = on_letter
        self.stores = app.resource(self._open)
        app.refuse(InvalidSender)
        app.implement(STATUS)(self.status)
        app.implement(DEPOSIT)(self.deposit)

    @staticmethod
    def _open(env: Environment) -> Iterator[DepositorStore]:
        with DepositorStore.open(env.storage) as store:
            yield store

    def store(self, node: Node) -> DepositorStore:
        """The store of the app started on ``node``."""
        return node.resources.get(self.stores)

    def status(self, change: StatusChange, ctx: Context) -> StatusReceipt:
        return ctx.use(self.stores).record(str(ctx.client), change, on_change=self.on_change)

    def deposit(self, letter: Deposit, ctx: Context) -> Acknowledgement:
        office = str(ctx.client)
        if letter.sender.kind is not PartyKind.ADMINISTRATION or not same_administration(
            letter.sender.identifier, office
        ):
            raise InvalidSender(f"{office} cannot send a letter in the name of {letter.sender.identifier}")
        return ctx.use(self.stores).receive(
            office, letter, participant=str(ctx.participant), on_letter=self.on_letter
        )


__all__ = ["ChangeHandler", "DepositorStore", "DepositorSystem", "LetterHandler"]
