"""``python -m teleservices.access_tracker check SUBJECT --home DIR``: check a subject's tracker entries.

Reads the tracker's register in the bus home and checks every entry about SUBJECT against the
answering provider's message log there (``check_access``). Exit 0 when every entry checks, 1 when one
does not, 2 on a usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bus.audit.trustfiles import TrustFiles
from bus.envelope import DataSubject
from bus.faults import Fault
from bus.ids import ParticipantId
from bus.pki import BusHome
from teleservices.access_tracker.store import AccessRegister
from teleservices.access_tracker.tracker import PARTICIPANT
from teleservices.access_tracker.verify import check_access, provider_log


@click.group()
def main() -> None:
    """The access tracker's tools."""


@main.command()
@click.argument("subject")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="GOVBUS_HOME", required=True)
@click.option("--tracker", default=PARTICIPANT, show_default=True, help="the tracker participant")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def check(subject: str, home: Path, tracker: str, as_json: bool) -> None:
    """Check every access recorded about SUBJECT (CIN:... or ICE:...) against the providers' logs."""
    try:
        subject = str(DataSubject.parse(subject))
    except Fault as fault:
        raise click.BadParameter(fault.reason, param_hint="SUBJECT") from None
    bus_home = BusHome.at(home)
    directory = bus_home.participant_dir(ParticipantId.parse(tracker))
    if not (directory / AccessRegister.FILE_NAME).is_file():
        raise click.UsageError(f"{tracker} keeps no register in {home}")
    trust = TrustFiles.from_home(bus_home)
    with AccessRegister.open(directory) as register:
        entries = register.of_subject(subject)
    results = [
        (entry, check_access(entry, provider_log(bus_home, entry.provider), trust)) for entry in entries
    ]
    if as_json:
        rows = [
            {**entry.model_dump(mode="json"), "verified": result.ok, "detail": result.detail}
            for entry, result in results
        ]
        click.echo(json.dumps(rows, indent=2))
    else:
        for entry, result in results:
            mark = "✓" if result.ok else "✗"
            click.echo(
                f"{mark} {entry.accessed:%Y-%m-%d %H:%M} {entry.client} asked {entry.provider} "
                f"({entry.purpose!r}), message {entry.message_id}: {result.detail}"
            )
        click.echo(f"{len(results)} access(es) to {subject}")
    sys.exit(0 if all(result.ok for _, result in results) else 1)
