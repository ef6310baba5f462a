"""Options shared by several govbus commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from bus.pki.home import HOME_ENV, BusHome


def _to_home(ctx: click.Context, param: click.Parameter, value: str | None) -> BusHome:
    if value is None:
        raise click.BadParameter(f"give --home DIR or set {HOME_ENV}", ctx=ctx, param=param)
    return BusHome.at(value)


def home_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--home DIR`` (default ``$GOVBUS_HOME``), passed to the command as a ``BusHome``."""
    return click.option(
        "--home",
        "home",
        envvar=HOME_ENV,
        metavar="DIR",
        callback=_to_home,
        help=f"bus home directory (default: ${HOME_ENV})",
    )(function)
