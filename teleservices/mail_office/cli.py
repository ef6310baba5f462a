"""``mail``: the mail office from the command line, on a local office directory or over the bus.

Each command acts on a ``Desk`` (``desks.py``): a local office directory (``--office-dir``), or a running
office reached over the bus as a participant (``--home DIR --as PARTICIPANT --broker URL --office ID``).
Output is plain ``key: value`` text, or the contract's XML with ``--xml``. Refusals (the office's, or the
bus's: no grant, no reply) print one line, ``CODE: reason``, and exit with status 1 (the govbus CLI kit,
``sdk.cli``).
"""

from __future__ import annotations

import functools
import mimetypes
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import lxml.etree as etree
from click.core import ParameterSource

from sdk import ParticipantId, configure_logging
from sdk.cli import bus_options, group, home_option, settings
from sdk.security import BusHome
from teleservices.mail_office.checks import checked as _checked
from teleservices.mail_office.config import OfficeConfig
from teleservices.mail_office.deadlines import AlertLevel
from teleservices.mail_office.desks import BusDesk, Desk, LocalDesk
from teleservices.mail_office.errors import MailOfficeError
from teleservices.mail_office.models import (
    Acknowledgement,
    AlertQuery,
    Assign,
    Attachment,
    Close,
    Deposit,
    DeskOperation,
    GiveOpinion,
    MailPayload,
    MailRecord,
    Party,
    PartyKind,
    Redirect,
    Register,
    RegisterQuery,
    Reply,
    RequestOpinion,
    Send,
    Show,
    Validate,
    format_utc_millis,
)
from teleservices.mail_office.numbering import DEFAULT_FORMAT
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.service import DEFAULT_OFFICE_ID, OFFICE_ID_ENV, office_directory
from teleservices.mail_office.workflow import Direction, Status

OFFICE_ENV = "GOVBUS_MAIL_OFFICE"
ACTOR_ENV = "GOVBUS_ACTOR"
MAX_XML_BYTES = 64 * 1024 * 1024


def office_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--office-dir DIR`` (default ``$GOVBUS_MAIL_OFFICE``)."""
    return click.option(
        "--office-dir",
        "office_dir",
        envvar=OFFICE_ENV,
        required=True,
        metavar="DIR",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"the mail office directory (default: ${OFFICE_ENV})",
    )(function)


def actor_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--actor ID``: the official acting (default ``$GOVBUS_ACTOR``)."""
    return click.option(
        "--actor",
        envvar=ACTOR_ENV,
        help=f"the official acting (default: ${ACTOR_ENV}); required on a local office, over the bus "
        "the office records it as the calling system's official, else the calling system",
    )(function)


_WHERE = ("office_dir", "home", "sender", "broker", "prefix", "office", "timeout")


def _where_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=10.0,
        show_default=True,
        help="seconds, with --as",
    )(function)
    function = click.option(
        "--office",
        envvar=OFFICE_ID_ENV,
        default=DEFAULT_OFFICE_ID,
        show_default=True,
        metavar="PARTICIPANT",
        help=f"the running office, with --as (env ${OFFICE_ID_ENV})",
    )(function)
    function = bus_options(as_required=False)(function)
    return click.option(
        "--office-dir",
        "office_dir",
        envvar=OFFICE_ENV,
        metavar="DIR",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"a local mail office directory (default: ${OFFICE_ENV})",
    )(function)


