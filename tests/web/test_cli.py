"""``govbus web`` as a user starts it: the demo world on the embedded broker, or RabbitMQ with offices elsewhere."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import RABBITMQ_URL
from web.demo import DemoWorld

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
GOVBUS = str(Path(sys.executable).parent / "govbus")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[str], deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise AssertionError(
                f"govbus web exited with {process.returncode}: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {deadline:g} s")


def sign_in(client: httpx.Client, identifier: str, password: str) -> None:
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"csrf": token, "identifier": identifier, "password": password})
    assert response.status_code == 303 and response.headers["location"] == "/letters", response.text


def run_web(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [GOVBUS, "web", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate(timeout=10)
    return output


def test_demo_world_with_printed_accounts(tmp_path: Path):
    port = free_port()
    process = run_web("--port", str(port), "--home", str(tmp_path / "bus"))
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            sign_in(client, "AB123456", "demo-citoyen-2026")
            form = client.get("/letters/new").text
            assert "Ministère de l&#39;Économie et des Finances" in form
            assert "Caisse Nationale de Sécurité Sociale" in form
            token = CSRF.search(client.get("/workspace/login").text).group(1)  # type: ignore[union-attr]
            agent = client.post(
                "/workspace/login", data={"csrf": token, "login": "mef.clerc", "password": "demo-agent-2026"}
            )
            assert agent.headers["location"] == "/workspace/"
            assert client.get("/workspace/mail").status_code == 200
    finally:
        output = stop(process)
    assert "agents' workspace: /workspace/" in output
    assert "demo account (citizen): AB123456 / demo-citoyen-2026" in output
    assert "demo account (company): 001525987000088 / demo-entreprise-2026" in output
    assert "Traceback" not in output


@pytest.mark.rabbitmq
def test_on_rabbitmq_with_the_offices_in_another_process(tmp_path: Path):
    world = DemoWorld.build(tmp_path / "bus", broker=RABBITMQ_URL, drain_interval=0.1)
    port = free_port()
    process = run_web(
        "--broker", RABBITMQ_URL, "--home", str(world.bus.root), "--prefix", world.bus.prefix,
        "--port", str(port), "--data", str(tmp_path / "portal"),
    )  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            token = CSRF.search(client.get("/register").text).group(1)  # type: ignore[union-attr]
            registered = client.post(
                "/register",
                data={"csrf": token, "kind": "company", "identifier": "001525987000088", "name": "Atlas Travaux",
                      "representative": "Youssef Benali", "email": "a@example.ma",
                      "password": "correct horse battery", "confirm": "correct horse battery"},
            )  # fmt: skip
            assert registered.status_code == 303
            token = CSRF.search(client.get("/letters/new").text).group(1)  # type: ignore[union-attr]
            deposited = client.post(
                "/letters/new",
                data={"csrf": token, "office": "MA/GOV/CNSS/bureau-ordre", "mail_type": "request",
                      "subject": "Attestation de régularité", "body": "Pour un marché public."},
            )  # fmt: skip
            assert deposited.status_code == 303, deposited.text
            acknowledgement = client.get(deposited.headers["location"])
            assert "CNSS-A-" in acknowledgement.text and "Accusé de réception" in acknowledgement.text
    finally:
        output = stop(process)
        world.close()
    assert "Traceback" not in output


def test_demo_mode_refuses_a_home_that_holds_a_bus_already(tmp_path: Path):
    (tmp_path / "ca").mkdir()
    result = subprocess.run(
        [GOVBUS, "web", "--home", str(tmp_path), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "is not empty" in result.stderr and "Traceback" not in result.stderr
