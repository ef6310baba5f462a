"""``govbus sign``: the signature book from the command line, over the bus.

Every command but ``init`` and ``verify`` is one signed call (or a few) to a running book
(``govbus run teleservices.signature_book:app``) as participant ``--as``, whose key is in ``--home``:
the book acts for the verified signer, never for a name on the command line. ``sign`` signs locally with
that key and sends only the signature. ``init`` writes a book's configuration before its first start;
``verify`` checks a bundle offline. Refusals print one line, ``CODE: reason``, and exit with status 1 (the
govbus CLI kit, ``sdk.cli``).
"""

from __future__ import annotations

import functools
import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from sdk import Client, Payload, RequestReply, configure_logging
from sdk.cli import as_option, broker_option, group, home_option, prefix_option
from teleservices.signature_book._bus import BusHome, Fault, ParticipantId, SigningIdentity
from teleservices.signature_book.bundle import verify_bundle
from teleservices.signature_book.circuit import Circuit
from teleservices.signature_book.config import BookConfig
from teleservices.signature_book.contract import (
    APPROVE,
    BUNDLE,
    DELEGATE,
    DOCUMENT,
    LIST,
    REJECT,
    SHOW,
    SUBMIT,
    UNDO,
)
from teleservices.signature_book.errors import SignatureBookError
from teleservices.signature_book.models import (
    ActionResult,
    ApproveFolder,
    CircuitStep,
    DelegateSignature,
    DocumentUpload,
    FolderStatusName,
    FolderView,
    GetBundle,
    GetDocument,
    ListFolders,
    MetadataEntry,
    QuorumName,
    RejectFolder,
    ShowFolder,
    StepKindName,
    SubmitFolder,
    UndoAction,
)
from teleservices.signature_book.service import BOOK_ID_ENV, DEFAULT_BOOK_ID, book_directory
from teleservices.signature_book.signatory import sign_folder
from teleservices.signature_book.times import utc_now
from teleservices.signature_book.xades import DetachedXadesSigner

ACTOR_ENV = "GOVBUS_ACTOR"

R = TypeVar("R", bound=Payload)


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


book_option = click.option(
    "--book",
    envvar=BOOK_ID_ENV,
    default=DEFAULT_BOOK_ID,
    show_default=True,
    metavar="PARTICIPANT_ID",
    callback=_participant,
    help=f"the signature book (env {BOOK_ID_ENV})",
)


@dataclass(frozen=True)
class BookLine:
    """Who calls which book on which bus."""

    home: BusHome
    actor: ParticipantId
    book: ParticipantId
    broker: str
    prefix: str
    timeout: float

    def client(self) -> Client:
        return Client(self.actor, home=self.home.root, broker=self.broker, prefix=self.prefix)

    def call(self, contract: RequestReply[Any, R], request: Payload) -> R:
        with self.client() as client:
            return client.call(self.book, contract, request, timeout=self.timeout)


def over_the_bus(function: Callable[..., None]) -> Callable[..., None]:
    """Add the options of a call to the book and pass them to ``function`` as one ``BookLine``."""

    @functools.wraps(function)
    def command(
        *,
        home: BusHome,
        actor: ParticipantId,
        book: ParticipantId,
        broker: str,
        prefix: str,
        timeout: float,
        **arguments: Any,
    ) -> None:
        function(BookLine(home, actor, book, broker, prefix, timeout), **arguments)

    options = [
        home_option,
        as_option(
            name="actor",
            parse=True,
            envvar=ACTOR_ENV,
            help="the participant acting, whose key is in --home",
        ),
        book_option,
        broker_option,
        prefix_option,
        click.option(
            "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="seconds"
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def on_behalf_option(function: Any) -> Any:
    return click.option(
        "--on-behalf-of",
        "on_behalf_of",
        metavar="PARTICIPANT_ID",
        callback=_participant,
        help="act as substitute for this signatory (under its delegation)",
    )(function)


def _text(participant: ParticipantId | None) -> str | None:
    return str(participant) if participant is not None else None


@group(refusals=(SignatureBookError,))
def sign() -> None:
    """Electronic signature book: folders through visa and signature circuits, verifiable bundles."""
    configure_logging("WARNING")


@sign.command()
@home_option
@book_option
@click.option("--tsa", metavar="PARTICIPANT_ID", callback=_participant, help="timestamp authority (B-T)")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="JSON with businessTypes and their circuit templates (see docs/signature_book.md)",
)
def init(home: BusHome, book: ParticipantId, tsa: ParticipantId | None, config_file: Path | None) -> None:
    """Write the configuration of --book in its directory under --home, before the book's first start."""
    data: dict[str, Any] = {}
    if config_file is not None:
        data = json.loads(config_file.read_text(encoding="utf-8"))
    data["book"] = str(book)
    if tsa is not None:
        data["timestampAuthority"] = str(tsa)
    directory = book_directory(home.participant_dir(book))
    click.echo(f"config: {BookConfig.from_json(data).save(directory)}")


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


def _pair(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r}: expected KEY=VALUE", param_hint=option)
    return key, value


@sign.command()
@over_the_bus
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
    line: BookLine,
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
    view = line.call(SUBMIT, request)
    click.echo(f"folder: {view.folder_id}")
    _print_view(view, brief=True)


@sign.command()
@over_the_bus
@click.argument("folder", required=False)
@click.option(
    "--awaiting", metavar="PARTICIPANT_ID", callback=_participant, help="list folders waiting for it"
)
@click.option("--status", type=click.Choice([s.value for s in FolderStatusName]))
@click.option("--xml", "as_xml", is_flag=True, help="print the contract's XML")
def show(
    line: BookLine, folder: str | None, awaiting: ParticipantId | None, status: str | None, as_xml: bool
) -> None:
    """Show FOLDER (documents, circuit, history), or list the folders --as may see."""
    if folder is None:
        listing = line.call(
            LIST,
            ListFolders(awaiting=_text(awaiting), status=FolderStatusName(status) if status else None),
        )
        if as_xml:
            click.echo(listing.to_xml(pretty_print=True).decode())
            return
        for item in listing.folders:
            step = f"step {item.current_step}" if item.current_step else "-"
            click.echo(
                f"{item.folder_id}  {item.status:<11}  {step:<7}  {item.business_type:<12}  {item.title}"
            )
        return
    view = line.call(SHOW, ShowFolder(folder_id=folder))
    if as_xml:
        click.echo(view.to_xml(pretty_print=True).decode())
        return
    _print_view(view)


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


def _result(result: ActionResult) -> None:
    step = f", step {result.current_step}" if result.current_step else ""
    click.echo(f"{result.action}: folder {result.folder_id} is {result.status}{step}")


@sign.command()
@over_the_bus
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="default: NAME")
@click.argument("folder")
@click.argument("name")
def document(line: BookLine, out: Path | None, folder: str, name: str) -> None:
    """Save document NAME of FOLDER (to read it before a visa or a signature)."""
    content = line.call(DOCUMENT, GetDocument(folder_id=folder, name=name))
    target = out or Path(content.name)
    target.write_bytes(content.content)
    click.echo(f"document: {target} sha256:{content.sha256}")


