"""``govbus storage``: the schema versions of a participant's stores, and upgrading them.

``govbus storage migrate --as PARTICIPANT [--storage URL]`` upgrades the participant's message log to the
newest schema revision (Alembic, ``bus.audit.migrate``), in its directory under ``sqlite:`` or in its
schema under ``postgresql://...``; run it on one host, with the new release installed, before starting
the workers of that release. ``govbus storage status`` prints the revision each store is at.
"""

from __future__ import annotations

from pathlib import Path

import click

from bus.audit.connection import PostgresLocation
from bus.audit.migrate import head_revision, log_revision, migrate_log
from bus.cli.errors import group
from bus.cli.options import as_option, home_option
from bus.ids import ParticipantId
from bus.pki.home import BusHome
from sdk.messagelog import LOG_FILE
from sdk.storage import STORAGE_ENV, StorageError, resolve_storage_url, schema_name


@group(refusals=(StorageError,))
def storage() -> None:
    """Schema versions of a participant's stores (SQLite or PostgreSQL)."""


storage_option = click.option(
    "--storage",
    envvar=STORAGE_ENV,
    default="sqlite:",
    show_default=True,
    help="where the participant's stores live: sqlite: or postgresql://USER@HOST:PORT/DATABASE",
)


def _log_location(home: BusHome, participant: ParticipantId, url: str) -> Path | PostgresLocation:
    if url.lower().startswith("sqlite"):
        path = home.participant_dir(participant) / LOG_FILE
        if not path.is_file():
            raise click.UsageError(f"{participant} has no message log at {path}")
        return path
    return PostgresLocation(url, schema_name(str(participant), LOG_FILE))


@storage.command(short_help="Upgrade a participant's stores to the newest schema.")
@home_option
@as_option(name="participant", parse=True, help="whose stores")
@storage_option
def migrate(home: BusHome, participant: ParticipantId, storage: str) -> None:
    """Upgrade PARTICIPANT's message log to the newest schema revision (a no-op when it is there)."""
    where = _log_location(home, participant, resolve_storage_url(storage))
    before, after = migrate_log(where)
    if before == after:
        click.echo(f"message log ({where}): at revision {after}, nothing to do")
    else:
        click.echo(f"message log ({where}): revision {before or 'unversioned'} -> {after}")


@storage.command(short_help="The schema revision of a participant's stores.")
@home_option
@as_option(name="participant", parse=True, help="whose stores")
@storage_option
def status(home: BusHome, participant: ParticipantId, storage: str) -> None:
    """Print the revision PARTICIPANT's message log is at, and the newest this govbus knows."""
    where = _log_location(home, participant, resolve_storage_url(storage))
    current = log_revision(where)
    head = head_revision()
    state = "up to date" if current == head else "run govbus storage migrate"
    click.echo(f"message log ({where}): revision {current or 'unversioned'}, newest {head}: {state}")
