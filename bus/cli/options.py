"""The options every govbus command shares, resolved the same way everywhere.

``--home``, ``--broker``, ``--prefix``, ``--as``, ``--log-level`` and ``--metrics-port`` take the value
given on the command line, else the ``GOVBUS_*`` variable, else the configuration file (``--config FILE``
on ``govbus``, ``$GOVBUS_CONFIG`` or ``./govbus.toml``), else the default (``bus.config``). The
settings are read once per command run and kept in the click context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

import click

from bus.config import (
    CONFIG_ENV,
    CONFIG_FILENAME,
    DEFAULT_BROKER,
    DEFAULT_PREFIX,
    GovbusSettings,
    load_settings,
)
from bus.faults import Fault
from bus.ids import ParticipantId
from bus.pki.home import HOME_ENV, BusHome

F = TypeVar("F", bound=Callable[..., Any])

CONFIG_KEY = "govbus.config_file"
_SETTINGS_KEY = "govbus.settings"
_FROM = "else govbus.toml"


def settings(ctx: click.Context | None = None) -> GovbusSettings:
    """The settings of this command run (environment, configuration file, defaults), read once."""
    ctx = ctx or click.get_current_context()
    cached = ctx.meta.get(_SETTINGS_KEY)
    if not isinstance(cached, GovbusSettings):
        cached = load_settings(ctx.meta.get(CONFIG_KEY))
        ctx.meta[_SETTINGS_KEY] = cached
    return cached


def _from_settings(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def resolve(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        return value if value is not None else getattr(settings(ctx), name)

    return resolve


def _remember_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[CONFIG_KEY] = value
        ctx.meta.pop(_SETTINGS_KEY, None)


def config_option(function: F) -> F:
    """``--config FILE`` on the ``govbus`` group: the configuration file every sub-command reads."""
    return click.option(
        "--config",
        metavar="FILE",
        is_eager=True,
        expose_value=False,
        callback=_remember_config,
        type=click.Path(dir_okay=False),
        help=f"configuration file (default: ${CONFIG_ENV}, else ./{CONFIG_FILENAME} if present)",
    )(function)


@overload
def home_option(function: F) -> F: ...
@overload
def home_option(*, required: bool = True, help: str | None = None) -> Callable[[F], F]: ...
def home_option(function: F | None = None, *, required: bool = True, help: str | None = None) -> Any:
    """``--home DIR`` passed as a ``BusHome`` (None when not ``required`` and given nowhere).

    Usable bare (``@home_option``) or configured (``@home_option(required=False)``).
    """

    def resolve(ctx: click.Context, param: click.Parameter, value: str | None) -> BusHome | None:
        root = value if value is not None else settings(ctx).home
        if root is None or str(root) == "":
            if required:
                raise click.BadParameter(
                    f"give --home DIR, set ${HOME_ENV}, or set home in {CONFIG_FILENAME}",
                    ctx=ctx,
                    param=param,
                )
            return None
        return BusHome.at(root)

    decorator = click.option(
        "--home",
        "home",
        metavar="DIR",
        callback=resolve,
        help=(help or "bus home directory") + f" [default: ${HOME_ENV}, {_FROM}]",
    )
    return decorator(function) if function is not None else decorator


def broker_option(function: F) -> F:
    """``--broker URL`` (default ``$GOVBUS_BROKER``, the file, or the local RabbitMQ)."""
    return click.option(
        "--broker",
        metavar="URL",
        callback=_from_settings("broker"),
        help=f"amqp(s):// or memory:// URL, or several amqp(s) URLs of one cluster, comma-separated [default: $GOVBUS_BROKER, {_FROM}, else {DEFAULT_BROKER}]",
    )(function)


def prefix_option(function: F) -> F:
    """``--prefix NAME``: the name prefix of the bus's exchanges and queues."""
    return click.option(
        "--prefix",
        metavar="NAME",
        callback=_from_settings("prefix"),
        help=f"name prefix of the bus's exchanges and queues [default: $GOVBUS_PREFIX, {_FROM}, else {DEFAULT_PREFIX}]",
    )(function)


@overload
def as_option(function: F) -> F: ...
@overload
def as_option(
    *,
    name: str = "sender",
    required: bool = True,
    parse: bool = False,
    envvar: str | None = None,
    help: str = "the participant acting, whose key is in --home",
) -> Callable[[F], F]: ...
def as_option(
    function: F | None = None,
    *,
    name: str = "sender",
    required: bool = True,
    parse: bool = False,
    envvar: str | None = None,
    help: str = "the participant acting, whose key is in --home",
) -> Any:
    """``--as PARTICIPANT_ID`` (default ``$GOVBUS_PARTICIPANT`` or ``participant`` in the file).

    ``parse`` passes a ``ParticipantId``; ``envvar`` names an older variable read before the settings.
    """

    def resolve(ctx: click.Context, param: click.Parameter, value: str | None) -> str | ParticipantId | None:
        text = value if value is not None else settings(ctx).participant
        if text is None:
            if required:
                raise click.BadParameter(
                    f"give --as PARTICIPANT_ID, set $GOVBUS_PARTICIPANT, or set participant in {CONFIG_FILENAME}",
                    ctx=ctx,
                    param=param,
                )
            return None
        if not parse:
            return text
        try:
            return ParticipantId.parse(text)
        except Fault as fault:
            raise click.BadParameter(fault.reason, ctx=ctx, param=param) from None

    decorator = click.option(
        "--as",
        name,
        metavar="PARTICIPANT_ID",
        envvar=envvar,
        callback=resolve,
        help=f"{help} [default: {'$' + envvar + ', ' if envvar else ''}$GOVBUS_PARTICIPANT, {_FROM}]",
    )
    return decorator(function) if function is not None else decorator


@overload
def bus_options(function: F) -> F: ...
@overload
def bus_options(*, as_required: bool = True) -> Callable[[F], F]: ...
def bus_options(function: F | None = None, *, as_required: bool = True) -> Any:
    """``--home``, ``--as`` (as ``sender``), ``--broker`` and ``--prefix``: everything a bus call needs.

    With ``as_required=False`` neither ``--home`` nor ``--as`` is required (both may then be None).
    """

    def decorate(target: F) -> F:
        target = prefix_option(target)
        target = broker_option(target)
        target = as_option(required=as_required)(target)
        return home_option(required=as_required)(target)

    return decorate(function) if function is not None else decorate


def broker_prefix_options(function: F) -> F:
    """``--broker`` and ``--prefix`` (commands that reach the broker but sign nothing)."""
    return broker_option(prefix_option(function))


def log_level_option(function: F) -> F:
    """``--log-level LEVEL`` (default ``$GOVBUS_LOG_LEVEL``, the file, else INFO)."""
    return click.option(
        "--log-level",
        type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False),
        callback=lambda ctx, param, value: value.upper() if value else settings(ctx).log_level,
        help=f"[default: $GOVBUS_LOG_LEVEL, {_FROM}, else INFO]",
    )(function)


def metrics_port_option(function: F) -> F:
    """``--metrics-port PORT``: serve /metrics and /healthz (default ``$GOVBUS_METRICS_PORT``, the file)."""
    return click.option(
        "--metrics-port",
        type=click.IntRange(min=1, max=65535),
        callback=_from_settings("metrics_port"),
        help=f"serve Prometheus /metrics and /healthz on this port [default: $GOVBUS_METRICS_PORT, {_FROM}]",
    )(function)