def pass_desk(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options that say where to act, and pass the ``Desk`` they name as the first argument."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        where = {name: kwargs.pop(name) for name in _WHERE}
        ctx = click.get_current_context()
        desk = _open_desk(ctx, where)
        ctx.call_on_close(desk.close)
        return function(desk, *args, **kwargs)

    return _where_options(run)


def _open_desk(ctx: click.Context, where: dict[str, Any]) -> Desk:
    """Over the bus with --as, on a local office with --office-dir; an --office-dir typed on the command
    line wins over a participant that only comes from the environment or govbus.toml."""
    explicit_dir = ctx.get_parameter_source("office_dir") is ParameterSource.COMMANDLINE
    explicit_as = ctx.get_parameter_source("sender") is ParameterSource.COMMANDLINE
    if where["sender"] and (explicit_as or not explicit_dir):
        if where["home"] is None:
            raise click.UsageError("--as needs the bus home: --home DIR, $GOVBUS_HOME or home in govbus.toml")
        level = settings(ctx)
        configure_logging(level.log_level if "log_level" in level.model_fields_set else "WARNING")
        return BusDesk(
            where["office"],
            sender=where["sender"],
            home=where["home"].root,
            broker=where["broker"],
            prefix=where["prefix"],
            timeout=where["timeout"],
        )
    if where["office_dir"] is not None:
        return LocalDesk(where["office_dir"])
    raise click.UsageError(
        f"say where the office is: --office-dir DIR (or ${OFFICE_ENV}) for a local office, or "
        "--home DIR --as PARTICIPANT [--broker URL] [--office ID] to reach a running office over the bus"
    )


def _perform(desk: Desk, operation: DeskOperation, actor: str | None, as_xml: bool) -> None:
    _print_record(desk.perform(operation, actor=actor), as_xml)


xml_option = click.option("--xml", "as_xml", is_flag=True, help="print the contract XML")
attach_option = click.option(
    "--attach",
    "attach",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a file to attach (repeatable); its media type is guessed from its name",
)
body_option = click.option("--body", help="the text of the letter")


def _open(office_dir: Path) -> MailOffice:
    return MailOffice(office_dir)


def _attachments(paths: tuple[Path, ...]) -> list[Attachment]:
    attachments = []
    for path in paths:
        media_type = (mimetypes.guess_type(path.name)[0] or "application/octet-stream").lower()
        attachments.append(Attachment.of(path.name, media_type, path.read_bytes()))
    return attachments


def _read_payload(path: Path, model: type[MailPayload]) -> Any:
    """A contract document from a file: no DTD, no entities, no network."""
    data = path.read_bytes()
    if len(data) > MAX_XML_BYTES:
        raise click.BadParameter(f"{path} is larger than {MAX_XML_BYTES} bytes")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise click.BadParameter(f"{path}: DOCTYPE and ENTITY declarations are not allowed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise click.BadParameter(f"{path} is not well-formed XML: {error}") from None
    return model.from_xml_tree(root)


def _print_xml(payload: MailPayload) -> None:
    click.echo(etree.tostring(payload.to_xml_tree(), pretty_print=True, encoding="unicode"), nl=False)


def _time(moment: datetime) -> str:
    return format_utc_millis(moment)


def _party_text(party: Party) -> str:
    return f"{party.kind.value} {party.identifier} ({party.name})"


def _print_acknowledgement(ack: Acknowledgement, as_xml: bool) -> None:
    if as_xml:
        _print_xml(ack)
        return
    click.echo(f"registration: {ack.registration_number}")
    click.echo(f"office: {ack.office}")
    click.echo(f"received: {_time(ack.received_at)}")
    click.echo(f"service: {ack.service_in_charge}")
    click.echo(f"deadline: {ack.deadline.isoformat()}")
    click.echo(f"digest: {ack.deposit_digest}")
    if ack.linked_registration:
        click.echo(f"linked: {ack.linked_registration}")


def _print_record(record: MailRecord, as_xml: bool) -> None:
    if as_xml:
        _print_xml(record)
        return
    lines = {
        "registration": record.registration_number,
        "direction": record.direction.value,
        "status": record.status.value,
        "subject": record.subject,
        "sender": _party_text(record.sender),
        "recipient": _party_text(record.recipient),
        "type": record.mail_type,
        "registered": _time(record.registered_at),
        "deadline": record.deadline.isoformat() if record.deadline else None,
        "service": record.service,
        "agent": record.agent,
        "linked": record.linked_registration,
        "linked-status": record.linked_status.value if record.linked_status else None,
        "in-reply-to": record.in_reply_to,
        "replies": ", ".join(record.replies) or None,
        "digest": record.deposit_digest,
    }
    for key, value in lines.items():
        if value is not None:
            click.echo(f"{key}: {value}")
    for a in record.attachments:
        click.echo(f"attachment: {a.name} {a.media_type} {a.size} bytes sha256:{a.sha256}")
    for o in record.opinions:
        given = f" -> {o.opinion!r} by {o.given_by}" if o.given_by else " (awaited)"
        click.echo(f"opinion: {o.consulted} asked by {o.requested_by}: {o.question!r}{given}")
    if record.body:
        click.echo("body: " + record.body.replace("\n", "\n  "))
    click.echo("history:")
    for h in record.history:
        move = f"{h.old_status.value} -> {h.new_status.value}" if h.old_status else h.new_status.value
        extra = "".join(
            f" {label}={value}" for label, value in (("service", h.service), ("agent", h.agent)) if value
        )
        comment = f" : {h.comment}" if h.comment else ""
        click.echo(
            f"  {h.sequence}. {h.time.isoformat()} {h.action.value} ({move}) by {h.actor}{extra}{comment}"
        )


@group(refusals=(MailOfficeError,))
def mail() -> None:
    """Digital mail office: deposit letters, acknowledge them, process them, keep the registers."""


@mail.command()
@click.option(
    "--office-dir",
    "office_dir",
    envvar=OFFICE_ENV,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"where to create it (default: ${OFFICE_ENV}, else the participant's directory in --home)",
)
@home_option(required=False, help="bus home: create the office that 'govbus run' opens for --participant")
@click.option("--participant", required=True, help="the office's participant id, e.g. MA/GOV/MEF/bo")
@click.option("--name", required=True, help="the administration's name, as it signs its letters")
@click.option("--code", required=True, help="the office code in registration numbers, e.g. MEF")
@click.option("--number-format", default=DEFAULT_FORMAT, show_default=True)
@click.option("--timezone", default="Africa/Casablanca", show_default=True)
@click.option("--default-service", default="bureau-ordre", show_default=True)
@click.option("--service", "services", multiple=True, help="a service of the office (repeatable)")
def init(
    office_dir: Path | None,
    home: BusHome | None,
    participant: str,
    name: str,
    code: str,
    number_format: str,
    timezone: str,
    default_service: str,
    services: tuple[str, ...],
) -> None:
    """Create a mail office in --office-dir or for --home (edit mail-office.json for mail types and holidays)."""
    if office_dir is None:
        if home is None:
            raise click.UsageError(
                f"give --office-dir DIR or --home DIR (or set ${OFFICE_ENV}, $GOVBUS_HOME or home in govbus.toml)"
            )
        office_dir = office_directory(home.participant_dir(ParticipantId.parse(participant)))
    if services and default_service not in services:
        services = (default_service, *services)
    config = OfficeConfig(
        participant=participant,
        name=name,
        code=code,
        number_format=number_format,
        timezone=timezone,
        default_service=default_service,
        services=services,
    )
    office = MailOffice.create(office_dir, config)
    click.echo(f"office: {office.participant}")
    click.echo(f"directory: {office.directory}")


@mail.command()
@pass_desk
@click.option("--from-xml", "from_xml", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a Deposit document instead of the options below")  # fmt: skip
@click.option("--subject")
@click.option("--sender-kind", type=click.Choice([k.value for k in PartyKind]))
@click.option("--sender-id", help="CIN, ICE or participant id")
@click.option("--sender-name")
@click.option("--recipient-id", help="default: this office")
@click.option("--recipient-name", help="default: this office's name")
@click.option("--type", "mail_type", default="letter", show_default=True)
@body_option
@attach_option
@click.option(
    "--channel", help="local office: the participant that carried the deposit (status changes go there)"
)
@xml_option
def deposit(
    desk: Desk,
    from_xml: Path | None,
    subject: str | None,
    sender_kind: str | None,
    sender_id: str | None,
    sender_name: str | None,
    recipient_id: str | None,
    recipient_name: str | None,
    mail_type: str,
    body: str | None,
    attach: tuple[Path, ...],
    channel: str | None,
    as_xml: bool,
) -> None:
    """Register an incoming letter and print its acknowledgement of receipt."""
    if from_xml is not None:
        letter = _read_payload(from_xml, Deposit)
    else:
        missing = [
            f"--{name}"
            for name, value in (
                ("subject", subject),
                ("sender-kind", sender_kind),
                ("sender-id", sender_id),
                ("sender-name", sender_name),
            )
            if value is None
        ]
        if missing:
            raise click.UsageError(f"give --from-xml FILE or {', '.join(missing)}")
        letter = Deposit(
            subject=subject,
            sender=Party(kind=PartyKind(sender_kind), identifier=sender_id, name=sender_name),
            recipient=Party(
                kind=PartyKind.ADMINISTRATION,
                identifier=recipient_id or desk.office,
                name=recipient_name or desk.office_name,
            ),
            mail_type=mail_type,
            body=body,
            attachments=_attachments(attach),
        )
    _print_acknowledgement(desk.deposit(letter, channel=channel), as_xml)


@mail.command()
@pass_desk
@click.argument("number")
@xml_option
def show(desk: Desk, number: str, as_xml: bool) -> None:
    """Show a letter: its status, parties, attachments, opinions and history."""
    _perform(desk, _checked(Show, registration_number=number), None, as_xml)


@mail.command()
@pass_desk
@actor_option
@click.argument("number")
@click.option("--service", required=True)
@click.option("--agent")
@click.option("--comment")
@xml_option
def assign(
    desk: Desk,
    actor: str | None,
    number: str,
    service: str,
    agent: str | None,
    comment: str | None,
    as_xml: bool,
) -> None:
    """Assign a letter to a service, optionally to one of its agents."""
    operation = _checked(Assign, registration_number=number, service=service, agent=agent, comment=comment)
    _perform(desk, operation, actor, as_xml)


@mail.command()
@pass_desk
@actor_option
@click.argument("number")
@click.option("--service", required=True)
@click.option("--reason", required=True)
@xml_option
def redirect(desk: Desk, actor: str | None, number: str, service: str, reason: str, as_xml: bool) -> None:
    """Send a letter on to the competent service."""
    _perform(
        desk, _checked(Redirect, registration_number=number, service=service, reason=reason), actor, as_xml
    )


@mail.command(name="request-opinion")
@pass_desk
@actor_option
@click.argument("number")
@click.option("--consulted", required=True, help="the service, official or administration asked")
@click.option("--question", required=True)
@xml_option
def request_opinion(
    desk: Desk, actor: str | None, number: str, consulted: str, question: str, as_xml: bool
) -> None:
    """Ask for an opinion before answering a letter."""
    operation = _checked(RequestOpinion, registration_number=number, consulted=consulted, question=question)
    _perform(desk, operation, actor, as_xml)


@mail.command(name="give-opinion")
@pass_desk
@actor_option
@click.argument("number")
@click.option("--opinion", required=True)
@xml_option
def give_opinion(desk: Desk, actor: str | None, number: str, opinion: str, as_xml: bool) -> None:
    """Give the opinion asked for on a letter."""
    _perform(desk, _checked(GiveOpinion, registration_number=number, opinion=opinion), actor, as_xml)


@mail.command()
@pass_desk
@actor_option
@click.argument("number")
@click.option("--comment")
@xml_option
def validate(desk: Desk, actor: str | None, number: str, comment: str | None, as_xml: bool) -> None:
    """Approve the processing of a letter."""
    _perform(desk, _checked(Validate, registration_number=number, comment=comment), actor, as_xml)


@mail.command()
@pass_desk
@actor_option
@click.argument("number")
@click.option("--subject", required=True)
@body_option
@attach_option
@click.option("--type", "mail_type", help="default: reply")
@click.option("--comment")
@xml_option
def reply(
    desk: Desk,
    actor: str | None,
    number: str,
    subject: str,
    body: str | None,
    attach: tuple[Path, ...],
    mail_type: str | None,
    comment: str | None,
    as_xml: bool,
) -> None:
    """Answer a validated letter; prints the reply, registered as outgoing mail."""
    operation = _checked(
        Reply,
        registration_number=number,
        subject=subject,
        mail_type=mail_type,
        body=body,
        attachments=_attachments(attach),
        comment=comment,
    )
    _perform(desk, operation, actor, as_xml)


@mail.command()
@pass_desk
@actor_option
@click.argument("number")
@click.option("--comment")
@xml_option
def close(desk: Desk, actor: str | None, number: str, comment: str | None, as_xml: bool) -> None:
    """File a letter whose processing is over."""
    _perform(desk, _checked(Close, registration_number=number, comment=comment), actor, as_xml)


@mail.command()
@pass_desk
@actor_option
@click.option("--subject", required=True)
@click.option("--recipient-kind", type=click.Choice([k.value for k in PartyKind]), default="administration")
@click.option("--recipient-id", required=True, help="participant id, CIN or ICE")
@click.option("--recipient-name", required=True)
@click.option("--type", "mail_type", default="letter", show_default=True)
@click.option("--service", help="local office: the service sending it")
@body_option
@attach_option
@xml_option
def send(
    desk: Desk,
    actor: str | None,
    subject: str,
    recipient_kind: str,
    recipient_id: str,
    recipient_name: str,
    mail_type: str,
    service: str | None,
    body: str | None,
    attach: tuple[Path, ...],
    as_xml: bool,
) -> None:
    """Register a new outgoing letter (delivered to an administration's mail office)."""
    recipient = Party(kind=PartyKind(recipient_kind), identifier=recipient_id, name=recipient_name)
    if service is not None:
        if not isinstance(desk, LocalDesk) or actor is None:
            raise click.UsageError("--service needs a local office (--office-dir) and --actor")
        record = desk.mail_office.send(
            subject=subject,
            recipient=recipient,
            mail_type=mail_type,
            body=body,
            attachments=_attachments(attach),
            service=service,
            actor=actor,
        )
        _print_record(record, as_xml)
        return
    operation = _checked(
        Send,
        subject=subject,
        recipient=recipient,
        mail_type=mail_type,
        body=body,
        attachments=_attachments(attach),
    )
    _perform(desk, operation, actor, as_xml)


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD", ctx=ctx, param=param) from None


@mail.command(name="register")
@pass_desk
@click.option("--outgoing", is_flag=True, help="the outgoing (D) register instead of the incoming (A) one")
@click.option("--year", type=click.IntRange(1900, 9999))
@click.option("--status", type=click.Choice([s.value for s in Status]))
@click.option(
    "--correspondent", help="sender (incoming) or recipient (outgoing): identifier or part of a name"
)
@click.option("--text", help="part of the subject")
@click.option("--service")
@click.option("--from", "registered_from", callback=_date, metavar="YYYY-MM-DD")
@click.option("--to", "registered_to", callback=_date, metavar="YYYY-MM-DD")
@click.option("--late", is_flag=True, help="only letters past their deadline")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="local office: export as CSV ('-': stdout)",
)
@xml_option
def register_command(
    desk: Desk,
    outgoing: bool,
    year: int | None,
    status: str | None,
    correspondent: str | None,
    text: str | None,
    service: str | None,
    registered_from: date | None,
    registered_to: date | None,
    late: bool,
    limit: int,
    offset: int,
    csv_path: str | None,
    as_xml: bool,
) -> None:
    """Search a register; print counts per status and one page of letters, or export it as CSV."""
    query = RegisterQuery(
        direction=Direction.OUTGOING if outgoing else Direction.INCOMING,
        year=year,
        status=Status(status) if status else None,
        correspondent=correspondent,
        text=text,
        service=service,
        registered_from=registered_from,
        registered_to=registered_to,
        late_only=late,
        limit=limit,
        offset=offset,
    )
    if csv_path is not None:
        if not isinstance(desk, LocalDesk):
            raise click.UsageError("--csv needs a local office (--office-dir)")
        office = desk.mail_office
        if csv_path == "-":
            office.export_csv(query, sys.stdout)
            return
        with open(csv_path, "w", encoding="utf-8", newline="") as out:
            count = office.export_csv(query, out)
        click.echo(f"exported: {count} letters to {csv_path}")
        return
    page = desk.register(query)
    if as_xml:
        _print_xml(page)
        return
    _print_register(page, query)


def _print_register(page: Register, query: RegisterQuery) -> None:
    click.echo(f"register: {page.direction.value}")
    click.echo(f"total: {page.total}")
    click.echo(f"late: {page.late}")
    for count in page.counts:
        click.echo(f"  {count.status.value}: {count.count}")
    for e in page.entries:
        party = e.sender if page.direction is Direction.INCOMING else e.recipient
        deadline = f" due {e.deadline.isoformat()}" if e.deadline else ""
        flag = " LATE" if e.late else ""
        click.echo(
            f"{e.registration_number}  {e.registered_at.date().isoformat()}  {e.status.value}  "
            f"{party.name}  {e.subject}  [{e.service or '-'}]{deadline}{flag}"
        )
    shown = query.offset + len(page.entries)
    if shown < page.total:
        click.echo(f"... {page.total - shown} more (use --offset {shown})")


@mail.command()
@pass_desk
@click.option("--level", type=click.Choice([level.value for level in AlertLevel]), help="only this level")
@click.option("--service", help="only letters of this service")
@xml_option
def alerts(desk: Desk, level: str | None, service: str | None, as_xml: bool) -> None:
    """Letters whose deadline is near, today, or past."""
    found = desk.alerts(AlertQuery(level=AlertLevel(level) if level else None, service=service))
    if as_xml:
        _print_xml(found)
        return
    for alert in found.alerts:
        click.echo(
            f"{alert.level.value}: {alert.registration_number} due {alert.deadline.isoformat()} "
            f"({alert.days_left:+d} days) [{alert.service or '-'}{'/' + alert.agent if alert.agent else ''}] "
            f"{alert.subject}"
        )


@mail.command()
@office_option
@click.argument("number")
@click.argument("sha256")
@click.option(
    "--out", type=click.Path(dir_okay=False, allow_dash=True), required=True, help="where to write it"
)
def attachment(office_dir: Path, number: str, sha256: str, out: str) -> None:
    """Write an attachment of a letter to --out, after checking its digest."""
    info, content = _open(office_dir).attachment(number, sha256)
    with click.open_file(out, "wb") as file:
        file.write(content)
    if out != "-":
        click.echo(f"attachment: {info.name} {info.media_type} {info.size} bytes -> {out}")


@mail.command()
@office_option
def pending(office_dir: Path) -> None:
    """Messages waiting in the outbox (status changes and letters to deliver)."""
    for message in _open(office_dir).pending():
        error = f" last error: {message.last_error}" if message.last_error else ""
        click.echo(
            f"{message.id} {message.kind.value} -> {message.destination} about {message.registration_number} "
            f"(attempts {message.attempts}){error}"
        )
