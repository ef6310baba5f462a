"""``govbus run`` configured by a govbus.toml alone, its /healthz probed over HTTP, on RabbitMQ."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sdk.testing import TestBus
from teleservices.cnss_attestation import ATTESTATION, PARTICIPANT, AttestationRequest
from teleservices.cnss_attestation.employers import ATLAS
from tests.cli.conftest import SETTINGS_ENV
from tests.conftest import RABBITMQ_URL

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0  # not listening yet


@pytest.mark.rabbitmq
def test_run_takes_home_broker_prefix_and_metrics_port_from_govbus_toml(tmp_path: Path) -> None:
    port = _free_port()
    with TestBus(tmp_path / "bus", broker=RABBITMQ_URL) as bus:
        bus.publish(ATTESTATION, provider=PARTICIPANT, clients=["MA/GOV/MEF/marches-publics"])
        bus.sign_catalogue()
        (tmp_path / "govbus.toml").write_text(
            f'home = "{bus.root}"\nbroker = "{RABBITMQ_URL}"\nprefix = "{bus.prefix}"\nmetrics_port = {port}\n'
            'log_level = "warning"\n'
        )
        env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
        log = (tmp_path / "run.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "bus.cli", "run", "teleservices.cnss_attestation:app"],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(REPO)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 90
            while _healthz(port) != 200:
                assert process.poll() is None, (tmp_path / "run.log").read_text()
                assert time.monotonic() < deadline, "the worker never became healthy"
                time.sleep(0.2)
            answer = bus.client("MA/GOV/MEF/marches-publics").call(  # the prefix came from the file too
                PARTICIPANT, ATTESTATION, AttestationRequest(ice=ATLAS.ice), purpose="procurement", timeout=20
            )
            assert type(answer).__name__ == "Attestation"
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as metrics:
                assert b"govbus_messages_total" in metrics.read()
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                assert process.wait(timeout=60) == 0, (tmp_path / "run.log").read_text()
            finally:
                if process.poll() is None:
                    process.kill()
                log.close()
        assert (
            '"app.started"' not in (tmp_path / "run.log").read_text()
        )  # log_level from the file: warnings only