@sign.command()
@over_the_bus
@on_behalf_option
@click.option("--comment")
@click.argument("folder")
def approve(line: BookLine, on_behalf_of: ParticipantId | None, comment: str | None, folder: str) -> None:
    """Give your visa on FOLDER's current visa step."""
    request = ApproveFolder(folder_id=folder, on_behalf_of=_text(on_behalf_of), comment=comment)
    _result(line.call(APPROVE, request))


@sign.command(name="sign")
@over_the_bus
@on_behalf_option
@click.argument("folder")
def sign_(line: BookLine, on_behalf_of: ParticipantId | None, folder: str) -> None:
    """Sign FOLDER's documents (detached XAdES) with your key from --home; only the signature travels."""
    signer = DetachedXadesSigner(SigningIdentity.from_home(line.home, line.actor))
    with line.client() as client:
        result = sign_folder(
            client, line.book, signer, folder, on_behalf_of=on_behalf_of, timeout=line.timeout
        )
    _result(result)


@sign.command()
@over_the_bus
@on_behalf_option
@click.option("--reason", required=True, help="why (mandatory; the submitter receives it)")
@click.argument("folder")
def reject(line: BookLine, on_behalf_of: ParticipantId | None, reason: str, folder: str) -> None:
    """Reject FOLDER: its circuit ends and the submitter is notified."""
    request = RejectFolder(folder_id=folder, on_behalf_of=_text(on_behalf_of), reason=reason)
    _result(line.call(REJECT, request))


@sign.command()
@over_the_bus
@click.option("--to", "substitute", required=True, metavar="PARTICIPANT_ID", callback=_participant)
@click.option("--from", "valid_from", default="now", show_default=True, metavar="TIME", callback=_moment)
@click.option("--until", "valid_until", required=True, metavar="TIME", callback=_moment)
@click.option("--reason")
def delegate(
    line: BookLine,
    substitute: ParticipantId,
    valid_from: datetime,
    valid_until: datetime,
    reason: str | None,
) -> None:
    """Let --to act in your place (visas, signatures "on behalf of" you) from --from until --until."""
    request = DelegateSignature(
        substitute=str(substitute), valid_from=valid_from, valid_until=valid_until, reason=reason
    )
    view = line.call(DELEGATE, request)
    click.echo(
        f"delegation: {view.delegation_id} {view.principal} -> {view.substitute} "
        f"from {view.valid_from:%Y-%m-%dT%H:%M:%SZ} until {view.valid_until:%Y-%m-%dT%H:%M:%SZ}"
    )


@sign.command()
@over_the_bus
@click.argument("folder")
def undo(line: BookLine, folder: str) -> None:
    """Undo your last action on FOLDER, while the next step has not acted."""
    _result(line.call(UNDO, UndoAction(folder_id=folder)))


@sign.command()
@over_the_bus
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.argument("folder")
def export(line: BookLine, out: Path, folder: str) -> None:
    """Write the bundle (zip) of completed FOLDER to --out; check it with 'govbus sign verify'."""
    bundle = line.call(BUNDLE, GetBundle(folder_id=folder))
    out.write_bytes(bundle.content)
    click.echo(f"bundle: {out}")


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
