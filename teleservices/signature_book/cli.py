"""``govbus sign``: the signature book by hand, on a local book directory.

Every command is a thin call to ``SignatureBook``. Today they open the book directory themselves and
trust ``--as`` (the operator's machine); once the SDK exists, all but ``verify`` and ``init`` will send
the same request over the bus, where the actor is the verified envelope signer. ``verify`` stays offline.
"""

from __future__ import annotations

import json
import mimetypes
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bus.cli.errors import FaultAwareGroup
from bus.cli.options import home_option
from bus.logging import configure_logging
from teleservices.signature_book._bus import BusHome, Fault, ParticipantId, SigningIdentity
from teleservices.signature_book.book import SignatureBook
from teleservices.signature_book.bundle import verify_bundle
from teleservices.signature_book.circuit import Circuit
from teleservices.signature_book.config import BookConfig
from teleservices.signature_book.errors import SignatureBookError
from teleservices.signature_book.models import (
    CircuitStep,
    DelegateSignature,
    DocumentUpload,
    FolderView,
    MetadataEntry,
    QuorumName,
    StepKindName,
    SubmitFolder,
)
from teleservices.signature_book.times import utc_now
from teleservices.signature_book.xades import DetachedXadesSigner

BOOK_DIR_ENV = "GOVBUS_SIGNATURE_BOOK"


class _BookErrors(click.Group):
    """Reports a refused book operation as ``CODE: reason`` (exit 1), like a fault."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SignatureBookError as error:
            click.echo(f"{error.code}: {error.reason}", err=True)
            sys.exit(1)


class BookCommandGroup(FaultAwareGroup, _BookErrors):
    """The house error handling (faults, one-line errors, no tracebacks) plus the book's refusals."""


def _participant(ctx: click.Context, param: click.Parameter, value: str | None) -> ParticipantId | None:
    if value is None:
        return None
    try:
        return ParticipantId.parse(value)
    except Fault as fault:
        raise click.BadParameter(fault.reason, ctx=ctx, param=param) from None


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    if value == "now":
        return utc_now()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("give an ISO 8601 UTC time such as 2026-11-21T10:00:00Z, or 'now'") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the time zone, e.g. a trailing Z for UTC")
    return moment.astimezone(UTC)


def book_dir_option(function: Any) -> Any:
    return click.option(
        "--book-dir",
        "book_dir",
        envvar=BOOK_DIR_ENV,
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=f"the signature book directory (default: ${BOOK_DIR_ENV})",
    )(function)


def actor_option(function: Any) -> Any:
    return click.option(
        "--as",
        "actor",
        required=True,
        metavar="PARTICIPANT_ID",
        callback=_participant,
        help="the participant acting",
    )(function)


def on_behalf_option(function: Any) -> Any:
    return click.option(
        "--on-behalf-of",
        "on_behalf_of",
        metavar="PARTICIPANT_ID",
        callback=_participant,
        help="act as substitute for this signatory (under its delegation)",
    )(function)


def _open(book_dir: Path, home: BusHome) -> SignatureBook:
    return SignatureBook.open(book_dir, home)


@click.group(cls=BookCommandGroup)
def sign() -> None:
    """Electronic signature book: folders through visa and signature circuits, verifiable bundles."""
    configure_logging("WARNING")


@sign.command()
@book_dir_option
@click.option("--as", "book", required=True, metavar="PARTICIPANT_ID", callback=_participant, help="the book")
@click.option("--tsa", metavar="PARTICIPANT_ID", callback=_participant, help="timestamp authority (B-T)")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="JSON with businessTypes and their circuit templates (see docs/signature_book.md)",
)
def init(book_dir: Path, book: ParticipantId, tsa: ParticipantId | None, config_file: Path | None) -> None:
    """Create a signature book in --book-dir, run by participant --as."""
    data: dict[str, Any] = {}
    if config_file is not None:
        data = json.loads(config_file.read_text(encoding="utf-8"))
    data["book"] = str(book)
    if tsa is not None:
        data["timestampAuthority"] = str(tsa)
    path = SignatureBook.create(book_dir, BookConfig.from_json(data))
    click.echo(f"config: {path}")


def _step(text: str) -> CircuitStep:
    step = Circuit.parse_step(text)
    return CircuitStep(
        kind=StepKindName(str(step.kind)),
        quorum=QuorumName(str(step.quorum)),
        label=step.label,
        signatories=[str(s) for s in step.signatories],
    )


def _circuit_file(path: Path) -> list[CircuitStep]:
    circuit = Circuit.from_json(json.loads(path.read_text(encoding="utf-8")))
    return [
        CircuitStep(
            kind=StepKindName(str(s.kind)),
            quorum=QuorumName(str(s.quorum)),
            label=s.label,
            signatories=[str(p) for p in s.signatories],
        )
        for s in circuit.steps
    ]


