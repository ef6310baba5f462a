"""``govbus call`` (the service's own refusal code) and the worker's ``/healthz`` over HTTP, on each broker."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from bus.cli.main import cli
from bus.metrics import serve_metrics
from sdk.cli import Worker
from sdk.compose import open_node
from sdk.testing import TestBus
from tests.sdk.echo import CLIENT, PROVIDER, EchoService

SERVICE = f"{PROVIDER}/echo/v1"


def _call(bus: TestBus, tmp_path: Path, text: str):
    payload = tmp_path / "ping.xml"
    payload.write_text(f'<e:Ping xmlns:e="urn:t:echo:1"><e:text>{text}</e:text></e:Ping>')
    where = ["--home", bus.root, "--as", CLIENT, "--broker", bus.broker, "--prefix", bus.prefix]
    return CliRunner().invoke(cli, ["call", *map(str, where), SERVICE, str(payload)], catch_exceptions=False)


def test_call_prints_the_answer_or_the_services_refusal_code_beside_the_fault_code(
    bus: TestBus, tmp_path
) -> None:
    bus.start(EchoService().app)
    answered = _call(bus, tmp_path, "hello")
    assert answered.exit_code == 0, answered.output
    assert "<e:text>hello</e:text>" in answered.stdout
    refused = _call(bus, tmp_path, "refuse")
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[-1] == "Echo.Refused: cannot serve this request (Server.HandlerError)"
    failed = _call(bus, tmp_path, "fail")
    assert failed.exit_code == 1 and failed.stderr.splitlines()[-1].startswith("Server.HandlerError: ")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_for_status(url: str, status: int) -> str:
    deadline = threading.Event()
    for _ in range(200):
        code, body = _get(url)
        if code == status:
            return body
        deadline.wait(0.05)
    pytest.fail(f"{url} never answered {status}")


def test_healthz_follows_the_workers_connection_and_consumers(bus: TestBus) -> None:
    bus.sign_catalogue()
    worker = Worker()
    server = serve_metrics(0, health=worker.health)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert _get(f"{base}/healthz")[0] == 503  # not started yet
        node = open_node(PROVIDER, home=bus.home, broker=bus.broker, prefix=bus.prefix)
        serving = threading.Thread(
            target=worker.serve, args=(EchoService().app, node), kwargs={"concurrency": 2, "prefetch": 4}
        )
        serving.start()
        try:
            body = _wait_for_status(f"{base}/healthz", 200)
            assert '"status": "ok"' in body and '"connected": true' in body
            metrics = _get(f"{base}/metrics")
            assert metrics[0] == 200 and "govbus_messages_total" in metrics[1]
            node.transport.close()  # the connection is gone: unhealthy until it is back
            assert '"status": "unavailable"' in _wait_for_status(f"{base}/healthz", 503)
        finally:
            worker.stop.set()
            serving.join(timeout=60)
        assert not serving.is_alive()
        assert _get(f"{base}/healthz")[0] == 503  # stopped
    finally:
        server.shutdown()
