"""Entry point of the ``govbus`` command: one click group, one module per sub-command group."""

from __future__ import annotations

import click

from bus.cli.errors import FaultAwareGroup


@click.group(cls=FaultAwareGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="govbus")
def cli() -> None:
    """govbus: signed, auditable message exchange between administrations."""


def _register() -> None:
    from bus.cli import call, envelope, pki, registry, run
    from bus.cli.lazy import entry_point_commands, lazy

    cli.add_command(pki.pki)
    cli.add_command(envelope.envelope)
    cli.add_command(registry.registry)
    cli.add_command(run.run)
    cli.add_command(call.call)
    cli.add_command(
        lazy("teleservices.demo:demo", name="demo", short_help="Run both pilots on a throwaway bus.")
    )
    for command in entry_point_commands():
        if command.name not in cli.commands:
            cli.add_command(command)


_register()
