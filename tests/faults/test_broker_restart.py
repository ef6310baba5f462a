"""The RabbitMQ application stopped and started mid-stream: no confirmed message is lost.

The provider and a subscriber run through the restart; the backup provider and the archive subscriber
start only afterwards, so their queues hold every confirmed request and notification across it. The
application is started again whatever happens (``restarted_app``), but it stops for everyone using the
node (``$GOVBUS_TEST_RABBITMQ_NODE``): run this on a broker of your own, or serially in CI.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from bus.envelope import Header, MessageKind
from bus.faults import Fault, FaultCode
from bus.transport import OutgoingMessage
from sdk import Client, Node
from sdk.contract import encode
from sdk.testing import TestBus
from tests.faults.conftest import StartWorker
from tests.faults.harness import Traffic, Worker, wait_for
from tests.faults.service import BACKUP, CLIENT, EVENT, NOTIFIER, PROVIDER, WORK, Effect, Work
from tests.helpers.rabbitmq import restarted_app

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

REQUESTS = 600
NOTIFICATIONS = 600
OUTAGE_SECONDS = 3.0


class RawRequests:
    """Signed WORK requests for the backup provider published straight to its queue until stopped."""

    def __init__(self, bus: TestBus, client: Node) -> None:
        self.confirmed: dict[str, str] = {}  # message id -> text
        self.refused: list[FaultCode] = []
        self.crashes: list[BaseException] = []
        self._bus, self._client = bus, client
        self._service = WORK.service_of(BACKUP)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RawRequests:
        self._bus.transport.declare_service(str(self._service))
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)
        assert not self._thread.is_alive()

    def _run(self) -> None:
        transport = self._bus.transport
        n = 0
        try:
            while not self._stop.is_set():
                text = f"b{n}"
                n += 1
                header = Header.new(
                    MessageKind.REQUEST, self._client.participant, self._service, ttl=timedelta(minutes=10)
                )
                raw = self._client.sign(header, encode(Work(text=text), WORK.schema))
                try:
                    transport.publish(
                        transport.topology.requests_exchange,
                        str(self._service),
                        OutgoingMessage(raw, message_id=header.id),
                    )
                except Fault as fault:
                    self.refused.append(fault.code)
                else:
                    self.confirmed[header.id] = text
                time.sleep(0.01)
        except BaseException as error:
            self.crashes.append(error)


def _drained(worker: Worker, expected: dict[str, str]) -> dict[str, Effect] | None:
    """The worker's effects once every expected message id took effect and no handler is mid-run."""
    found = worker.effects()
    if found.keys() >= expected.keys() and all(e.runs for e in found.values()):
        return found
    return None


def test_a_broker_restart_mid_stream_loses_no_confirmed_message(
    fault_bus: TestBus, workers: StartWorker
) -> None:
    provider = workers("provider")
    subscriber = workers("subscriber")
    client_node, notifier = fault_bus.node(CLIENT), fault_bus.node(NOTIFIER)
    traffic = Traffic(
        client_node, notifier, requests=REQUESTS, notifications=NOTIFICATIONS, pace=0.01
    ).start()
    raw = RawRequests(fault_bus, client_node).start()

    wait_for(lambda: traffic.progress() >= (REQUESTS + NOTIFICATIONS) // 3, 120, "a third of the traffic")
    with restarted_app():
        stopped_at = traffic.progress()
        time.sleep(OUTAGE_SECONDS)
    traffic.join(240)
    raw.stop()
    assert stopped_at < REQUESTS + NOTIFICATIONS, "the restart came after the traffic"

    # Calls returned, answered or failed cleanly; the provider serves again after the restart.
    outcomes = traffic.outcomes
    assert outcomes.crashes == [] and raw.crashes == []
    assert len(outcomes.answered) + len(outcomes.failed) == REQUESTS
    assert all(answer == text for text, answer in outcomes.answered.items())
    assert set(outcomes.failed.values()) <= {FaultCode.TIMEOUT, FaultCode.BROKER_UNAVAILABLE}
    assert Client(node=client_node).call(PROVIDER, WORK, Work(text="after"), timeout=30).text == "after"

    # Every confirmed notification and request took effect exactly once, at the workers that rode
    # through the restart and at those started after it.
    assert set(outcomes.unconfirmed.values()) <= {FaultCode.BROKER_UNAVAILABLE}
    assert set(raw.refused) <= {FaultCode.BROKER_UNAVAILABLE}
    assert len(outcomes.confirmed) > NOTIFICATIONS // 2 and len(raw.confirmed) > 100
    archive, backup = workers("archive"), workers("backup")
    sent_texts = {traffic.text("n", n) for n in range(NOTIFICATIONS)}
    for worker, expected in ((subscriber, outcomes.confirmed), (archive, outcomes.confirmed)):
        effects = wait_for(lambda w=worker, e=expected: _drained(w, e), 120, f"{worker.app} to drain")
        assert {id_: effects[id_].text for id_ in expected} == expected
        assert {e.text for e in effects.values()} <= sent_texts
        assert len({e.text for e in effects.values()}) == len(effects)
        assert [e for e in effects.values() if (e.started, e.runs) != (1, 1)] == []
    effects = wait_for(lambda: _drained(backup, raw.confirmed), 120, "the backup provider to drain")
    assert {id_: effects[id_].text for id_ in raw.confirmed} == raw.confirmed
    assert [e for e in effects.values() if (e.started, e.runs) != (1, 1)] == []

    transport = fault_bus.transport
    topology = transport.topology
    queues = [topology.service_queue(str(WORK.service_of(p))) for p in (PROVIDER, BACKUP)]
    queues += [
        topology.subscription_queue(w.participant, str(EVENT.service_of(NOTIFIER)))
        for w in (subscriber, archive)
    ]
    for queue in queues:
        assert transport.queue_depth(topology.dead_letter_queue(queue)) == 0, queue
    for worker in (provider, subscriber):
        assert any(line.get("event") == "reconnected to broker" for line in worker.lines())
        assert worker.alive and worker.errors() == []
