"""The ``govbus`` command run in-process (CliRunner) or as a real process, with no GOVBUS_* settings leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bus.cli.main import cli
from tests.helpers.fixtures import fresh_pki, pki

__all__ = ["fresh_pki", "pki"]

SETTINGS_ENV = (
    "GOVBUS_CONFIG",
    "GOVBUS_HOME",
    "GOVBUS_BROKER",
    "GOVBUS_PREFIX",
    "GOVBUS_PARTICIPANT",
    "GOVBUS_LOG_LEVEL",
    "GOVBUS_METRICS_PORT",
    "GOVBUS_CHECKPOINT_SECONDS",
    "GOVBUS_LOG_SYNCHRONOUS",
    "GOVBUS_LOG_SERVICE_MODES",
)


@pytest.fixture
def govbus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``govbus ARGS...`` in-process, from an empty working directory; ``env`` adds variables."""
    monkeypatch.chdir(tmp_path)
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: object, env: dict[str, str] | None = None, input: bytes | None = None) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], env=env, input=input, catch_exceptions=False)

    return invoke


def govbus_process(*args: object, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``govbus ARGS...`` as its own process, stdout and stderr as pipes."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    return subprocess.Popen(
        [sys.executable, "-m", "bus.cli", *(str(a) for a in args)],
        cwd=cwd,
        env={**clean, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
