"""``govbus web``: the citizen and company portal, served by uvicorn.

Without ``--broker`` (or with ``memory://``) it builds the demo world in this process (pilots, two mail
offices, the portal participant, demo accounts printed at start). With ``--broker amqp://...`` it is
the participant ``--as`` (default ``MA/GOV/PORTAIL/guichet``) of the bus in ``--home``, talking to
offices started with ``govbus run``; with ``--workspace FILE`` it serves the agents' workspace too, as the
offices' desk systems and the signers the file names (``web.workspace.deploy``).
``govbus web agent ...`` manages the workspace's agent accounts (``web.workspace.agent_cli``);
``govbus web migrate`` upgrades the portal's database to the newest schema (``web.migrate_cli``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from bus.pki.home import HOME_ENV, BusHome
from bus.schema_versions import SchemaVersionError
from sdk import configure_logging, open_node
from web.app import Portal, create_app
from web.directory import DIRECTORY_FILE
from web.migrate_cli import migrate, schema
from web.oidc import OidcSettings
from web.participant import DEFAULT_PORTAL_ID
from web.workspace.agent_cli import agent
from web.workspace.deploy import (
    WORKSPACE_ENV,
    DeployedWorkspace,
    WorkspaceConfigError,
    WorkspaceSettings,
    check_workspace,
    load_workspace_settings,
    open_workspace,
)

PORTAL_DIRECTORY = "portal"


@click.group(invoke_without_command=True)
@click.option("--broker", default="memory://", show_default=True, help="memory:// (demo world) or amqp://...")
@click.option(
    "--home",
    envvar=HOME_ENV,
    metavar="DIR",
    help=f"bus home (RabbitMQ mode; default ${HOME_ENV}); "
    "in demo mode the demo bus is built (and kept) there: a new or empty directory",
)
@click.option("--prefix", default="govbus", show_default=True, help="exchange and queue prefix on RabbitMQ")
@click.option(
    "--as", "participant", default=DEFAULT_PORTAL_ID, show_default=True, help="the portal's participant id"
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    help="the portal's files (accounts, letters); default: <participant directory>/portal",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="mark cookies Secure even when served over plain http (behind a TLS proxy); always on over https",
)
@click.option(
    "--oidc-issuer",
    envvar="GOVBUS_OIDC_ISSUER",
    metavar="URL",
    help="sign-in through this OpenID Connect provider too (its issuer URL)",
)
@click.option("--oidc-client-id", envvar="GOVBUS_OIDC_CLIENT_ID", metavar="ID")
@click.option("--oidc-client-secret", envvar="GOVBUS_OIDC_CLIENT_SECRET", metavar="SECRET")
@click.option(
    "--oidc-cin-claim",
    envvar="GOVBUS_OIDC_CIN_CLAIM",
    default="cin",
    show_default=True,
    help="the ID token claim carrying the citizen's CIN",
)
@click.option(
    "--workspace",
    "workspace_file",
    envvar=WORKSPACE_ENV,
    type=click.Path(dir_okay=False, path_type=Path),
    help="RabbitMQ mode: serve the agents' workspace as this TOML file configures it "
    f"(desks, signers, workers; default ${WORKSPACE_ENV})",
)
@click.pass_context
def web(
    ctx: click.Context,
    broker: str,
    home: str | None,
    prefix: str,
    participant: str,
    data: Path | None,
    host: str,
    port: int,
    secure_cookies: bool,
    oidc_issuer: str | None,
    oidc_client_id: str | None,
    oidc_client_secret: str | None,
    oidc_cin_claim: str,
    workspace_file: Path | None,
) -> None:
    """Serve the citizen and company web portal (and the agents' workspace)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    configure_logging("WARNING")
    demo_mode = broker.startswith("memory://")
    world = None
    settings: WorkspaceSettings | None = None
    if demo_mode:
        from web.demo import DEMO_ACCOUNTS, DemoWorld

        if workspace_file is not None:
            raise click.BadParameter(
                "the demo world serves its own workspace; --workspace is for --broker amqp://...",
                param_hint="--workspace",
            )

        root = Path(home) if home else Path(tempfile.mkdtemp(prefix="govbus-web-"))
        if root.exists() and any(root.iterdir()):
            raise click.BadParameter(
                f"{root} is not empty: the demo world builds a new bus (new CA); give a new or empty "
                "directory, or --broker amqp://... to join the bus already there",
                param_hint="--home",
            )
        world = DemoWorld.build(root, portal_id=participant)
        node = world.portal_node()
    else:
        if not home:
            raise click.BadParameter(f"give --home DIR or set {HOME_ENV}", param_hint="--home")
        if workspace_file is not None:
            try:
                settings = load_workspace_settings(workspace_file)
                check_workspace(settings, BusHome.at(home))
            except WorkspaceConfigError as error:
                raise click.ClickException(str(error)) from None
        node = open_node(participant, home=home, broker=broker, prefix=prefix)
    data_dir = data or node.data_dir / PORTAL_DIRECTORY
    if world is not None and not (data_dir / DIRECTORY_FILE).exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        world.directory().save(data_dir / DIRECTORY_FILE)
    oidc = None
    if oidc_issuer:
        if not (oidc_client_id and oidc_client_secret):
            raise click.BadParameter("give --oidc-client-id and --oidc-client-secret with --oidc-issuer")
        oidc = OidcSettings(oidc_issuer, oidc_client_id, oidc_client_secret, identifier_claim=oidc_cin_claim)
    try:
        portal = Portal.open(
            data_dir, participant=participant, secure_cookies=secure_cookies, oidc_settings=oidc
        )
    except SchemaVersionError as error:  # one line naming `govbus web migrate`, never a traceback
        if world is not None:
            world.close()
        else:
            node.close()
        raise click.ClickException(str(error)) from None
    portal.participant.start(node)
    click.echo(f"govbus web: the portal {participant} on {broker}")
    if world is not None:
        click.echo(
            f"demo bus in {world.bus.root}; offices: "
            + ", ".join(o.participant for o in portal.participant.offices())
        )
        for account in DEMO_ACCOUNTS:
            if portal.accounts.by_identifier(account.identifier) is None:
                portal.accounts.register(
                    kind=account.kind,
                    identifier=account.identifier,
                    name=account.name,
                    email=account.email,
                    password=account.password,
                    confirm=account.password,
                    representative=account.representative,
                )
            click.echo(f"demo account ({account.kind}): {account.identifier} / {account.password}")
    app = create_app(portal)
    deployed: DeployedWorkspace | None = None
    if settings is not None and home is not None:
        from web.workspace.app import mount

        try:
            deployed = open_workspace(
                settings, portal.db, home=BusHome.at(home), broker=broker, prefix=prefix
            )
        except WorkspaceConfigError as error:
            portal.close()
            node.close()
            raise click.ClickException(str(error)) from None
        mount(app, deployed.workspace)
        click.echo(
            f"agents' workspace: /workspace/ (desks of {', '.join(deployed.workspace.desks) or 'no office'})"
        )
    if world is not None:
        from web.workspace.app import mount
        from web.workspace.demo import DEMO_AGENTS, DEMO_PASSWORD, demo_workspace

        mount(app, demo_workspace(world, portal.db))
        click.echo(
            f"agents' workspace: /workspace/ ({', '.join(a[0] for a in DEMO_AGENTS)} / {DEMO_PASSWORD})"
        )
    click.echo(f"open http://{host}:{port}/")
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=True,
            timeout_graceful_shutdown=3,
        )
    finally:
        portal.close()
        if deployed is not None:
            deployed.close()
        if world is not None:
            world.close()
        else:
            node.close()


web.add_command(agent)
web.add_command(migrate)
web.add_command(schema)
