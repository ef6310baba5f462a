"""No traceback reaches a user: faults and unexpected errors become one line on stderr and an exit code."""

from __future__ import annotations

import sys
from typing import Any

import click
import structlog

from bus.faults import Fault

EXIT_FAULT = 1
EXIT_INTERNAL = 3


class FaultAwareGroup(click.Group):
    """A click group that reports a ``Fault`` as ``CODE: reason`` (exit 1) and any other error briefly (exit 3)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Fault as fault:
            click.echo(f"{fault.code}: {fault.reason}", err=True)
            sys.exit(EXIT_FAULT)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:  # the last line of defence: log the details, show one line
            structlog.get_logger("govbus.cli").exception("internal error")
            click.echo(f"govbus: internal error: {type(error).__name__}: {error}", err=True)
            sys.exit(EXIT_INTERNAL)
