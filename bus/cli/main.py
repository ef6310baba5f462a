"""Entry point of the ``govbus`` command: one click group, one module per sub-command group."""

from __future__ import annotations

import click

from bus.cli.errors import FaultAwareGroup


@click.group(cls=FaultAwareGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="govbus")
def cli() -> None:
    """govbus: signed, auditable message exchange between administrations."""


def _register() -> None:
    from bus.cli import audit, broker, envelope, pki, registry
    from bus.cli.lazy import entry_point_commands

    cli.add_command(pki.pki)
    cli.add_command(envelope.envelope)
    cli.add_command(registry.registry)
    cli.add_command(broker.broker)
    cli.add_command(audit.audit)
    for command in entry_point_commands():
        if command.name not in cli.commands:
            cli.add_command(command)


_register()
