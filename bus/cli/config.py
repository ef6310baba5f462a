"""``govbus config show``: the settings a command would run with, and where each one came from."""

from __future__ import annotations

import json

import click

from bus.cli.errors import group
from bus.cli.options import (
    CONFIG_KEY,
    as_option,
    broker_option,
    home_option,
    log_level_option,
    metrics_port_option,
    prefix_option,
    settings,
)
from bus.config import config_file
from bus.pki.home import BusHome
from bus.transport import mask_url


@group()
def config() -> None:
    """The configuration: govbus.toml, GOVBUS_* variables, command-line options."""


@config.command()
@home_option(required=False)
@as_option(required=False)
@broker_option
@prefix_option
@log_level_option
@metrics_port_option
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def show(
    home: BusHome | None,
    sender: str | None,
    broker: str,
    prefix: str,
    log_level: str,
    metrics_port: int | None,
    as_json: bool,
) -> None:
    """Print the effective settings (option > GOVBUS_* variable > govbus.toml > default); the broker's
    password is masked."""
    ctx = click.get_current_context()
    loaded = settings(ctx)
    path = config_file(ctx.meta.get(CONFIG_KEY))
    values: dict[str, object] = {
        "config_file": str(path) if path is not None else None,
        "home": str(home.root) if home is not None else None,
        "participant": sender,
        "broker": mask_url(broker),
        "prefix": prefix,
        "log_level": log_level,
        "metrics_port": metrics_port,
        "message_log": {
            "checkpoint_seconds": loaded.checkpoint_seconds,
            "synchronous": loaded.log_synchronous,
            "service_modes": loaded.log_service_modes,
        },
    }
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    for key, value in values.items():
        if isinstance(value, dict):
            for name, item in value.items():
                click.echo(f"{key}.{name} = {'-' if item is None else item}")
        else:
            click.echo(f"{key} = {'-' if value is None else value}")
