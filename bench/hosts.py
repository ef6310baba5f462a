"""Request/reply throughput of one participant on one host and on two, same run, as a ratio.

The echo provider runs as ``govbus run bench.echo_service:app`` with its stores on PostgreSQL
(``--storage``). One host: one provider process in its own working directory (a copy of the bus home:
its key, certificate and catalogue). Two hosts: two such processes, each in its own working directory,
sharing the PostgreSQL database (the idempotency store above all) and the service queue as competing
consumers. The same client processes make signed calls for ``--seconds`` against each configuration, one
after the other in each round; the ratio is two hosts / one host. On one machine the "hosts" share its
CPUs with the clients and RabbitMQ, so the ratio shows what a second host costs and brings here, not
what two machines would reach.

    python -m bench.hosts [--broker URL] [--storage URL] [--seconds 5] [--clients 4] [--rounds 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench.echo_service import ECHO, PROVIDER, Ping
from bench.request_reply import CLIENT, Measure, _govbus_client, _measure_processes
from bus.logging import configure_logging
from sdk.postgres import drop_schemas
from sdk.storage import participant_prefix
from sdk.testing import TestBus

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_POSTGRES = "postgresql://govbus_test:govbus_test@127.0.0.1:5432/govbus_test"


class Host:
    """One provider process in its own working directory: its own copy of the bus home."""

    def __init__(self, home: Path, workdir: Path, broker: str, prefix: str, storage: str) -> None:
        self.workdir = workdir
        shutil.copytree(home, workdir / "home")
        self.log = workdir / "provider.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "bus.cli", "run", "bench.echo_service:app"),
                    *("--home", str(workdir / "home"), "--broker", broker, "--prefix", prefix),
                    *("--storage", storage, "--threads", "4", "--log-level", "INFO"),
                ],
                cwd=workdir,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def wait_started(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while '"app.started"' not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"provider in {self.workdir} did not start:\n{self.log.read_text()[-2000:]}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)


def measure(
    bus: TestBus, workdirs: Path, hosts: int, *, broker: str, storage: str, clients: int, seconds: float
) -> Measure:
    """Calls per second with ``hosts`` provider processes, each in a fresh working directory."""
    started = []
    try:
        for n in range(hosts):
            workdir = Path(tempfile.mkdtemp(prefix=f"host{n + 1}-", dir=workdirs))
            started.append(Host(bus.home.root, workdir, broker, bus.prefix, storage))
        for host in started:
            host.wait_started()
        bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="ready?"), timeout=30)
        return _measure_processes(
            f"{hosts} host(s)", clients, seconds, _govbus_client, (str(bus.root), broker, bus.prefix)
        )
    finally:
        for host in started:
            host.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default=os.environ.get("GOVBUS_BROKER", DEFAULT_BROKER))
    parser.add_argument(
        "--storage",
        default=os.environ.get("GOVBUS_TEST_POSTGRES", DEFAULT_POSTGRES),
        help="the provider's storage URL (the hosts share it only on PostgreSQL)",
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of one host then two hosts")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")
    one: list[Measure] = []
    two: list[Measure] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="govbus-hosts-") as scratch,
            TestBus(Path(scratch) / "bus", broker=args.broker) as bus,
        ):
            bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
            bus.sign_catalogue()
            options = {"broker": args.broker, "storage": args.storage, "clients": args.clients}
            for _ in range(args.rounds):
                one.append(measure(bus, Path(scratch), 1, seconds=args.seconds, **options))  # type: ignore[arg-type]
                two.append(measure(bus, Path(scratch), 2, seconds=args.seconds, **options))  # type: ignore[arg-type]
    finally:
        if args.storage.startswith("postgresql"):
            drop_schemas(args.storage, participant_prefix(PROVIDER))
    single = statistics.median(m.calls_per_s for m in one)
    double = statistics.median(m.calls_per_s for m in two)
    result = {
        "benchmark": "hosts",
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "storage": args.storage.split(":", 1)[0],
        "one_host": asdict(one[len(one) // 2]),
        "two_hosts": asdict(two[len(two) // 2]),
        "one_host_calls_per_s": single,
        "two_hosts_calls_per_s": double,
        "ratio": double / single,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"request/reply, {args.clients} client processes, {args.seconds:g} s, provider stores on {result['storage']}: "
        f"one host {single:.0f} calls/s, two hosts {double:.0f} calls/s, ratio {double / single:.2f}"
    )


if __name__ == "__main__":
    main()
