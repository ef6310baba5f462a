"""``MailOffice``: the service layer of one administration's mail office, a facade over its parts.

Every entry point of the office (bus handlers, the CLI, tests) calls these methods; they validate, run
one SQLite transaction each, and answer with contract models. The work is done by the parts, which share
one ``Ledger`` (store, configuration, clock, attachments):

- ``Intake`` (``intake``): deposits registered in register ``A``, acknowledged;
- ``MailDesk`` (``desk``): the desk's actions on incoming letters (``workflow``'s state machine);
- ``Outgoing`` (``outgoing``): letters sent and replies in register ``D``, their delivery and news;
- ``Handover`` (``handover``): the outbox handed to a sink;
- ``Registers`` (``registers``): registers, late letters, deadline alerts, CSV export;
- ``OfficeStore`` (``store``): the database on the SDK's store base, the only place that holds SQL.

An office lives in one directory::

    DIR/mail-office.json          its configuration (``OfficeConfig``)
    DIR/mail-office.sqlite3       registers, history, opinions, counters, outbox
    DIR/attachments/sha256/ab/cdef...   attachment files, by content

Actors are whoever acts: an official's id (the envelope's ``userId``), a service, or a participant id.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

from sdk.store import Locator
from teleservices.mail_office.attachments import AttachmentStore
from teleservices.mail_office.clock import Clock, system_clock
from teleservices.mail_office.config import CONFIG_FILE, OfficeConfig
from teleservices.mail_office.consultation import Consultations
from teleservices.mail_office.counter import Counter
from teleservices.mail_office.desk import MailDesk
from teleservices.mail_office.errors import ConfigurationError
from teleservices.mail_office.handover import Handover
from teleservices.mail_office.intake import Intake
from teleservices.mail_office.ledger import Ledger
from teleservices.mail_office.models import AnswerConsultation, DeskOperation, MailRecord
from teleservices.mail_office.outgoing import Outgoing
from teleservices.mail_office.registers import Registers
from teleservices.mail_office.store import OfficeStore

ATTACHMENTS_DIR = "attachments"


class MailOffice:
    """One administration's bureau d'ordre and mail desk: its parts' public methods under one name."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        config: OfficeConfig | None = None,
        clock: Clock = system_clock,
        storage: Locator | None = None,
    ) -> None:
        """Open the office in ``directory``, with its saved configuration unless ``config`` is given;
        its database where ``storage`` says (PostgreSQL: shared by every host of the office), else in
        ``directory``."""
        self.directory = Path(directory)
        self.config = config if config is not None else OfficeConfig.load(self.directory)
        store = OfficeStore.open(storage if storage is not None else self.directory)
        self.attachments = AttachmentStore(self.directory / ATTACHMENTS_DIR)
        self.ledger = Ledger(store, self.config, self.attachments, clock)
        self.intake = Intake(self.ledger)
        self.counter = Counter(self.ledger, self.intake)
        self.consultations = Consultations(self.ledger, self.intake)
        self.outgoing = Outgoing(self.ledger)
        self.desk = MailDesk(self.ledger, self.outgoing)
        self.handover = Handover(self.ledger, self.outgoing)
        self.registers = Registers(self.ledger)
        # The public operations, each the part's own method.
        self.deposit = self.intake.deposit
        self.register_counter = self.counter.register_counter
        self.receive_consultation = self.consultations.receive
        self.answer_consultation = self.consultations.answer
        self.record_opinion = self.consultations.record_opinion
        self.assign = self.desk.assign
        self.redirect = self.desk.redirect
        self.request_opinion = self.desk.request_opinion
        self.give_opinion = self.desk.give_opinion
        self.validate = self.desk.validate
        self.reply = self.desk.reply
        self.close = self.desk.close
        self.show = self.desk.show
        self.attachment = self.desk.attachment
        self.send = self.outgoing.send
        self.letter = self.outgoing.letter
        self.record_delivery = self.outgoing.record_delivery
        self.record_status_change = self.outgoing.record_status_change
        self.pending = self.handover.pending
        self.drain = self.handover.drain
        self.register = self.registers.register
        self.export_csv = self.registers.export_csv
        self.late = self.registers.late
        self.alerts = self.registers.alerts
        self.alert_list = self.registers.alert_list

    def perform(self, operation: DeskOperation, *, actor: str) -> MailRecord:
        """Run a desk operation received as a contract payload (what the bus handlers call)."""
        if isinstance(operation, AnswerConsultation):
            return self.consultations.answer(
                operation.registration_number, opinion=operation.opinion, actor=actor
            )
        return self.desk.perform(operation, actor=actor)

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        config: OfficeConfig,
        *,
        clock: Clock = system_clock,
        storage: Locator | None = None,
    ) -> MailOffice:
        """Make ``directory`` a new mail office with ``config`` (saved there)."""
        path = Path(directory)
        if (path / CONFIG_FILE).exists():
            raise ConfigurationError(f"{path} is already a mail office")
        path.mkdir(parents=True, exist_ok=True)
        config.save(path)
        return cls(path, config=config, clock=clock, storage=storage)

    @property
    def participant(self) -> str:
        """The office's participant id on the bus."""
        return self.config.participant

    def now(self) -> datetime:
        """The office clock, in UTC, to the millisecond."""
        return self.ledger.now()

    def local_date(self, moment: datetime | None = None) -> date:
        """The office's local date at ``moment`` (default: now)."""
        return self.ledger.local_date(moment)
