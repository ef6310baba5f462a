"""No traceback reaches a user: faults and unexpected errors become one line on stderr and an exit code."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import click

from bus.faults import Fault
from bus.pki.authority import PkiError

EXIT_FAULT = 1
EXIT_INTERNAL = 3
DEBUG_ENV = "GOVBUS_DEBUG"


class FaultAwareGroup(click.Group):
    """Reports a ``Fault`` as ``CODE: reason`` (exit 1), other errors as one line (exit 3)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Fault as fault:
            click.echo(f"{fault.code}: {fault.reason}", err=True)
            sys.exit(EXIT_FAULT)
        except (PkiError, FileNotFoundError, PermissionError, IsADirectoryError, ValueError) as error:
            click.echo(f"govbus: {error}", err=True)
            sys.exit(EXIT_FAULT)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:  # the last line of defence
            if os.environ.get(DEBUG_ENV):
                traceback.print_exc()
            click.echo(
                f"govbus: internal error: {type(error).__name__}: {error} (set {DEBUG_ENV}=1 for details)",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)
