"""``govbus web agent add|list|disable|reset-password``: agent accounts from the shell.

For the first bus administrator on a fresh install (then the authority console's agent pages do the
rest), and for recovery. It works on the portal's database (``--data DIR``, else the portal
participant's directory in the bus home, as ``govbus web`` finds it). A new or reset password is drawn
at random and printed once; only its argon2id hash is kept. Each change is logged
(``web.agent_admin``) with the operating-system user who ran the command.
"""

from __future__ import annotations

import getpass
import secrets
from pathlib import Path

import click
import structlog

from bus.ids import ParticipantId
from bus.pki.home import HOME_ENV, BusHome
from bus.schema_versions import SchemaVersionError
from web.app import DATABASE_FILE
from web.db import Database
from web.participant import DEFAULT_PORTAL_ID
from web.workspace.agents import AgentError, Agents, Role

log = structlog.get_logger("govbus.web.agents")
PORTAL_DIRECTORY = "portal"


def new_password() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def portal_data_dir(data: Path | None, home: str | None, participant: str) -> Path:
    """The portal's files: ``--data``, else the portal participant's directory in the bus home."""
    if data is None:
        if not home:
            raise click.UsageError(f"give --data DIR (the portal's files), or --home DIR (or ${HOME_ENV})")
        try:
            pid = ParticipantId.parse(participant)
        except ValueError:
            raise click.BadParameter(f"{participant!r} is not a participant id", param_hint="--as") from None
        data = BusHome.at(home).participant_dir(pid) / PORTAL_DIRECTORY
        if not data.parent.is_dir():
            raise click.ClickException(f"{participant} has no directory in the bus home {home}")
    return data


def _agents(data: Path | None, home: str | None, participant: str) -> Agents:
    data = portal_data_dir(data, home, participant)
    data.mkdir(parents=True, exist_ok=True)
    try:
        return Agents(Database(data / DATABASE_FILE))
    except SchemaVersionError as error:
        raise click.ClickException(str(error)) from None


def where_options(function: click.decorators.FC) -> click.decorators.FC:
    """The options naming the portal's database, shared by every subcommand."""
    for option in reversed(
        (
            click.option(
                "--data", type=click.Path(file_okay=False, path_type=Path), help="the portal's files"
            ),
            click.option("--home", envvar=HOME_ENV, metavar="DIR", help=f"bus home (default ${HOME_ENV})"),
            click.option("--as", "participant", default=DEFAULT_PORTAL_ID, show_default=True),
        )
    ):
        function = option(function)
    return function


def _by_login(agents: Agents, login: str) -> int:
    found = agents.by_login(login.strip().lower())
    if found is None:
        raise click.ClickException(f"no agent {login!r}")
    return found.id


@click.group()
def agent() -> None:
    """Agent accounts of the agents' workspace."""


@agent.command("add")
@click.argument("login")
@click.option("--name", required=True, help="the agent's full name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="repeat for several roles",
)
@click.option("--administration", metavar="ID", help="the mail office's participant id (none for bus-admin)")
@click.option("--service", help="the agent's service (agents and heads of service)")
@where_options
def add(
    login: str,
    name: str,
    roles: tuple[str, ...],
    administration: str | None,
    service: str | None,
    data: Path | None,
    home: str | None,
    participant: str,
) -> None:
    """Create an agent; their password is printed once."""
    agents = _agents(data, home, participant)
    password = new_password()
    try:
        created = agents.create(
            login=login,
            name=name,
            password=password,
            roles={Role(r) for r in roles},
            administration=administration or None,
            service=service or None,
        )
    except AgentError as error:
        raise click.ClickException(str(error)) from None
    log.info(
        "web.agent_admin", action="add", agent=created.login, roles=sorted(created.roles), by=_operator()
    )
    click.echo(f"agent {created.login} created; password (shown once): {password}")


@agent.command("list")
@where_options
def list_agents(data: Path | None, home: str | None, participant: str) -> None:
    """Every agent: login, administration, service, roles, state."""
    for a in _agents(data, home, participant).all():
        state = "disabled" if a.disabled else "active"
        click.echo(
            f"{a.login}\t{a.name}\t{a.administration or '-'}\t{a.service or '-'}\t"
            f"{','.join(sorted(a.roles))}\t{state}"
        )


@agent.command("disable")
@click.argument("login")
@where_options
def disable(login: str, data: Path | None, home: str | None, participant: str) -> None:
    """Disable an agent: they cannot sign in and their sessions end."""
    agents = _agents(data, home, participant)
    agents.disable(_by_login(agents, login))
    log.info("web.agent_admin", action="disable", agent=login, by=_operator())
    click.echo(f"agent {login} disabled; their sessions are closed")


@agent.command("reset-password")
@click.argument("login")
@where_options
def reset_password(login: str, data: Path | None, home: str | None, participant: str) -> None:
    """A new random password, printed once; the agent's sessions end."""
    agents = _agents(data, home, participant)
    password = new_password()
    agents.reset_password(_by_login(agents, login), password)
    log.info("web.agent_admin", action="reset-password", agent=login, by=_operator())
    click.echo(f"new password for {login} (shown once): {password}")


def _operator() -> str:
    """Who ran the command: the operating-system user (``cli:<user>``)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"
