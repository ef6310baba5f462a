"""``govbus audit``: verify, search and show a participant's message log; export and verify evidence
bundles; archive old records; sign and anchor checkpoints.

LOG is a log file (``messages.sqlite`` or a sealed archive), a participant's directory, a bus home
(then ``--as PARTICIPANT``, or the single participant that has a log), or a PostgreSQL storage URL with
``--as PARTICIPANT``: that participant's log is copied, in one snapshot, to a temporary log file that the
command reads (``govbus audit copy`` keeps such a copy). Trust comes from ``--home`` /
``$GOVBUS_HOME`` (its CA certificate and CRL) or ``--ca-cert`` [``--crl``]; a bus home given as LOG
serves when neither is given.

Exit codes of ``verify`` and ``verify-bundle``: 0 verified; 1 tampering or invalid; 2 usage error
(bad option, missing file); 3 internal error; 4 (verify) everything present verified but linked archive
files are missing. The other commands exit 0 on success, 1 on failure, 2 on usage errors.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import lxml.etree as etree

from bus.audit import store
from bus.audit.anchor import AnchorStore, checkpoint_payload
from bus.audit.archive import archive_log
from bus.audit.bundle import export_bundle, verify_bundle
from bus.audit.connection import PostgresLocation
from bus.audit.evidence import Evidence, gather
from bus.audit.export import export_postgres_log, postgres_location
from bus.audit.log import MessageLog
from bus.audit.query import SearchFilter, search
from bus.audit.record import Direction, Outcome, Record
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify import VerificationReport, count_records, verify_log
from bus.cli import options
from bus.cli.errors import EXIT_FAULT, EXIT_INCOMPLETE, EXIT_OK, group
from bus.cli.text import printable
from bus.envelope import EnvelopeVerifier, MessageKind
from bus.envelope.model import format_timestamp
from bus.ids import ParticipantId
from bus.pki import SigningIdentity
from bus.pki.home import HOME_ENV, BusHome


@group()
def audit() -> None:
    """Verify and search message logs, export and verify evidence bundles, archive old records."""


home_option = options.home_option(required=False, help="bus home: its CA certificate and CRL, and keys")
as_option = options.as_option(name="participant", required=False, help="whose log, when LOG is a bus home")
ca_option = click.option(
    "--ca-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the bus CA certificate (PEM) to trust, instead of the home's",
)
crl_option = click.option(
    "--crl",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the CRL (PEM) to check revocation",
)
json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output")


def exit_code(report: VerificationReport) -> int:
    """``govbus audit verify``'s exit code: 0 verified, 1 invalid, 4 verified but archives missing."""
    if not report.ok:
        return EXIT_FAULT
    return EXIT_INCOMPLETE if report.incomplete else EXIT_OK


def _is_bus_home(path: Path) -> bool:
    return (path / "participants").is_dir() or (path / "ca").is_dir()


def is_postgres_url(value: str) -> bool:
    return value.lower().startswith(("postgresql://", "postgres://"))


def _postgres_copy(url: str, participant: str | None) -> Path:
    """A temporary SQLite copy of ``participant``'s PostgreSQL log, removed when the command ends."""
    if participant is None:
        raise click.BadParameter("a PostgreSQL URL needs --as PARTICIPANT", param_hint="LOG")
    folder = Path(tempfile.mkdtemp(prefix="govbus-audit-"))
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(lambda: shutil.rmtree(folder, ignore_errors=True))
    pid = str(ParticipantId.parse(participant))
    return export_postgres_log(postgres_location(url, pid), folder / store.LOG_FILENAME)


