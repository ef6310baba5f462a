"""One error group: ``CODE: reason`` on one line, the documented exit codes, and a quiet end in a pipe."""

from __future__ import annotations

import signal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bus.cli.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, GovbusGroup, group
from bus.faults import Fault, FaultCode
from sdk.errors import CallFailed
from tests.cli.conftest import govbus_process


class Refused(Exception):
    code = "Test.Refused"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _group_raising(error: BaseException) -> click.Group:
    @group(refusals=(Refused,))
    def tool() -> None:
        pass

    @tool.command()
    def go() -> None:
        raise error

    return tool


@pytest.mark.parametrize(
    ("error", "line", "code"),
    [
        (Fault(FaultCode.ACCESS_DENIED, "no grant"), "Client.AccessDenied: no grant", 1),
        (
            CallFailed(FaultCode.HANDLER_ERROR, "no such plate", service_code="Vehicles.UnknownPlate"),
            "Vehicles.UnknownPlate: no such plate (Server.HandlerError)",
            1,
        ),
        (Refused("not today"), "Test.Refused: not today", 1),
        (FileNotFoundError("no file x"), "govbus: no file x", 1),
        (
            RuntimeError("bug"),
            "govbus: internal error: RuntimeError: bug (set GOVBUS_DEBUG=1 for details)",
            3,
        ),
    ],
)
def test_every_error_is_one_line_with_its_exit_code(error: BaseException, line: str, code: int) -> None:
    result = CliRunner().invoke(_group_raising(error), ["go"])
    assert (result.exit_code, result.stderr) == (code, line + "\n")
    assert result.stdout == ""


def test_a_usage_error_is_exit_2() -> None:
    result = CliRunner().invoke(_group_raising(RuntimeError()), ["go", "--nope"])
    assert result.exit_code == 2


def test_nested_groups_report_their_own_refusals_the_same_way() -> None:
    @click.group(cls=GovbusGroup)
    def root() -> None:
        pass

    root.add_command(_group_raising(Refused("inner")), "inner")
    result = CliRunner().invoke(root, ["inner", "go"])
    assert (result.exit_code, result.stderr) == (1, "Test.Refused: inner\n")
    assert EXIT_INTERNAL == 3


def _big_envelope(path: Path) -> Path:
    lines = "".join(f"<p:line>{n} lorem ipsum dolor sit amet</p:line>" for n in range(20000))
    path.write_text(
        '<Envelope xmlns="urn:govbus:envelope:1"><Header><id>x</id></Header>'
        f'<Body><p:big xmlns:p="urn:t">{lines}</p:big></Body></Envelope>'
    )
    return path


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    """``govbus envelope show BIG | head -1``: no traceback, no 'internal error', the SIGPIPE exit status."""
    process = govbus_process("envelope", "show", _big_envelope(tmp_path / "big.xml"), cwd=tmp_path)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"NOT VERIFIED")
    process.stdout.close()  # what head does after its first line
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == EXIT_BROKEN_PIPE == 128 + signal.SIGPIPE
    assert stderr == b""


def test_docs_faults_lists_every_exit_code() -> None:
    from bus.cli import errors

    doc = (Path(__file__).resolve().parents[2] / "docs" / "faults.md").read_text(encoding="utf-8")
    codes = {
        value for name, value in vars(errors).items() if name.startswith("EXIT_") and isinstance(value, int)
    }
    assert codes == {0, 1, 2, 3, 4, 141}
    assert [code for code in sorted(codes) if f"| `{code}` |" not in doc] == []
