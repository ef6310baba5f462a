"""The mail office as a bus participant: ``govbus run teleservices.mail_office:app``.

One ``Provider`` with a handler per contract of ``contract.py``, each one call into ``MailOffice``:

- ``mail.deposit``: the depositing system is the verified envelope signer (``ctx.client``); status
  changes of the letter go back to it;
- the desk (``mail.assign`` ... ``mail.show``): the actor is the official the calling system declares
  (the envelope's ``userId``), else the calling system itself;
- ``mail.register-counter``: a paper letter handed in at the counter, the clerk (``userId``) its actor;
- ``mail.consult``, ``mail.opinion``: another administration's office asks this one for an opinion (the
  verified caller is the asking office), or sends back the opinion this one asked it for;
- ``mail.status``: another office reports the status of a letter this office delivered to it;
- ``mail.register``, ``mail.alerts``: the registers and the deadline alerts.

Refusals (``MailOfficeError``) are mapped by the SDK's refusal mapper (``app.refuse``) to faults with
the office's code, so callers read ``CallFailed.service_code`` (``MailOffice.InvalidTransition``,
``MailOffice.UnknownRegistration``...).

The office is a per-node resource (``sdk.environment.resource``): it lives in ``<participant
directory>/mail-office``, opened when the app starts on a node (created with a default configuration on
the first start unless ``govbus mail init`` wrote one) and closed when it stops. Its outbox is drained
over the bus by the SDK's ``OutboxPump`` (``dispatch.outbox_pump``, woken after every change) and its
deadline alerts computed by ``watch.AlertWatch``, each on its own thread.

The participant is ``$GOVBUS_MAIL_OFFICE_ID``, by default ``MA/GOV/MEF/bureau-ordre``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sdk import Context, Environment, Node, ParticipantId, Provider
from sdk.outbox import OutboxPump
from teleservices.mail_office.clock import Clock, system_clock
from teleservices.mail_office.config import CONFIG_FILE, OfficeConfig
from teleservices.mail_office.contract import (
    ALERTS,
    CONSULT,
    DEPOSIT,
    DESK,
    OPINION,
    REGISTER,
    REGISTER_COUNTER,
    SIGNATURES,
    STATUS,
)
from teleservices.mail_office.dispatch import BusSink, outbox_pump
from teleservices.mail_office.errors import ConfigurationError, MailOfficeError
from teleservices.mail_office.models import (
    Acknowledgement,
    AlertQuery,
    Alerts,
    Consultation,
    ConsultationOpinion,
    CounterLetter,
    Deposit,
    DeskOperation,
    MailRecord,
    OpinionReceipt,
    Register,
    RegisterQuery,
    Show,
    ShowSignatures,
    SignatureCircuits,
    StatusChange,
    StatusReceipt,
)
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.outbox import OutboxMessage
from teleservices.mail_office.signing import OfficeSigning, Submission, signature_pump
from teleservices.mail_office.watch import AlertWatch

OFFICE_ID_ENV = "GOVBUS_MAIL_OFFICE_ID"
DEFAULT_OFFICE_ID = "MA/GOV/MEF/bureau-ordre"
OFFICE_DIRECTORY = "mail-office"
OFFICE_CODE_LENGTH = 32
SIGNATURE_BOOK_ENV = "GOVBUS_SIGNATURE_BOOK_ID"
DEFAULT_SIGNATURE_BOOK = "MA/GOV/SGG/parapheur"


def office_id(environ: Mapping[str, str] = os.environ) -> ParticipantId:
    """The office's participant id: ``$GOVBUS_MAIL_OFFICE_ID``, else ``MA/GOV/MEF/bureau-ordre``."""
    return ParticipantId.parse(environ.get(OFFICE_ID_ENV) or DEFAULT_OFFICE_ID)


def office_directory(data_dir: Path) -> Path:
    """Where a participant keeps its mail office, inside its own participant directory."""
    return data_dir / OFFICE_DIRECTORY


def default_config(participant: ParticipantId) -> OfficeConfig:
    """The configuration of an office started without one: named after its participant id."""
    return OfficeConfig(
        participant=str(participant), name=str(participant), code=participant.member[:OFFICE_CODE_LENGTH]
    )


def _actor(ctx: Context) -> str:
    return ctx.user_id or str(ctx.client)


@dataclass(frozen=True, slots=True)
class Served:
    """What the app runs on one node: the office, its outbox pump and its deadline watch."""

    office: MailOffice
    pump: OutboxPump[OutboxMessage]
    watch: AlertWatch
    signing: OfficeSigning | None = None
    signatures: OutboxPump[Submission] | None = None


