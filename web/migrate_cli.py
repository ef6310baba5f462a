"""``govbus web migrate|schema``: the schema revision of the portal's database, and upgrading it.

The portal's database (``web.db``: accounts, sessions, letters, counter letters, agents) lives in the
portal's files (``--data DIR``, else the portal participant's directory in the bus home), not among a
participant's stores, so ``govbus storage migrate`` does not see it. ``govbus web migrate`` upgrades it
to the newest revision in one transaction (Alembic, ``bus.schema_versions``): run it with the new release
installed, portal stopped, before starting the portal, which refuses a database at another revision.
"""

from __future__ import annotations

from pathlib import Path

import click
from alembic.util import CommandError

from web.app import DATABASE_FILE
from web.db import HISTORY
from web.workspace.agent_cli import portal_data_dir, where_options


def _database(data: Path | None, home: str | None, participant: str) -> Path:
    path = portal_data_dir(data, home, participant) / DATABASE_FILE
    if not path.is_file():
        raise click.ClickException(f"no portal database at {path}")
    return path


@click.command(short_help="Upgrade the portal's database to the newest schema.")
@where_options
def migrate(data: Path | None, home: str | None, participant: str) -> None:
    """Upgrade the portal's database to its newest schema revision (a no-op when it is there)."""
    path = _database(data, home, participant)
    try:
        before, after = HISTORY.migrate(path)
    except CommandError as error:
        raise click.ClickException(f"{HISTORY.name} ({path}): {error}") from None
    if before == after:
        click.echo(f"{HISTORY.name} ({path}): at revision {after}, nothing to do")
    else:
        click.echo(f"{HISTORY.name} ({path}): revision {before or 'unversioned'} -> {after}")


@click.command(short_help="The schema revision of the portal's database.")
@where_options
def schema(data: Path | None, home: str | None, participant: str) -> None:
    """Print the revision the portal's database is at, and the newest this govbus knows."""
    path = _database(data, home, participant)
    current, head = HISTORY.revision(path), HISTORY.head()
    state = "up to date" if current == head else "run govbus web migrate"
    click.echo(f"{HISTORY.name} ({path}): revision {current or 'unversioned'}, newest {head}: {state}")
