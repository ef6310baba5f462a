"""A three-node RabbitMQ cluster loses the node that leads the service's quorum queue, mid-stream.

Every participant (the in-process client and notifier, the provider and subscriber workers run by
``govbus run``) is given the addresses of all three nodes and connects to the first, node 1, which
therefore leads the quorum queues declared through it (``client-local``). Node 1 is then killed with
SIGKILL while calls, notifications and raw requests flow. The test shows: every participant reconnects to
a surviving node from its address list; calls end answered, or failed with a clean fault; no confirmed
message is lost (each confirmed notification and request takes effect at its worker, including workers
started only after the loss); no handler runs twice for one message (the idempotency store answers
copies); nothing is dead-lettered. The delay from the kill until the service answers again is printed and
written as JSON (``$GOVBUS_FAILOVER_JSON`` when set, for ``bench/failover.py``).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bus.faults import FaultCode
from bus.transport import mask_url
from bus.transport.rabbitmq import RabbitMQTransport
from sdk import CallFailed, Client, Node
from sdk.testing import TestBus
from tests.cluster.conftest import StartWorker
from tests.cluster.nodes import LocalCluster
from tests.faults.harness import Traffic, wait_for
from tests.faults.service import BACKUP, CLIENT, EVENT, NOTIFIER, PROVIDER, WORK, Work
from tests.faults.test_broker_restart import RawRequests, _drained

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # three nodes start, join and stop in it

REQUESTS = 400
NOTIFICATIONS = 400
REPORT_ENV = "GOVBUS_FAILOVER_JSON"
# What a call or a publish may fail with while the cluster elects new leaders: nothing was confirmed, the
# sender knows, and may send again.
CLEAN_FAILURES = {FaultCode.TIMEOUT, FaultCode.BROKER_UNAVAILABLE, FaultCode.PUBLISH_REJECTED}


class Probe:
    """One client calling WORK back to back, recording when each call was sent and when it was answered."""

    def __init__(self, client: Node) -> None:
        self.answered: list[tuple[float, float]] = []  # (sent, answered), time.monotonic()
        self.failed: list[FaultCode] = []
        self.crashes: list[BaseException] = []
        self._client = Client(node=client)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Probe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(90)
        assert not self._thread.is_alive()

    def _run(self) -> None:
        n = 0
        try:
            while not self._stop.is_set():
                sent = time.monotonic()
                text = f"p{n}"
                n += 1
                try:
                    done = self._client.call(PROVIDER, WORK, Work(text=text), timeout=30)
                except CallFailed as failure:
                    self.failed.append(failure.code)
                    time.sleep(0.2)
                    continue
                assert done.text == text
                self.answered.append((sent, time.monotonic()))
                time.sleep(0.005)
        except BaseException as error:
            self.crashes.append(error)

    def resume(self, killed_at: float) -> dict[str, float]:
        """Seconds from the kill to the first answer of a call sent after it, and the widest answer gap."""
        after = [answered for sent, answered in self.answered if sent >= killed_at]
        before = [answered for _, answered in self.answered if answered < killed_at]
        assert after, "no call sent after the kill was answered"
        assert before, "no call was answered before the kill"
        return {
            "resume_s": round(min(after) - killed_at, 3),
            "answer_gap_s": round(min(a for _, a in self.answered if a >= killed_at) - max(before), 3),
        }


def _reconnections(lines: list[dict[str, Any]]) -> list[str]:
    return [str(line.get("address")) for line in lines if line.get("event") == "reconnected to broker"]


def test_losing_the_leader_node_loses_no_confirmed_message_and_runs_no_handler_twice(
    cluster: LocalCluster, cluster_bus: TestBus, cluster_workers: StartWorker, tmp_path: Path
) -> None:
    provider = cluster_workers("provider")
    subscriber = cluster_workers("subscriber")
    client_node, notifier = cluster_bus.node(CLIENT), cluster_bus.node(NOTIFIER)
    transport = cluster_bus.transport
    assert isinstance(transport, RabbitMQTransport)
    first = cluster.nodes[0]
    assert transport.address == mask_url(first.url)

    topology = transport.topology
    work_queue = topology.service_queue(str(WORK.service_of(PROVIDER)))
    leader = cluster.node(cluster.leaders([work_queue])[work_queue])
    assert leader is first, "the service queue is led by the node its declarer connected to (client-local)"

    probe = Probe(client_node).start()
    traffic = Traffic(
        client_node, notifier, requests=REQUESTS, notifications=NOTIFICATIONS, pace=0.01
    ).start()
    raw = RawRequests(cluster_bus, client_node).start()
    wait_for(lambda: traffic.progress() >= (REQUESTS + NOTIFICATIONS) // 3, 180, "a third of the traffic")

    killed_at = time.monotonic()
    cluster.kill(leader)
    stopped_at = traffic.progress()
    traffic.join(300)
    wait_for(lambda: any(sent >= killed_at for sent, _ in probe.answered), 120, "the service to answer again")
    probe.stop()
    raw.stop()
    assert stopped_at < REQUESTS + NOTIFICATIONS, "the kill came after the traffic"

    # Everyone moved to a surviving node from its address list.
    survivors = {mask_url(node.url) for node in cluster.nodes if node is not leader}
    assert transport.address in survivors and transport.reconnections >= 1
    for worker in (provider, subscriber):
        moved = _reconnections(worker.lines())
        assert moved and set(moved) <= survivors, (worker.app, moved)
        assert worker.alive and worker.errors() == []
    new_leader = cluster.wait_for_leaders([work_queue], avoiding=leader.name)[work_queue]

    # Calls returned, answered or failed cleanly; the service answers after the loss.
    outcomes = traffic.outcomes
    assert outcomes.crashes == [] and raw.crashes == [] and probe.crashes == []
    assert len(outcomes.answered) + len(outcomes.failed) == REQUESTS
    assert all(answer == text for text, answer in outcomes.answered.items())
    assert set(outcomes.failed.values()) | set(probe.failed) <= CLEAN_FAILURES
    assert Client(node=client_node).call(PROVIDER, WORK, Work(text="after"), timeout=30).text == "after"

    # Every confirmed notification and request took effect exactly once, at the workers that rode through
    # the loss and at those started after it; no handler ran twice for one message.
    assert set(outcomes.unconfirmed.values()) | set(raw.refused) <= CLEAN_FAILURES
    assert len(outcomes.confirmed) > NOTIFICATIONS // 2 and len(raw.confirmed) > 50
    archive, backup = cluster_workers("archive"), cluster_workers("backup")
    sent_texts = {traffic.text("n", n) for n in range(NOTIFICATIONS)}
    for worker in (subscriber, archive):
        effects = wait_for(lambda w=worker: _drained(w, outcomes.confirmed), 120, f"{worker.app} to drain")
        assert {id_: effects[id_].text for id_ in outcomes.confirmed} == outcomes.confirmed
        assert {e.text for e in effects.values()} <= sent_texts
        assert len({e.text for e in effects.values()}) == len(effects)
        assert [e for e in effects.values() if (e.started, e.runs) != (1, 1)] == []
    effects = wait_for(lambda: _drained(backup, raw.confirmed), 120, "the backup provider to drain")
    assert {id_: effects[id_].text for id_ in raw.confirmed} == raw.confirmed
    assert [e for e in effects.values() if (e.started, e.runs) != (1, 1)] == []
    ran = provider.effects()
    assert {e.text for e in ran.values()} >= set(outcomes.answered)
    assert [e for e in ran.values() if (e.started, e.runs) != (1, 1)] == []

    queues = [topology.service_queue(str(WORK.service_of(p))) for p in (PROVIDER, BACKUP)]
    queues += [
        topology.subscription_queue(w.participant, str(EVENT.service_of(NOTIFIER)))
        for w in (subscriber, archive)
    ]
    for queue in queues:
        assert transport.queue_depth(topology.dead_letter_queue(queue)) == 0, queue

    report = {
        "benchmark": "failover",
        "nodes": len(cluster.nodes),
        "killed": leader.name,
        "new_leader": new_leader,
        **probe.resume(killed_at),
        "calls_answered": len(outcomes.answered) + len(probe.answered),
        "calls_failed": len(outcomes.failed) + len(probe.failed),
        "notifications_confirmed": len(outcomes.confirmed),
        "raw_requests_confirmed": len(raw.confirmed),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    text = json.dumps(report, indent=2)
    print(f"\nfailover: service resumed {report['resume_s']} s after SIGKILL of {leader.name}\n{text}")
    (tmp_path / "failover.json").write_text(text + "\n")
    if os.environ.get(REPORT_ENV):
        Path(os.environ[REPORT_ENV]).write_text(text + "\n")
