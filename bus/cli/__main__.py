"""``python -m bus.cli`` runs the govbus command (used by ``govbus run --workers N``)."""

from bus.cli.main import cli

cli()
