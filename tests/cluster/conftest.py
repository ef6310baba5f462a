"""Cluster-test fixtures: a three-node RabbitMQ cluster of its own (tests/cluster/nodes.py), a bus on it whose
participants are given the list of all three node addresses, and worker processes on the same list.

The cluster uses ports 5701-5703 and 25701-25703 and is deleted after each test; the machine's broker is
never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sdk.testing import TestBus
from tests.cluster.nodes import SERVER, LocalCluster
from tests.faults.harness import Worker
from tests.faults.service import ARCHIVE, BACKUP, CLIENT, EVENT, NOTIFIER, PROVIDER, SUBSCRIBER, WORK

APPS = {"provider": PROVIDER, "backup": BACKUP, "subscriber": SUBSCRIBER, "archive": ARCHIVE}
StartWorker = Callable[..., Worker]


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """Three joined RabbitMQ nodes, stopped and deleted afterwards."""
    if not SERVER.exists():
        pytest.skip(f"{SERVER} is missing (Debian's rabbitmq-server package)")
    nodes = LocalCluster(tmp_path_factory.mktemp("rabbitmq-cluster") / "nodes")
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture
def cluster_bus(cluster: LocalCluster, tmp_path: Path) -> Iterator[TestBus]:
    """WORK served by the provider (and backup) to the client; EVENT from the notifier to both subscribers."""
    # The topology goes with the cluster: deleting quorum queues one by one while a member is down waits
    # for each deletion's timeout.
    with TestBus(tmp_path / "bus", broker=cluster.broker, keep_topology=True) as bus:
        bus.publish(WORK, provider=PROVIDER, clients=[CLIENT])
        bus.publish(WORK, provider=BACKUP, clients=[CLIENT])
        bus.publish(EVENT, provider=NOTIFIER, clients=[SUBSCRIBER, ARCHIVE])
        bus.sign_catalogue()
        yield bus


@pytest.fixture
def cluster_workers(cluster: LocalCluster, cluster_bus: TestBus, tmp_path: Path) -> Iterator[StartWorker]:
    """``cluster_workers("provider")`` runs that app with ``govbus run --broker`` the cluster's address list."""
    started: list[Worker] = []
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(app: str, *, threads: int = 4, prefetch: int = 64) -> Worker:
        own = logs / f"worker-{len(started) + 1}"
        own.mkdir()
        worker = Worker(
            cluster_bus, app, APPS[app], own, broker=cluster.broker, threads=threads, prefetch=prefetch
        )
        started.append(worker)
        worker.start()
        return worker

    yield start
    for worker in started:
        worker.stop()
