"""``govbus storage``: the schema versions of a participant's stores, and upgrading them.

``govbus storage migrate --as PARTICIPANT [--storage URL]`` upgrades every store the participant has (its
message log, and each versioned store declared under the ``govbus.stores`` entry points that exists in
its directory under ``sqlite:`` or as its schema under ``postgresql://...``) to the newest schema
revision, each in one transaction (Alembic, ``bus.schema_versions``). Run it on one host, with the new
release installed, before starting the workers of that release: a store at another revision refuses to
open. ``govbus storage status`` prints the revision each store is at, and the newest this govbus knows.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import click
import psycopg
from alembic.util import CommandError

from bus.audit.connection import PostgresLocation
from bus.audit.migrate import HISTORY as LOG_HISTORY
from bus.cli.errors import group
from bus.cli.options import as_option, home_option
from bus.ids import ParticipantId
from bus.pki.home import BusHome
from bus.schema_versions import SchemaHistory
from bus.sql import participant_prefix
from sdk.messagelog import LOG_FILE
from sdk.postgres import CONNECT_TIMEOUT_SECONDS
from sdk.storage import STORAGE_ENV, StorageError, resolve_storage_url, schema_name

STORES_GROUP = "govbus.stores"


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


def known_stores() -> list[tuple[SchemaHistory, str]]:
    """Every versioned store govbus knows, as (history, file name): the message log, then the entry points."""
    kinds = [(LOG_HISTORY, LOG_FILE)]
    for point in sorted(entry_points(group=STORES_GROUP), key=lambda point: point.name):
        store = point.load()
        if store.MIGRATIONS is not None:
            kinds.append((store.MIGRATIONS, store.FILE_NAME))
    return kinds


def _postgres_schemas(url: str, participant: str) -> set[str]:
    with psycopg.connect(url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT_SECONDS)) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)",
            (participant_prefix(participant),),
        ).fetchall()
    return {str(row[0]) for row in rows}


def participant_stores(
    home: BusHome, participant: ParticipantId, url: str
) -> list[tuple[SchemaHistory, Path | PostgresLocation]]:
    """The versioned stores ``participant`` has (a store not created yet is made at the newest revision)."""
    found: list[tuple[SchemaHistory, Path | PostgresLocation]] = []
    if url.lower().startswith("sqlite"):
        directory = home.participant_dir(participant)
        for history, file_name in known_stores():
            if (directory / file_name).is_file():
                found.append((history, directory / file_name))
        where = str(directory)
    else:
        schemas = _postgres_schemas(url, str(participant))
        for history, file_name in known_stores():
            name = schema_name(str(participant), file_name)
            if name in schemas:
                found.append((history, PostgresLocation(url, name)))
        where = f"{url.split('@')[-1]} (schemas {participant_prefix(str(participant))}*)"
    if not found:
        raise click.UsageError(f"{participant} has no store at {where}")
    return found


@storage.command(short_help="Upgrade a participant's stores to the newest schema.")
@home_option
@as_option(name="participant", parse=True, help="whose stores")
@storage_option
def migrate(home: BusHome, participant: ParticipantId, storage: str) -> None:
    """Upgrade each of PARTICIPANT's stores to its newest schema revision (a no-op when it is there)."""
    for history, where in participant_stores(home, participant, resolve_storage_url(storage)):
        try:
            before, after = history.migrate(where)
        except CommandError as error:
            raise click.ClickException(f"{history.name} ({where}): {error}") from None
        if before == after:
            click.echo(f"{history.name} ({where}): at revision {after}, nothing to do")
        else:
            click.echo(f"{history.name} ({where}): revision {before or 'unversioned'} -> {after}")


@storage.command(short_help="The schema revision of a participant's stores.")
@home_option
@as_option(name="participant", parse=True, help="whose stores")
@storage_option
def status(home: BusHome, participant: ParticipantId, storage: str) -> None:
    """Print the revision each of PARTICIPANT's stores is at, and the newest this govbus knows."""
    for history, where in participant_stores(home, participant, resolve_storage_url(storage)):
        current = history.revision(where)
        head = history.head()
        state = "up to date" if current == head else "run govbus storage migrate"
        click.echo(f"{history.name} ({where}): revision {current or 'unversioned'}, newest {head}: {state}")
