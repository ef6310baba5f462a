"""Entry point of the ``govbus`` command: one click group, one module per sub-command group."""

from __future__ import annotations

import click

from bus.cli.errors import GovbusGroup
from bus.cli.options import config_option


@click.group(cls=GovbusGroup)
@click.version_option(package_name="govbus")
@config_option
def cli() -> None:
    """govbus: signed, auditable message exchange between administrations."""


def _register() -> None:
    from bus.cli import audit, broker, config, envelope, pki, registry
    from bus.cli.lazy import entry_point_commands

    cli.add_command(pki.pki)
    cli.add_command(envelope.envelope)
    cli.add_command(registry.registry)
    cli.add_command(broker.broker)
    cli.add_command(audit.audit)
    cli.add_command(config.config)
    for command in entry_point_commands():
        if command.name not in cli.commands:
            cli.add_command(command)


_register()
