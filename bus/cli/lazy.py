"""Commands registered by import path and imported only when run, so bus/ never imports their packages.

Installed packages add command groups through the ``govbus.cli`` entry-point group
(``sign = "teleservices.signature_book.cli:sign"``); they are listed without being imported.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

import click


class LazyCommand(click.Command):
    """Stands for the click command at ``target`` (``package.module:attribute``) until it is invoked."""

    def __init__(self, name: str, target: str, short_help: str) -> None:
        super().__init__(name, short_help=short_help, add_help_option=False)
        self.target = target

    def command(self) -> click.Command:
        module_name, _, attribute = self.target.partition(":")
        try:
            command = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as error:
            raise click.ClickException(f"{self.name} is not available: {error}") from None
        if not isinstance(command, click.Command):
            raise click.ClickException(f"{self.target} is not a click command")
        return command

    def get_short_help_str(self, limit: int = 45) -> str:
        """The real command's own short help, imported only when ``govbus --help`` lists it."""
        try:
            return self.command().get_short_help_str(limit)
        except click.ClickException:
            return super().get_short_help_str(limit)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        return self.command().make_context(info_name, args, parent=parent, **extra)


def lazy(target: str, *, name: str, short_help: str) -> LazyCommand:
    """A command named ``name`` that imports ``target`` when invoked (``--help`` included)."""
    return LazyCommand(name, target, short_help)


ENTRY_POINT_GROUP = "govbus.cli"


def entry_point_commands(group: str = ENTRY_POINT_GROUP) -> list[LazyCommand]:
    """One lazy command per entry point of ``group``, named after it."""
    return [
        lazy(point.value, name=point.name, short_help=f"Commands of {point.module}.")
        for point in sorted(entry_points(group=group), key=lambda point: point.name)
    ]
