"""Every command group is built on the one kit: the same error group and the same shared options."""

from __future__ import annotations

from collections.abc import Iterator

import click

from bus.cli.errors import GovbusGroup
from bus.cli.lazy import LazyCommand
from bus.cli.main import cli

SHARED = {"--home", "--broker", "--prefix", "--as"}
OWN_OPTIONS = {
    "demo",  # builds its own throwaway bus, in memory unless --broker names a RabbitMQ
    "web",  # the portal: a demo world in memory unless --broker names a RabbitMQ (converted with its owner)
}


def _walk(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    if isinstance(command, LazyCommand):
        command = command.command()
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            if path == "govbus" and name in OWN_OPTIONS:
                continue
            yield from _walk(sub, f"{path} {name}")


def test_every_group_reports_errors_through_the_one_error_group() -> None:
    groups = [path for path, command in _walk(cli, "govbus") if isinstance(command, click.Group)]
    assert {"govbus mail", "govbus sign", "govbus audit", "govbus broker dlq"} <= set(groups)
    wrong = [
        path
        for path, command in _walk(cli, "govbus")
        if isinstance(command, click.Group) and not isinstance(command, GovbusGroup)
    ]
    assert wrong == []


def test_every_shared_option_resolves_through_the_configuration() -> None:
    seen: set[str] = set()
    others = []
    for path, command in _walk(cli, "govbus"):
        for param in command.params:
            for flag in set(getattr(param, "opts", [])) & SHARED:
                seen.add(path)
                help_text = getattr(param, "help", "") or ""
                callback = getattr(param, "callback", None)
                if (
                    "govbus.toml" not in help_text
                    or getattr(callback, "__module__", None) != "bus.cli.options"
                ):
                    others.append(f"{path} {flag}")
    assert {
        "govbus run",
        "govbus call",
        "govbus mail deposit",
        "govbus sign approve",
        "govbus broker setup",
        "govbus registry sign",
    } <= seen
    assert others == []
