"""One provider on two hosts: two ``govbus run`` processes, each in its own working directory with its own
copy of the bus home, sharing one PostgreSQL database and the machine's RabbitMQ (this test's own queue
prefix). Host A is killed with SIGKILL mid-stream.

Shown: every call is answered; a request answered before is answered again from the shared store by the
other host without running its handler; only the runs in flight on the killed host run again; the message
log in PostgreSQL is one hash chain written by both hosts, and ``govbus audit verify`` passes on it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bus.envelope import Header, MessageKind
from bus.transport import OutgoingMessage
from sdk import Client
from sdk.contract import encode
from sdk.postgres import drop_schemas
from sdk.storage import participant_prefix
from sdk.testing import TestBus
from teleservices.mail_office.contract import DEPOSIT
from tests.conftest import RABBITMQ_URL
from tests.faults.harness import Traffic, wait_for
from tests.faults.service import CLIENT, PROVIDER, WORK, Effect, Work, read_effects
from tests.helpers.storage import POSTGRES_URL
from tests.mail_office.bus_world import grant_office
from tests.mail_office.conftest import MEF, PORTAL, letter

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EARLY = 10
REQUESTS = 80


class Host:
    """``govbus run TARGET`` (by default the fault tests' provider) in its own directory, with its own copy of
    the bus home."""

    def __init__(
        self,
        name: str,
        bus: TestBus,
        root: Path,
        *,
        target: str = "tests.faults.service:provider",
        participant: str = PROVIDER,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.target = target
        self.participant = participant
        self.extra_env = env or {}
        self.workdir = root / name
        self.home = self.workdir / "home"
        shutil.copytree(bus.root, self.home)
        self.log = self.workdir / "worker.log"
        self.prefix = bus.prefix
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.home / "participants" / self.participant.replace("/", "+")

    def start(self) -> None:
        command = [
            *(sys.executable, "-m", "bus.cli", "run", self.target),
            *("--home", str(self.home), "--broker", RABBITMQ_URL, "--prefix", self.prefix),
            *("--storage", POSTGRES_URL, "--threads", "4", "--prefetch", "8"),
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "GOVBUS_CHECKPOINT_SECONDS": "1", **self.extra_env}
        with self.log.open("wb") as stderr:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=subprocess.DEVNULL, stderr=stderr
            )
        wait_for(
            lambda: (
                self.process.poll() is not None or any(e.get("event") == "app.started" for e in self.lines())
            ),
            60,
            f"host {self.name} to start",
        )
        assert self.process.poll() is None, self.log.read_text()[-3000:]

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return found

    def effects(self) -> dict[str, Effect]:
        return read_effects(self.data_dir)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[TestBus]:
    drop_schemas(POSTGRES_URL, participant_prefix(PROVIDER))
    with TestBus(tmp_path / "bus", broker=RABBITMQ_URL) as test_bus:
        test_bus.publish(WORK, provider=PROVIDER, clients=[CLIENT])
        test_bus.sign_catalogue()
        yield test_bus
    drop_schemas(POSTGRES_URL, participant_prefix(PROVIDER))


def test_one_provider_on_two_hosts_survives_losing_one(bus: TestBus, tmp_path: Path) -> None:
    hosts = [Host("host-a", bus, tmp_path), Host("host-b", bus, tmp_path)]
    try:
        for host in hosts:
            host.start()
        host_a, host_b = hosts
        client = bus.node(CLIENT)
        service = WORK.service_of(PROVIDER)
        transport = bus.transport

        def send(raw: bytes, message_id: str) -> bytes:
            """The signed answer's bytes (a stored answer comes back byte for byte)."""
            return transport.request(
                str(service), OutgoingMessage(raw, message_id=message_id), timeout=30
            ).body

        # Requests answered while both hosts run; kept to be sent again later.
        early: dict[str, tuple[bytes, bytes]] = {}
        for n in range(EARLY):
            header = Header.new(MessageKind.REQUEST, client.participant, service, ttl=timedelta(minutes=10))
            raw = client.sign(header, encode(Work(text=f"early{n}"), WORK.schema))
            early[header.id] = (raw, send(raw, header.id))

        traffic = Traffic(client, client, requests=REQUESTS, notifications=0, delay=lambda n: 40).start()
        wait_for(lambda: traffic.progress() >= REQUESTS // 4, 120, "a quarter of the calls")
        wait_for(lambda: host_a.effects(), 60, "host A to run handlers")
        host_a.kill()
        traffic.join(240)
        outcomes = traffic.outcomes
        assert not outcomes.crashes, outcomes.crashes
        assert not outcomes.failed, outcomes.failed
        assert len(outcomes.answered) == REQUESTS
        assert all(answer == text for text, answer in outcomes.answered.items())

        # The early requests again, byte for byte: only host B is left, and it answers from the store.
        effects_a = host_a.effects()
        for message_id, (raw, first) in early.items():
            assert send(raw, message_id) == first
        after_b = host_b.effects()
        for message_id in early:
            runs = [e.started for e in (effects_a.get(message_id), after_b.get(message_id)) if e is not None]
            assert runs == [1], f"{message_id} ran {runs}"

        # Only what host A held when it died (at most its prefetch) may have run on both hosts.
        both = [message_id for message_id in after_b if message_id in effects_a]
        assert len(both) <= 8, both
        assert {e.text for e in (*effects_a.values(), *after_b.values())} >= set(outcomes.answered)

        host_b.stop()
        verify = subprocess.run(
            [
                *(sys.executable, "-m", "bus.cli", "audit", "verify", POSTGRES_URL, "--as", PROVIDER),
                *("--home", str(host_b.home), "--json", "--no-progress"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
        assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]
        report = json.loads(verify.stdout)
        assert report["records"] >= 2 * (EARLY + REQUESTS)
    finally:
        for host in hosts:
            host.stop()


def _received(host: Host) -> bool:
    return any(line.get("event") == "message" and line.get("direction") == "in" for line in host.lines())


@pytest.fixture
def office_bus(tmp_path: Path) -> Iterator[TestBus]:
    drop_schemas(POSTGRES_URL, participant_prefix(MEF))
    with TestBus(tmp_path / "bus", broker=RABBITMQ_URL) as test_bus:
        grant_office(test_bus, MEF, desks=[], depositors=[PORTAL])
        test_bus.sign_catalogue()
        yield test_bus
    drop_schemas(POSTGRES_URL, participant_prefix(MEF))


def test_a_mail_office_on_two_hosts_numbers_every_deposit_once_without_gaps(
    office_bus: TestBus, tmp_path: Path
) -> None:
    """Deposits from four portal threads reach both hosts of one office; host A is killed mid-stream."""
    office = {
        "target": "teleservices.mail_office:app",
        "participant": MEF,
        "env": {"GOVBUS_MAIL_OFFICE_ID": MEF},
    }
    hosts = [Host(name, office_bus, tmp_path, **office) for name in ("office-a", "office-b")]  # type: ignore[arg-type]
    deposits = 48
    numbers: dict[str, str] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()
    try:
        for host in hosts:
            host.start()
        portal = Client(node=office_bus.node(PORTAL))

        def deposit(indexes: range) -> None:
            for index in indexes:
                subject = f"Demande {index}"
                try:
                    ack = portal.call(MEF, DEPOSIT, letter(subject), timeout=60)
                except Exception as error:  # reported below (CallFailed, or a crash)
                    with lock:
                        failures.append(error)
                else:
                    with lock:
                        numbers[subject] = ack.registration_number

        threads = [threading.Thread(target=deposit, args=(range(n, deposits, 4),)) for n in range(4)]
        for thread in threads:
            thread.start()
        wait_for(lambda: len(numbers) >= deposits // 4, 120, "a quarter of the deposits")
        wait_for(lambda: _received(hosts[0]), 60, "deposits on host A")
        hosts[0].kill()
        for thread in threads:
            thread.join(240)
        assert not failures, failures
        assert len(numbers) == deposits
        counters = sorted(int(number.rsplit("/", 1)[1]) for number in numbers.values())
        assert counters == list(range(1, deposits + 1))  # unique and gap-free across both hosts
        assert _received(hosts[1])
    finally:
        for host in hosts:
            host.stop()