class MailOfficeService:
    """The office's handlers and their lifecycle on a ``Provider`` (``self.app``)."""

    def __init__(
        self,
        participant: ParticipantId | str,
        *,
        clock: Clock = system_clock,
        drain_interval: float = 5.0,
        max_backoff: float = 300.0,
        alert_interval: float = 300.0,
        call_timeout: float = 10.0,
        signature_book: str | None = None,
    ) -> None:
        """``signature_book``: the book replies with a signature circuit go to (default
        ``$GOVBUS_SIGNATURE_BOOK_ID``, else ``MA/GOV/SGG/parapheur``)."""
        self.app = Provider(participant)
        self.signature_book = signature_book or os.environ.get(SIGNATURE_BOOK_ENV) or DEFAULT_SIGNATURE_BOOK
        self.clock = clock
        self.drain_interval = drain_interval
        self.max_backoff = max_backoff
        self.alert_interval = alert_interval
        self.call_timeout = call_timeout
        self.served = self.app.resource(self._serve)
        self.app.refuse(MailOfficeError)
        self.app.implement(DEPOSIT)(self.deposit)
        self.app.implement(STATUS)(self.status)
        self.app.implement(REGISTER_COUNTER)(self.register_counter)
        self.app.implement(CONSULT)(self.consult)
        self.app.implement(OPINION)(self.opinion)
        for contract in DESK:
            self.app.implement(contract)(self.desk)
        self.app.implement(REGISTER)(self.register)
        self.app.implement(ALERTS)(self.alerts)
        self.app.implement(SIGNATURES)(self.signatures)
        self._receive_signature_events()

    # Lifecycle

    def _serve(self, env: Environment) -> Iterator[Served]:
        directory = office_directory(env.data_dir)
        shared = env.storage if env.storage.dialect == "postgresql" else None  # SQLite: in ``directory``
        if (directory / CONFIG_FILE).exists():
            office = MailOffice(directory, clock=self.clock, storage=shared)
        else:
            office = MailOffice.create(
                directory, default_config(env.participant), clock=self.clock, storage=shared
            )
        if office.participant != str(env.participant):
            raise ConfigurationError(
                f"{directory} is the mail office of {office.participant}, not of {env.participant}"
            )
        sink = BusSink(env.client(), timeout=self.call_timeout)
        pump = outbox_pump(office, sink, interval=self.drain_interval, max_backoff=self.max_backoff)
        watch = AlertWatch(office, interval=self.alert_interval)
        signing = OfficeSigning(office, self.signature_book)
        signatures = signature_pump(
            signing, env.client(), interval=self.drain_interval, max_backoff=self.max_backoff
        )
        served = Served(office, pump.start(), watch.start(), signing, signatures.start())
        pump.wake()  # messages left by an earlier run
        signatures.wake()
        try:
            yield served
        finally:
            signatures.stop(self.call_timeout * 3 + 5)
            pump.stop(self.call_timeout * 2 + 5)
            watch.stop()

    def office(self, node: Node) -> MailOffice:
        """The office this app serves on ``node`` (started)."""
        return node.resources.get(self.served).office

    def pump(self, node: Node) -> OutboxPump[OutboxMessage]:
        return node.resources.get(self.served).pump

    def watch(self, node: Node) -> AlertWatch:
        return node.resources.get(self.served).watch

    @contextmanager
    def _change(self, ctx: Context) -> Iterator[MailOffice]:
        """The office for a handler that changes it; the pump is woken afterwards (it may have news)."""
        served = ctx.use(self.served)
        try:
            yield served.office
        finally:
            served.pump.wake()

    def _office(self, ctx: Context) -> MailOffice:
        return ctx.use(self.served).office

    # Handlers

    def deposit(self, request: Deposit, ctx: Context) -> Acknowledgement:
        with self._change(ctx) as office:
            return office.deposit(request, channel=str(ctx.client))

    def register_counter(self, request: CounterLetter, ctx: Context) -> Acknowledgement:
        with self._change(ctx) as office:
            return office.register_counter(request, actor=_actor(ctx))

    def consult(self, request: Consultation, ctx: Context) -> Acknowledgement:
        with self._change(ctx) as office:
            return office.receive_consultation(request, sender=str(ctx.client))

    def opinion(self, request: ConsultationOpinion, ctx: Context) -> OpinionReceipt:
        with self._change(ctx) as office:
            return office.record_opinion(request, sender=str(ctx.client))

    def desk(self, request: DeskOperation, ctx: Context) -> MailRecord:
        if isinstance(request, Show):
            return self._office(ctx).show(request.registration_number)
        with self._change(ctx) as office:
            return office.perform(request, actor=_actor(ctx))

    def status(self, request: StatusChange, ctx: Context) -> StatusReceipt:
        with self._change(ctx) as office:
            applied = office.record_status_change(request, sender=str(ctx.client))
        return StatusReceipt(
            registration_number=request.registration_number, sequence=request.sequence, applied=applied
        )

    def register(self, request: RegisterQuery, ctx: Context) -> Register:
        return self._office(ctx).register(request)

    def alerts(self, request: AlertQuery, ctx: Context) -> Alerts:
        return self._office(ctx).alert_list(request)

    # Signature circuits of replies (``signing``)

    def signatures(self, request: ShowSignatures, ctx: Context) -> SignatureCircuits:
        signing = ctx.use(self.served).signing
        assert signing is not None
        return signing.circuits(request.registration_number)

    def _receive_signature_events(self) -> None:
        """Serve ``signature-book.event`` when the signature book's package is installed."""
        try:
            from teleservices.signature_book.receiver import EventReceiver
        except ImportError:  # pragma: no cover - depends on the installation
            return
        EventReceiver(self.app, on_folder=self._signature_event)

    def _signature_event(self, event: object, ctx: Context) -> None:
        served = ctx.use(self.served)
        assert served.signing is not None and served.signatures is not None
        try:
            served.signing.on_folder_event(event, str(ctx.client))
        finally:
            served.pump.wake()  # a signed reply is queued for delivery


service = MailOfficeService(office_id())
app = service.app
"""The office ``govbus run teleservices.mail_office:app`` runs."""

__all__ = [
    "DEFAULT_OFFICE_ID",
    "OFFICE_DIRECTORY",
    "OFFICE_ID_ENV",
    "MailOfficeService",
    "Served",
    "app",
    "default_config",
    "office_directory",
    "office_id",
    "service",
]
