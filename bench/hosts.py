"""Request/reply throughput of one participant on one host and on two, same run, as a ratio.

The echo provider runs as ``govbus run bench.echo_service:app`` with its stores on PostgreSQL
(``--storage``). One host: one provider process in its own working directory (a copy of the bus home:
its key, certificate and catalogue). Two hosts: two such processes, each in its own working directory,
sharing the PostgreSQL database (the idempotency store above all) and the service queue as competing
consumers. The same client threads, each its own ``Client`` on its own connection (as in
bench/request_reply.py), make signed calls for ``--seconds`` against each configuration, one after the
other in each round; each measurement reports calls/s, p50/p99 and CPU µs per call of the client process,
the provider process(es) of every host together and RabbitMQ. The ratio is two hosts / one host, the
median of the per-round ratios. On one machine the "hosts" share its CPUs with the clients and RabbitMQ,
so the ratio shows what a second host costs and brings here, not what two machines would reach.

    python -m bench.hosts [--broker URL] [--storage URL] [--seconds 5] [--clients 4] [--rounds 1]
        [--threads N] [--json]
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
from pathlib import Path
from typing import Any

from bench import cpu
from bench.echo_service import ECHO, PROVIDER
from bench.request_reply import (
    CLIENT,
    DEFAULT_BROKER,
    ROOT,
    Call,
    _broker_role,
    _default_threads,
    _wait_for_consumers,
    echo_clients,
    measure,
)
from bus.logging import configure_logging
from sdk.postgres import drop_schemas
from sdk.storage import participant_prefix
from sdk.testing import TestBus

DEFAULT_POSTGRES = "postgresql://govbus_test:govbus_test@127.0.0.1:5432/govbus_test"


class Host:
    """One provider process in its own working directory: its own copy of the bus home."""

    def __init__(
        self, home: Path, workdir: Path, broker: str, prefix: str, storage: str, threads: int
    ) -> None:
        self.workdir = workdir
        shutil.copytree(home, workdir / "home")
        self.log = workdir / "provider.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "bus.cli", "run", "bench.echo_service:app"),
                    *("--home", str(workdir / "home"), "--broker", broker, "--prefix", prefix),
                    *("--storage", storage, "--threads", str(threads), "--log-level", "WARNING"),
                ],
                cwd=workdir,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def wait_consuming(self, broker: str, queue: str, consumers: int) -> None:
        """Wait until the service queue has ``consumers`` consumers, this host's included."""
        try:
            _wait_for_consumers(broker, queue, consumers, self.process)
        except RuntimeError:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the provider in {self.workdir} did not start:\n{tail}") from None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)


def measure_hosts(
    bus: TestBus,
    workdirs: Path,
    hosts: int,
    calls: list[Call],
    *,
    broker: str,
    storage: str,
    threads: int,
    seconds: float,
) -> dict[str, Any]:
    """request_reply.measure of ``calls`` against ``hosts`` provider processes, each in a fresh working
    directory; the provider role is every host's process."""
    queue = bus.transport.declare_service(str(ECHO.service_of(PROVIDER)))[0]  # as the provider declares it
    started: list[Host] = []
    try:
        for n in range(hosts):
            workdir = Path(tempfile.mkdtemp(prefix=f"host{n + 1}-", dir=workdirs))
            started.append(Host(bus.home.root, workdir, broker, bus.prefix, storage, threads))
            started[-1].wait_consuming(broker, queue, n + 1)
        pids = {
            "client": [os.getpid()],
            "provider": [pid for host in started for pid in cpu.descendants(host.process.pid)],
            **_broker_role(),
        }
        return measure(calls, seconds, pids)
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
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per configuration")
    parser.add_argument("--clients", type=int, default=4, help="client threads, each on its own connection")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of one host then two hosts")
    parser.add_argument("--threads", type=int, default=None, help="govbus run --threads (default: run's own)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")
    threads = args.threads if args.threads is not None else _default_threads()
    one: list[dict[str, Any]] = []
    two: list[dict[str, Any]] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="govbus-hosts-") as scratch,
            TestBus(Path(scratch) / "bus", broker=args.broker) as bus,
        ):
            bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
            bus.sign_catalogue()
            clients, calls = echo_clients(str(bus.home.root), args.broker, bus.prefix, args.clients)
            try:
                for round_ in range(args.rounds):
                    for hosts, figures in ((1, one), (2, two)):
                        figures.append(
                            measure_hosts(
                                *(bus, Path(scratch), hosts, calls),
                                broker=args.broker,
                                storage=args.storage,
                                threads=threads,
                                seconds=args.seconds,
                            )
                        )
                        print(
                            f"[hosts] round {round_} hosts {hosts}: {figures[-1]['calls_per_s']:.0f}/s "
                            f"cpu {figures[-1]['cpu_us_per_call']}",
                            file=sys.stderr,
                            flush=True,
                        )
            finally:
                for client in clients:
                    client.close()
    finally:
        if args.storage.startswith("postgresql"):
            drop_schemas(args.storage, participant_prefix(PROVIDER))
    storage = args.storage.split(":", 1)[0]
    result = summary(one, two, clients=args.clients, seconds=args.seconds, threads=threads, storage=storage)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"request/reply, {args.clients} clients, {args.seconds:g} s, provider stores on {result['storage']}: "
        f"one host {result['one_host_calls_per_s']:.0f} calls/s, two hosts "
        f"{result['two_hosts_calls_per_s']:.0f} calls/s, ratio {result['ratio']:.2f}; CPU µs per call "
        f"{result['one_host']['cpu_us_per_call']} / {result['two_hosts']['cpu_us_per_call']}"
    )


def summary(
    one: list[dict[str, Any]],
    two: list[dict[str, Any]],
    *,
    clients: int,
    seconds: float,
    threads: int,
    storage: str,
) -> dict[str, Any]:
    """The benchmark's JSON from the rounds' measurements (``request_reply.measure`` results) of one host
    and of two, paired by round: medians, the median paired ratio and its range."""
    ratios = [b["calls_per_s"] / a["calls_per_s"] for a, b in zip(one, two, strict=True)]
    return {
        "benchmark": "hosts",
        "clients": clients,
        "seconds": seconds,
        "rounds": len(one),
        "threads": threads,
        "storage": storage,
        "one_host": _middle(one),
        "two_hosts": _middle(two),
        "one_host_calls_per_s": statistics.median(m["calls_per_s"] for m in one),
        "two_hosts_calls_per_s": statistics.median(m["calls_per_s"] for m in two),
        "ratio": round(statistics.median(ratios), 3),
        "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
    }


def _middle(figures: list[dict[str, Any]]) -> dict[str, Any]:
    """The measurement of median throughput among the rounds (its latency and CPU figures with it)."""
    return sorted(figures, key=lambda m: m["calls_per_s"])[len(figures) // 2]


if __name__ == "__main__":
    main()
