"""Fixtures for the message-log tests: one throwaway bus PKI, logs of real signed envelopes, the CLI."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bus.audit.trustfiles import TrustFiles
from bus.cli.audit import audit
from bus.cli.errors import GovbusGroup
from tests.audit.builders import Exchange, write_log
from tests.helpers.fixtures import fresh_pki, pki
from tests.helpers.pki import ThrowawayPki, build_home

__all__ = ["fresh_pki", "pki"]


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayPki:
    """An EC bus home shared by the audit tests (CLIENT, PROVIDER, COMMUNE issued); do not mutate it."""
    return build_home(tmp_path_factory.mktemp("audit-home"))


@pytest.fixture(scope="session")
def trust(home: ThrowawayPki) -> TrustFiles:
    return TrustFiles.from_home(home.home)


@pytest.fixture
def log_path(tmp_path: Path, home: ThrowawayPki) -> Path:
    """A closed log of 12 verifying records (6 exchanges), checkpoints at 4, 8 and 12."""
    path = tmp_path / "messages.sqlite"
    write_log(path, home, [Exchange() for _ in range(6)], checkpoint_every=4)
    return path


@pytest.fixture(scope="session")
def cli() -> click.Group:
    """``govbus`` with the audit group, as bus/cli/main.py registers it."""

    @click.group(cls=GovbusGroup)
    def govbus() -> None:
        pass

    govbus.add_command(audit)
    return govbus


@pytest.fixture
def run(cli: click.Group):
    """Run ``govbus ARGS...`` in-process; returns the click Result (stdout and stderr apart)."""

    def invoke(*args: object, env: dict[str, str] | None = None):
        runner = CliRunner()
        return runner.invoke(
            cli, [str(a) for a in args], env={"GOVBUS_HOME": "", **(env or {})}, catch_exceptions=False
        )

    return invoke
