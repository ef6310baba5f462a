"""A provider and a subscriber killed with SIGKILL mid-stream, then restarted: nothing hangs, nothing is lost."""

from __future__ import annotations

import time

import pytest

from bus.faults import FaultCode
from sdk.testing import TestBus
from tests.faults.conftest import StartWorker
from tests.faults.harness import Traffic, wait_for
from tests.faults.service import CLIENT, EVENT, NOTIFIER, WORK

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

REQUESTS = 2000
NOTIFICATIONS = 2000
WORKER_THREADS = 4


def test_a_provider_and_a_subscriber_killed_mid_stream_lose_nothing(
    fault_bus: TestBus, workers: StartWorker
) -> None:
    provider = workers("provider", threads=WORKER_THREADS)
    subscriber = workers("subscriber", threads=WORKER_THREADS)
    notifier = fault_bus.node(NOTIFIER)
    receipts: set[str] = set()
    notifier.inbox().register(EVENT, lambda receipt, ctx: receipts.add(receipt.header.correlation_id or ""))
    traffic = Traffic(
        fault_bus.node(CLIENT),
        notifier,
        requests=REQUESTS,
        notifications=NOTIFICATIONS,
        timeout=30,
        delay=lambda n: 20 if n % 10 == 0 else None,  # some handlers are mid-run when the kill comes
    ).start()

    wait_for(
        lambda: len(provider.effects()) >= REQUESTS // 4 and len(subscriber.effects()) >= NOTIFICATIONS // 4,
        120,
        "a quarter of the traffic to take effect",
    )
    provider.kill()
    subscriber.kill()
    killed_at = (len(provider.effects()), len(subscriber.effects()))
    time.sleep(1)  # calls and notifications pile up while nobody consumes
    provider.start()
    subscriber.start()
    traffic.join(240)

    outcomes = traffic.outcomes
    assert outcomes.crashes == []
    assert killed_at[0] < REQUESTS and killed_at[1] < NOTIFICATIONS, "the kill came after the traffic"

    # Every call returned: answered correctly, or failed cleanly with a fault code.
    assert len(outcomes.answered) + len(outcomes.failed) == REQUESTS
    assert all(answer == text for text, answer in outcomes.answered.items())
    assert set(outcomes.failed.values()) <= {FaultCode.TIMEOUT}, outcomes.failed
    assert len(outcomes.failed) <= WORKER_THREADS, outcomes.failed

    # Every answered request ran; only those on a worker thread at the kill may have run twice.
    requests = provider.effects()
    ran = {effect.text for effect in requests.values()}
    assert set(outcomes.answered) <= ran
    assert all(effect.runs >= 1 for effect in requests.values() if effect.text in outcomes.answered)
    assert sum(effect.started > 1 for effect in requests.values()) <= WORKER_THREADS

    # Every confirmed notification takes effect exactly once and gets its signed receipt back.
    assert outcomes.unconfirmed == {}
    assert len(outcomes.confirmed) == NOTIFICATIONS
    effects = wait_for(
        lambda: (
            (found := subscriber.effects()).keys() >= outcomes.confirmed.keys()
            and all(e.runs for e in found.values())
            and found
        ),
        120,
        "every notification to take effect (those cut short by the kill, again)",
    )
    assert {id_: e.text for id_, e in effects.items()} == outcomes.confirmed
    assert sum(effect.started > 1 for effect in effects.values()) <= WORKER_THREADS
    wait_for(lambda: receipts >= outcomes.confirmed.keys(), 120, "a receipt for every notification")

    # Nothing was dead-lettered, and the restarted workers serve on.
    transport = fault_bus.transport
    topology = transport.topology
    service_queue = topology.service_queue(str(WORK.service_of(provider.participant)))
    subscription = topology.subscription_queue(subscriber.participant, str(EVENT.service_of(NOTIFIER)))
    for queue in (service_queue, subscription):
        assert transport.queue_depth(topology.dead_letter_queue(queue)) == 0
    assert provider.alive and subscriber.alive
    assert provider.errors() == [] and subscriber.errors() == []