def resolve_log(value: str, participant: str | None) -> Path:
    """The log file LOG designates (a file, a participant directory, a bus home, or a PostgreSQL URL)."""
    if is_postgres_url(value):
        return _postgres_copy(value, participant)
    path = Path(value)
    if path.is_file():
        return path
    if not path.is_dir():
        raise click.BadParameter(f"{value}: no such file or directory", param_hint="LOG")
    if (path / store.LOG_FILENAME).is_file():
        return path / store.LOG_FILENAME
    if not _is_bus_home(path):
        raise click.BadParameter(
            f"{value} holds no {store.LOG_FILENAME} and is not a bus home", param_hint="LOG"
        )
    home = BusHome.at(path)
    if participant is not None:
        candidate = home.participant_dir(ParticipantId.parse(participant)) / store.LOG_FILENAME
        if not candidate.is_file():
            raise click.BadParameter(f"{participant} has no message log in {home.root}", param_hint="LOG")
        return candidate
    found = sorted((home.root / "participants").glob(f"*/{store.LOG_FILENAME}"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise click.BadParameter(f"no participant in {home.root} has a message log", param_hint="LOG")
    names = ", ".join(p.parent.name.replace("+", "/") for p in found)
    raise click.BadParameter(
        f"several participants have a log ({names}): pass --as PARTICIPANT", param_hint="LOG"
    )


def resolve_trust(
    home: BusHome | None, ca_cert: Path | None, crl: Path | None, log_values: tuple[str, ...] = ()
) -> TrustFiles:
    """The CA certificate and CRL to verify with, or a usage error when none is given."""
    if ca_cert is not None:
        return TrustFiles(ca_cert, crl)
    if home is None:
        for value in log_values:
            if Path(value).is_dir() and _is_bus_home(Path(value)):
                home = BusHome.at(value)
                break
    if home is None:
        raise click.UsageError(f"give --home DIR, set ${HOME_ENV}, or give --ca-cert PEM")
    if not home.ca_cert.is_file():
        raise click.UsageError(f"no CA certificate at {home.ca_cert}")
    files = TrustFiles.from_home(home)
    return TrustFiles(files.ca_cert, crl) if crl is not None else files


def _identity_home(home: BusHome | None, log_value: str) -> BusHome:
    if home is not None:
        return home
    if Path(log_value).is_dir() and _is_bus_home(Path(log_value)):
        return BusHome.at(log_value)
    raise click.UsageError(f"the participant's key is needed: give --home DIR or set ${HOME_ENV}")


def _writable(value: str, path: Path, meta: store.LogMeta) -> Path | PostgresLocation:
    """Where to write to the log LOG designates: its file, or (for a PostgreSQL URL) the log itself, never
    the temporary copy ``path`` the readers use."""
    return postgres_location(value, meta.participant) if is_postgres_url(value) else path


def _meta(path: Path) -> store.LogMeta:
    conn = store.connect(path, readonly=True)
    try:
        return store.read_meta(conn, path)
    finally:
        conn.close()


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            "give an ISO 8601 date or time such as 2026-11-21 or 2026-11-21T10:00:00Z", param_hint=name
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _show_progress(flag: bool | None) -> bool:
    return flag if flag is not None else sys.stderr.isatty()


@audit.command(short_help="Verify a log: chain, checkpoints, envelopes, anchors.")
@click.argument("logs", nargs=-1, required=True, metavar="LOG [ARCHIVE]...")
@as_option
@home_option
@ca_option
@crl_option
@click.option(
    "--anchors",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the audit participant's anchor store: every checkpoint anchored for this log must match it",
)
@click.option("--no-archives", is_flag=True, help="do not verify the archive files the live log lists")
@click.option(
    "--no-signatures",
    is_flag=True,
    help="quick check: chain, checkpoints and anchors only, not the stored envelopes' signatures",
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="processes verifying envelopes"
)
@click.option(
    "--progress/--no-progress", default=None, help="progress bar on stderr (default: when it is a terminal)"
)
@json_option
def verify(
    logs: tuple[str, ...],
    participant: str | None,
    home: BusHome | None,
    ca_cert: Path | None,
    crl: Path | None,
    anchors: Path | None,
    no_archives: bool,
    no_signatures: bool,
    jobs: int,
    progress: bool | None,
    as_json: bool,
) -> None:
    """Verify a message log: its hash chain, every checkpoint signature, every stored envelope signature
    (at its recorded time), and the anchors; name the first broken record.

    Exit 0 verified, 1 tampering or invalid, 2 usage error, 3 internal error, 4 archives missing.
    """
    paths = [resolve_log(value, participant) for value in logs]
    trust = resolve_trust(home, ca_cert, crl, logs)
    anchored = []
    if anchors is not None:
        with AnchorStore.read(anchors) as anchor_store:
            anchored = anchor_store.checkpoints()
    checks: dict[str, Any] = {
        "anchors": anchored,
        "include_archives": not no_archives,
        "signatures": not no_signatures,
        "jobs": jobs,
    }
    if _show_progress(progress):
        total = count_records(paths, include_archives=not no_archives)
        with click.progressbar(length=total, label="verifying", file=sys.stderr) as bar:
            report = verify_log(paths, trust, progress=bar.update, **checks)
    else:
        report = verify_log(paths, trust, **checks)
    if as_json:
        result = report.as_json()
        click.echo(
            json.dumps({**result, "exit_code": exit_code(report), "ca_cert": str(trust.ca_cert)}, indent=2)
        )
    else:
        _print_report(report, trust)
    sys.exit(exit_code(report))


def _print_report(report: VerificationReport, trust: TrustFiles) -> None:
    echo = click.echo
    echo(f"log:          {', '.join(report.files) or '-'}")
    echo(f"trust:        CA certificate {trust.ca_cert}" + (f", CRL {trust.crl}" if trust.crl else ""))
    echo(f"participant:  {report.participant}   log id: {report.log_id}")
    if report.last_seq is not None and report.first_seq is not None:
        echo(f"records:      {report.first_seq}..{report.last_seq} ({report.records} read)")
    covered = f", signed up to record {report.covered_seq}" if report.covered_seq is not None else ""
    echo(f"checkpoints:  {report.checkpoints_valid} of {report.checkpoints} valid{covered}")
    if report.uncovered:
        echo(
            f"              {report.uncovered} record(s) after the last valid checkpoint: chained, not yet signed"
        )
    if report.signatures_checked:
        echo(
            f"envelopes:    {report.envelopes_verified} signature(s) verified at their recorded time; "
            f"{_unverified_text(report)}"
        )
    else:
        echo(f"envelopes:    {report.signatures_skipped} signature(s) NOT checked (--no-signatures)")
    if report.metadata_only:
        echo(
            f"              {report.metadata_only} metadata-only record(s): no payload stored, "
            "their envelope signature cannot be re-checked"
        )
    if not report.revocation_checked:
        echo("revocation:   NOT checked (no CRL given)")
    if report.anchors_checked:
        echo(f"anchors:      {report.anchors_checked} anchored checkpoint(s) compared")
    for missing in report.missing_archives:
        echo(f"missing:      archive {missing}")
    for warning in report.warnings:
        echo(f"note:         {warning}")
    first = report.first_problem
    if first is not None:
        where = f"record {first.seq}" if first.seq is not None else "log"
        echo(f"FIRST BROKEN: {where}: {first.kind}: {first.message}")
        for problem in sorted(report.problems, key=lambda p: (p.seq is None, p.seq or 0))[:50]:
            at = f"record {problem.seq}" if problem.seq is not None else "-"
            echo(f"  {at}: {problem.kind}: {problem.message}")
        if len(report.problems) > 50:
            echo(f"  ... and {len(report.problems) - 50} more (use --json for all)")
    result = {"ok": "OK", "invalid": "INVALID", "incomplete": "INCOMPLETE (archives missing)"}[report.result]
    echo(f"result:       {result}")


def _unverified_text(report: VerificationReport) -> str:
    truncated = f" ({report.truncated} cut at the size cap)" if report.truncated else ""
    return f"{report.unverified_checked} rejected/failed record(s) checked as recorded{truncated}"


@audit.command(name="search", short_help="List records by service, client, time, kind, outcome.")
@click.argument("log", metavar="LOG")
@as_option
@click.option("--service", metavar="SERVICE_ID")
@click.option("--client", metavar="PARTICIPANT_ID")
@click.option("--since", metavar="TIME", help="recorded at or after (ISO 8601, UTC unless said)")
@click.option("--until", metavar="TIME", help="recorded before")
@click.option("--kind", type=click.Choice([k.value for k in MessageKind]))
@click.option("--outcome", type=click.Choice([o.value for o in Outcome]))
@click.option("--direction", type=click.Choice([d.value for d in Direction]))
@click.option("--id", "message_id", metavar="MESSAGE_ID")
@click.option("--limit", type=click.IntRange(min=1))
@json_option
def search_command(
    log: str,
    participant: str | None,
    service: str | None,
    client: str | None,
    since: str | None,
    until: str | None,
    kind: str | None,
    outcome: str | None,
    direction: str | None,
    message_id: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List the records matching every criterion given (nothing is verified: use verify or show)."""
    path = resolve_log(log, participant)
    start, end = _moment(since, "--since"), _moment(until, "--until")
    criteria = SearchFilter(
        service=service,
        client=client,
        since=format_timestamp(start) if start else None,
        until=format_timestamp(end) if end else None,
        kind=kind,
        outcome=outcome,
        direction=direction,
        message_id=message_id,
    )
    conn = store.connect(path, readonly=True)
    try:
        store.read_meta(conn, path)
        found = 0
        if not as_json:
            click.echo(
                f"{'SEQ':>8}  {'RECORDED':<24}  {'DIR':<3}  {'OUTCOME':<19}  {'KIND':<12}  {'ID':<36}  CLIENT -> SERVICE"
            )
        for record in search(conn, criteria, limit=limit):
            found += 1
            click.echo(json.dumps(record.as_json()) if as_json else _line(record))
    finally:
        conn.close()
    if not as_json and not found:
        click.echo("no matching record")


def _line(record: Record) -> str:
    fault = f"  [{record.fault_code}]" if record.fault_code else ""
    if record.header_origin == "unverified":
        fault += "  (header as claimed, unverified)"
    return (
        f"{record.seq:>8}  {record.recorded_at:<24}  {record.direction:<3}  {record.outcome:<19}  "
        f"{printable(record.kind or '?'):<12}  {printable(record.message_id or '?'):<36}  "
        f"{printable(record.client or '?')} -> {printable(record.service or '?')}{printable(fault)}"
    )


@audit.command(short_help="Show a message's exchange, each record with its status.")
@click.argument("log", metavar="LOG")
@click.argument("message_id", metavar="MESSAGE_ID")
@as_option
@home_option
@ca_option
@crl_option
@json_option
def show(
    log: str,
    message_id: str,
    participant: str | None,
    home: BusHome | None,
    ca_cert: Path | None,
    crl: Path | None,
    as_json: bool,
) -> None:
    """Show the request, response, receipts and faults of MESSAGE_ID, each with its verification status,
    and the signed checkpoint that covers them. Exit 0 when nothing is wrong, 1 otherwise."""
    path = resolve_log(log, participant)
    trust = resolve_trust(home, ca_cert, crl, (log,))
    evidence = _gather(path, message_id, trust)
    if as_json:
        click.echo(json.dumps(_evidence_json(evidence), indent=2))
    else:
        _print_evidence(evidence)
    sys.exit(0 if evidence.ok else 1)


def _gather(path: Path, message_id: str, trust: TrustFiles | None) -> Evidence:
    conn = store.connect(path, readonly=True)
    try:
        return gather(conn, store.read_meta(conn, path), message_id, trust)
    finally:
        conn.close()


def _evidence_json(evidence: Evidence) -> dict[str, Any]:
    proof = evidence.proof
    return {
        "message": evidence.message_id,
        "participant": evidence.meta.participant,
        "log": evidence.meta.log_id,
        "ok": evidence.ok,
        "records": [
            {
                **item.record.as_json(),
                "hash_ok": item.hash_ok,
                "bytes_ok": item.bytes_ok,
                "envelope": str(item.envelope),
                "detail": item.detail,
            }
            for item in evidence.records
        ],
        "checkpoint": (
            {
                "sequence": proof.checkpoint.seq,
                "time": proof.checkpoint.time,
                "signer": evidence.checkpoint_signer,
            }
            if proof is not None
            else None
        ),
        "not_covered": evidence.not_covered,
        "chain_problems": evidence.chain_problems,
    }


def _print_evidence(evidence: Evidence) -> None:
    click.echo(
        f"message {evidence.message_id} in the log of {evidence.meta.participant} ({evidence.meta.log_id})"
    )
    for item in evidence.records:
        click.echo(_line(item.record))
        stored = (
            "bytes ok"
            if item.bytes_ok
            else ("BYTES CHANGED" if item.bytes_ok is False else "no bytes stored")
        )
        hashed = "record hash ok" if item.hash_ok else "RECORD HASH BROKEN"
        click.echo(f"{'':>10}{hashed}; {stored}; envelope: {item.envelope} ({item.detail})")
    proof = evidence.proof
    if proof is not None:
        signer = evidence.checkpoint_signer or "signature not checked"
        state = "holds" if not evidence.chain_problems else "BROKEN"
        click.echo(
            f"chain: {state}, up to the checkpoint at record {proof.checkpoint.seq} ({proof.checkpoint.time}, {signer})"
        )
    elif evidence.not_covered:
        click.echo(f"chain: {evidence.not_covered}")
    for problem in evidence.chain_problems:
        click.echo(f"  problem: {problem}")
    click.echo(f"result: {'OK' if evidence.ok else 'INVALID'}")


@audit.command(short_help="Write an evidence bundle that verifies offline.")
@click.argument("log", metavar="LOG")
@click.argument("message_id", metavar="MESSAGE_ID")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="bundle.zip"
)
@as_option
@home_option
@ca_option
@crl_option
@click.option(
    "--checkpoint/--no-checkpoint",
    default=True,
    show_default=True,
    help="sign a checkpoint with the participant's key when none covers the records yet",
)
def export(
    log: str,
    message_id: str,
    output: Path,
    participant: str | None,
    home: BusHome | None,
    ca_cert: Path | None,
    crl: Path | None,
    checkpoint: bool,
) -> None:
    """Write an evidence bundle for MESSAGE_ID that verifies offline (govbus audit verify-bundle, xmlsec1)."""
    path = resolve_log(log, participant)
    trust = resolve_trust(home, ca_cert, crl, (log,))
    evidence = _gather(path, message_id, trust)
    if evidence.proof is None and evidence.not_covered and checkpoint:
        meta = _meta(path)
        identity = SigningIdentity.from_home(_identity_home(home, log), meta.participant)
        with MessageLog.open(_writable(log, path, meta), identity=identity, checkpoint_every=None) as writer:
            writer.checkpoint()
        if is_postgres_url(log):
            path = resolve_log(log, participant)  # a fresh copy, with the new checkpoint
        evidence = _gather(path, message_id, trust)
    names = export_bundle(evidence, output, trust=trust)
    click.echo(f"bundle: {output} ({len(names)} files, {len(evidence.records)} record(s))")
    click.echo(f"verify: govbus audit verify-bundle {output} --ca-cert CA-CERT.pem")


@audit.command(name="verify-bundle", short_help="Verify an evidence bundle offline.")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="BUNDLE.zip")
@home_option
@ca_option
@crl_option
@json_option
def verify_bundle_command(
    bundle: Path, home: BusHome | None, ca_cert: Path | None, crl: Path | None, as_json: bool
) -> None:
    """Verify an evidence bundle offline: files, checkpoint signature, chain proof, envelope signatures.

    Trust: --ca-cert (or --home); without them the bundle's own CA certificate, with a warning.
    Exit 0 verified, 1 invalid, 2 usage error.
    """
    trust: TrustFiles | None = None
    if ca_cert is not None or (home is not None and home.ca_cert.is_file()):
        trust = resolve_trust(home, ca_cert, crl)
    report = verify_bundle(bundle, trust)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        click.echo(f"bundle:      {bundle}")
        click.echo(f"message:     {report.message_id} in the log of {report.participant} ({report.log_id})")
        click.echo(
            f"records:     {report.records}; envelope signatures verified: {report.envelopes_verified}; "
            f"checkpoint at record {report.checkpoint_seq}"
        )
        for warning in report.warnings:
            click.echo(f"note:        {warning}")
        for problem in report.problems:
            click.echo(f"PROBLEM:     {problem}")
        click.echo(f"result:      {'OK' if report.ok else 'INVALID'}")
    sys.exit(EXIT_OK if report.ok else EXIT_FAULT)


@audit.command(short_help="Move old records into a sealed archive linked to the log.")
@click.argument("log", metavar="LOG")
@click.option(
    "--before", required=True, metavar="DATE", help="archive records recorded before this time (UTC)"
)
@as_option
@home_option
@ca_option
@crl_option
@click.option("--to", "directory", type=click.Path(file_okay=False, path_type=Path), help="archive directory")
def archive(
    log: str,
    before: str,
    participant: str | None,
    home: BusHome | None,
    ca_cert: Path | None,
    crl: Path | None,
    directory: Path | None,
) -> None:
    """Move the records recorded before DATE into a sealed archive file linked to the live log.

    The live log is verified first; the participant's key signs the sealing checkpoint. Keep the archive
    beside the log (or pass it to verify) so that 'govbus audit verify' checks both together.
    """
    if is_postgres_url(log):
        raise click.BadParameter(
            "a log kept in PostgreSQL is not split into archive files: keep 'govbus audit copy' snapshots",
            param_hint="LOG",
        )
    path = resolve_log(log, participant)
    trust = resolve_trust(home, ca_cert, crl, (log,))
    moment = _moment(before, "--before")
    assert moment is not None
    identity = SigningIdentity.from_home(_identity_home(home, log), _meta(path).participant)
    result = archive_log(path, moment, identity=identity, trust=trust, directory=directory)
    if result is None:
        click.echo(f"nothing recorded before {format_timestamp(moment)} is left to archive")
        return
    click.echo(f"archive: {result.path} (records {result.first_seq}..{result.last_seq})")
    click.echo(f"sealed by the checkpoint at record {result.checkpoint.seq} ({result.checkpoint.time})")


@audit.command(short_help="Sign a checkpoint of the log's head now.")
@click.argument("log", metavar="LOG")
@as_option
@home_option
@click.option(
    "-o",
    "--payload",
    type=click.Path(dir_okay=False, path_type=Path),
    help="also write the anchoring payload (audit:Checkpoint XML) to send to the audit participant",
)
def checkpoint(log: str, participant: str | None, home: BusHome | None, payload: Path | None) -> None:
    """Sign a checkpoint of the log's head now with the participant's key (needs --home)."""
    path = resolve_log(log, participant)
    meta = _meta(path)
    identity = SigningIdentity.from_home(_identity_home(home, log), meta.participant)
    with MessageLog.open(_writable(log, path, meta), identity=identity, checkpoint_every=None) as writer:
        made = writer.checkpoint()
    click.echo(f"checkpoint: record {made.seq}, head {made.head}, {made.time}, signed by {made.participant}")
    if payload is not None:
        payload.write_bytes(etree.tostring(checkpoint_payload(made), encoding="UTF-8", xml_declaration=True))
        click.echo(f"payload: {payload}")


@audit.command(short_help="Audit participant: keep a checkpoint a participant sent.")
@click.argument("anchors", type=click.Path(dir_okay=False, path_type=Path), metavar="ANCHORS.sqlite")
@click.argument(
    "envelope_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="ENVELOPE"
)
@home_option
@ca_option
@crl_option
def anchor(
    anchors: Path, envelope_file: Path, home: BusHome | None, ca_cert: Path | None, crl: Path | None
) -> None:
    """Audit participant: verify an envelope carrying a checkpoint and keep it in the anchor store.

    Exit 1 when the envelope or checkpoint is refused, or when it contradicts an earlier anchor.
    """
    trust = resolve_trust(home, ca_cert, crl).store()
    verified = EnvelopeVerifier(trust).verify(envelope_file.read_bytes())
    with AnchorStore.open(anchors, trust) as anchor_store:
        anchored = anchor_store.accept_envelope(verified)
    made = anchored.checkpoint
    click.echo(f"{anchored.status}: {made.participant} log {made.log_id} record {made.seq} head {made.head}")
    if anchored.conflicts_with is not None:
        click.echo(
            f"CONFLICT: record {made.seq} was anchored before with head {anchored.conflicts_with.head}",
            err=True,
        )
        sys.exit(1)


@audit.command(name="copy", short_help="Copy a PostgreSQL message log to a log file.")
@click.argument("url", metavar="URL")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT")
@as_option
def copy_command(url: str, out: Path, participant: str | None) -> None:
    """Copy PARTICIPANT's message log from the PostgreSQL database at URL, in one consistent snapshot,
    to the new SQLite log file OUT (the offline format every ``govbus audit`` command and an auditor read).
    """
    if not is_postgres_url(url):
        raise click.BadParameter("expected postgresql://USER@HOST:PORT/DATABASE", param_hint="URL")
    if participant is None:
        raise click.UsageError("give --as PARTICIPANT: whose log to copy")
    location = postgres_location(url, str(ParticipantId.parse(participant)))
    export_postgres_log(location, out)
    conn = store.connect(out, readonly=True)
    try:
        last = store.last_record(conn)
    finally:
        conn.close()
    head = f"record {last.seq}, chain hash {last.hash}" if last is not None else "no records"
    click.echo(f"copied {location} to {out}: {head}")
