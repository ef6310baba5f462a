"""One error group for every govbus command: no traceback reaches a user, every error is one line.

Exit codes (docs/faults.md): 0 success; 1 a fault or a refusal, printed ``CODE: reason`` (a teleservice's
own refusal code first, the bus fault code beside it), or an operational error printed
``govbus: reason`` (a missing file, a bad configuration); 2 a usage error (click's); 3 an internal error
(``GOVBUS_DEBUG=1`` prints the traceback); 4 ``govbus audit verify``: everything present verified but
archives are missing; 141 (128 + SIGPIPE) the reader of the output went away (``govbus ... | head``),
quietly, as any Unix tool.

A command group above ``bus/`` adds its own refusal exceptions with ``refusals=``: any exception class
whose instances carry a ``code`` (and a ``reason``, else their text is the reason)::

    @group(refusals=(MailOfficeError,))
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import click
import pydantic

from bus.audit.errors import AuditError
from bus.config import ConfigError
from bus.faults import Fault
from bus.pki.authority import PkiError
from bus.transport import TopologyError

EXIT_OK = 0
EXIT_FAULT = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INCOMPLETE = 4
EXIT_BROKEN_PIPE = 128 + 13
DEBUG_ENV = "GOVBUS_DEBUG"

_OPERATIONAL = (
    AuditError,
    ConfigError,
    PkiError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
    ValueError,
)


def refusal_line(code: str, reason: str, fault_code: str | None = None) -> str:
    """``CODE: reason``, with the bus fault code beside a teleservice's own code when they differ."""
    beside = f" ({fault_code})" if fault_code and fault_code != code else ""
    return f"{code}: {reason}{beside}"


def fault_line(fault: Fault) -> str:
    """A fault as one line: a ``CallFailed`` names the service's refusal code before the fault code."""
    service_code = getattr(fault, "service_code", None)
    if service_code:
        return refusal_line(str(service_code), fault.reason, str(fault.code))
    return refusal_line(str(fault.code), fault.reason)


def fail(line: str, code: int = EXIT_FAULT) -> NoReturn:
    """Print ``line`` on stderr and exit with ``code``."""
    click.echo(line, err=True)
    sys.exit(code)


def _validation_line(error: pydantic.ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'input'}: {item['msg']}" for item in error.errors()
    )
    return f"govbus: invalid input: {problems}"


def _is_broken_pipe(error: BaseException) -> bool:
    return isinstance(error, BrokenPipeError) or (
        isinstance(error, OSError) and error.errno in (errno.EPIPE, errno.EINVAL) and _stdout_gone()
    )


def _stdout_gone() -> bool:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, OSError, ValueError):
        return True
    return False


def _quiet_broken_pipe() -> NoReturn:
    """The reader went away: stop writing, silence the final flush, exit like a process killed by SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test runner's buffer)
        pass
    sys.exit(EXIT_BROKEN_PIPE)


@contextmanager
def reported(refusals: Sequence[type[Exception]] = ()) -> Iterator[None]:
    """Turn every exception raised inside into one line on stderr and the documented exit code."""
    try:
        yield
        sys.stdout.flush()  # a closed pipe shows here for output still buffered
    except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
        raise
    except Fault as fault:
        fail(fault_line(fault))
    except tuple(refusals) as error:
        code = str(getattr(error, "code", type(error).__name__))
        fail(refusal_line(code, str(getattr(error, "reason", None) or error)))
    except pydantic.ValidationError as error:
        fail(_validation_line(error))
    except TopologyError as error:
        fail(f"govbus: the broker has no such queue or exchange ({error}): check --prefix and the service id")
    except BaseException as error:  # the last line of defence
        if _is_broken_pipe(error):
            _quiet_broken_pipe()
        if isinstance(error, _OPERATIONAL):
            fail(f"govbus: {error}")
        if not isinstance(error, Exception):
            raise
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        fail(
            f"govbus: internal error: {type(error).__name__}: {error} (set {DEBUG_ENV}=1 for details)",
            EXIT_INTERNAL,
        )


class GovbusGroup(click.Group):
    """A click group whose commands report errors the govbus way (see the module docstring).

    Nested groups each catch what is theirs; the root group catches the rest, so a command behaves the
    same run as ``govbus mail ...`` or through its own group.
    """

    def __init__(self, *args: Any, refusals: Sequence[type[Exception]] = (), **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
        super().__init__(*args, **kwargs)
        self.refusals = tuple(refusals)

    def invoke(self, ctx: click.Context) -> Any:
        with reported(self.refusals):
            return super().invoke(ctx)


def group(
    *, refusals: Sequence[type[Exception]] = (), **attrs: Any
) -> Callable[[Callable[..., Any]], GovbusGroup]:
    """``@click.group`` with ``GovbusGroup``: ``@group()`` above a command-group function."""
    return click.group(cls=GovbusGroup, refusals=refusals, **attrs)


FaultAwareGroup = GovbusGroup  # the name it had before the kit