@sign.command()
@book_dir_option
@home_option
@actor_option
@click.option("--type", "business_type", required=True, help="business type, e.g. hr, purchasing")
@click.option("--title", required=True)
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="folder metadata (repeatable)")
@click.option(
    "--step", "steps", multiple=True, metavar="KIND[:all|any]:ID[,ID...]", help="circuit step (repeatable)"
)
@click.option("--circuit", "circuit_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--notify", metavar="SERVICE_ID", help="service that receives this folder's events")
@click.option(
    "--mime", "mime_types", multiple=True, metavar="NAME=TYPE", help="override a document's MIME type"
)
@click.argument(
    "documents", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
def submit(
    book_dir: Path,
    home: BusHome,
    actor: ParticipantId,
    business_type: str,
    title: str,
    meta: tuple[str, ...],
    steps: tuple[str, ...],
    circuit_file: Path | None,
    notify: str | None,
    mime_types: tuple[str, ...],
    documents: tuple[Path, ...],
) -> None:
    """Submit DOCUMENTS as a folder; without --step/--circuit the business type's template applies."""
    if steps and circuit_file:
        raise click.UsageError("give --step or --circuit, not both")
    overrides = dict(_pair(m, "--mime") for m in mime_types)
    uploads = [
        DocumentUpload(
            name=path.name,
            mime_type=overrides.get(path.name)
            or mimetypes.guess_type(path.name)[0]
            or "application/octet-stream",
            content=path.read_bytes(),
        )
        for path in documents
    ]
    circuit = _circuit_file(circuit_file) if circuit_file else [_step(s) for s in steps]
    request = SubmitFolder(
        title=title,
        business_type=business_type,
        notify_service=notify,
        metadata=[MetadataEntry(key=k, value=v) for k, v in (_pair(m, "--meta") for m in meta)],
        documents=uploads,
        circuit=circuit,
    )
    view = _open(book_dir, home).submit(actor, request)
    click.echo(f"folder: {view.folder_id}")
    _print_view(view, brief=True)


def _pair(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r}: expected KEY=VALUE", param_hint=option)
    return key, value


@sign.command()
@book_dir_option
@home_option
@click.argument("folder", required=False)
@click.option(
    "--awaiting", metavar="PARTICIPANT_ID", callback=_participant, help="list folders waiting for it"
)
@click.option("--status", type=click.Choice(["in-progress", "completed", "rejected"]))
@click.option("--xml", "as_xml", is_flag=True, help="print the contract's XML")
def show(
    book_dir: Path,
    home: BusHome,
    folder: str | None,
    awaiting: ParticipantId | None,
    status: str | None,
    as_xml: bool,
) -> None:
    """Show FOLDER (documents, circuit, history), or list folders."""
    book = _open(book_dir, home)
    if folder is None:
        listing = book.folders(awaiting=awaiting, status=status)
        if as_xml:
            click.echo(listing.to_xml(pretty_print=True).decode())
            return
        for item in listing.folders:
            step = f"step {item.current_step}" if item.current_step else "-"
            click.echo(
                f"{item.folder_id}  {item.status:<11}  {step:<7}  {item.business_type:<12}  {item.title}"
            )
        return
    view = book.folder(folder)
    if as_xml:
        click.echo(view.to_xml(pretty_print=True).decode())
        return
    _print_view(view)
    waiting = book.store.outbox_size()
    if waiting:
        click.echo(f"events waiting for delivery: {waiting}")


def _print_view(view: FolderView, *, brief: bool = False) -> None:
    step = f" (step {view.current_step} of {len(view.steps)})" if view.current_step else ""
    click.echo(f"status: {view.status}{step}")
    if brief:
        return
    click.echo(f"title: {view.title}")
    click.echo(f"type: {view.business_type}")
    click.echo(f"submitter: {view.submitter}")
    for entry in view.metadata:
        click.echo(f"meta: {entry.key}={entry.value}")
    click.echo("documents:")
    for document in view.documents:
        click.echo(
            f"  {document.name}  {document.mime_type}  {document.size} bytes  sha256:{document.sha256}"
        )
    click.echo("circuit:")
    for s in view.steps:
        click.echo(f"  {s.number}. {s.kind} ({s.quorum}) {s.state}: {', '.join(s.signatories)}")
        for action in s.actions:
            by = f" on behalf of {action.on_behalf_of}" if action.on_behalf_of else ""
            click.echo(f"       {action.kind} by {action.actor}{by} at {action.at:%Y-%m-%dT%H:%M:%SZ}")
    click.echo("history:")
    for item in view.history:
        by = f" on behalf of {item.on_behalf_of}" if item.on_behalf_of else ""
        where = f" step {item.step}" if item.step else ""
        extra = f": {item.reason}" if item.reason else (f" #{item.undoes}" if item.undoes else "")
        click.echo(
            f"  {item.seq:>3} {item.at:%Y-%m-%dT%H:%M:%SZ} {item.kind}{where} by {item.actor}{by}{extra}"
        )


def _result(result: Any) -> None:
    step = f", step {result.current_step}" if result.current_step else ""
    click.echo(f"{result.action}: folder {result.folder_id} is {result.status}{step}")


@sign.command()
@book_dir_option
@home_option
@actor_option
@on_behalf_option
@click.option("--comment")
@click.argument("folder")
def approve(
    book_dir: Path,
    home: BusHome,
    actor: ParticipantId,
    on_behalf_of: ParticipantId | None,
    comment: str | None,
    folder: str,
) -> None:
    """Give your visa on FOLDER's current visa step."""
    _result(_open(book_dir, home).approve(folder, actor, on_behalf_of=on_behalf_of, comment=comment))


@sign.command(name="sign")
@book_dir_option
@home_option
@actor_option
@on_behalf_option
@click.argument("folder")
def sign_(
    book_dir: Path, home: BusHome, actor: ParticipantId, on_behalf_of: ParticipantId | None, folder: str
) -> None:
    """Sign FOLDER's documents (XAdES, detached) with your key from --home."""
    signer = DetachedXadesSigner(SigningIdentity.from_home(home, actor))
    _result(_open(book_dir, home).sign_as(signer, folder, on_behalf_of=on_behalf_of))


@sign.command()
@book_dir_option
@home_option
@actor_option
@on_behalf_option
@click.option("--reason", required=True, help="why (mandatory; the submitter receives it)")
@click.argument("folder")
def reject(
    book_dir: Path,
    home: BusHome,
    actor: ParticipantId,
    on_behalf_of: ParticipantId | None,
    reason: str,
    folder: str,
) -> None:
    """Reject FOLDER: its circuit ends and the submitter is notified."""
    _result(_open(book_dir, home).reject(folder, actor, reason, on_behalf_of=on_behalf_of))


@sign.command()
@book_dir_option
@home_option
@actor_option
@click.option("--to", "substitute", required=True, metavar="PARTICIPANT_ID", callback=_participant)
@click.option("--from", "valid_from", default="now", show_default=True, metavar="TIME", callback=_moment)
@click.option("--until", "valid_until", required=True, metavar="TIME", callback=_moment)
@click.option("--reason")
def delegate(
    book_dir: Path,
    home: BusHome,
    actor: ParticipantId,
    substitute: ParticipantId,
    valid_from: datetime,
    valid_until: datetime,
    reason: str | None,
) -> None:
    """Let --to act in your place (visas, signatures "on behalf of" you) from --from until --until."""
    request = DelegateSignature(
        substitute=str(substitute), valid_from=valid_from, valid_until=valid_until, reason=reason
    )
    view = _open(book_dir, home).delegate(actor, request)
    click.echo(
        f"delegation: {view.delegation_id} {view.principal} -> {view.substitute} "
        f"from {view.valid_from:%Y-%m-%dT%H:%M:%SZ} until {view.valid_until:%Y-%m-%dT%H:%M:%SZ}"
    )


@sign.command()
@book_dir_option
@home_option
@actor_option
@click.argument("folder")
def undo(book_dir: Path, home: BusHome, actor: ParticipantId, folder: str) -> None:
    """Undo your last action on FOLDER, while the next step has not acted."""
    _result(_open(book_dir, home).undo(folder, actor))


@sign.command()
@book_dir_option
@home_option
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.argument("folder")
def export(book_dir: Path, home: BusHome, out: Path, folder: str) -> None:
    """Write the bundle (zip) of completed FOLDER to --out."""
    click.echo(f"bundle: {_open(book_dir, home).export_bundle(folder, out)}")


@sign.command()
@click.option("--ca-cert", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--crl", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="bus CRL (revocation)"
)
@click.option(
    "--tsa",
    "tsas",
    multiple=True,
    metavar="PARTICIPANT_ID",
    callback=lambda ctx, param, values: [_participant(ctx, param, v) for v in values] or None,
    help="accepted timestamp authority (repeatable; default: the one the sealed manifest names)",
)
@click.option("--at", "at", metavar="TIME", callback=_moment, help="judge B-B signatures at this time")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def verify(
    ca_cert: Path,
    crl: Path | None,
    tsas: list[ParticipantId] | None,
    at: datetime | None,
    as_json: bool,
    bundle: Path,
) -> None:
    """Verify BUNDLE offline against the bus CA (exit 0 valid, exit 1 with the broken rule otherwise)."""
    report = verify_bundle(bundle, ca_cert, crl, timestamp_authorities=tsas, at=at)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f'VALID: folder {report.folder} ({report.business_type}) "{report.title}"')
    click.echo(
        f"  submitter {report.submitter}, book {report.book}, completed {report.completed_at:%Y-%m-%dT%H:%M:%SZ}"
    )
    for document in report.documents:
        click.echo(f"  document {document.name} sha256:{document.sha256}")
    for s in report.signatures:
        by = f" on behalf of {s.on_behalf_of}" if s.on_behalf_of else ""
        stamp = (
            f", timestamp {s.timestamp_time:%Y-%m-%dT%H:%M:%SZ} by {s.timestamp_authority}"
            if s.timestamp_time
            else ""
        )
        click.echo(f"  step {s.step}: signed by {s.signatory}{by} ({s.level}{stamp})")
    click.echo(f"  seal: {report.seal_level}, {report.history_entries} history entries")
    if not report.revocation_checked:
        click.echo("  revocation NOT checked: give --crl to check it")


if __name__ == "__main__":
    sign()
