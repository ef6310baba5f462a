"""Every connection closed by force mid-stream (twice): clients and workers reconnect, nothing is lost.

Each close comes while a request and a notification handler are held mid-run, so their deliveries
come back on the new connections while the first runs are still going. The connections closed are this
test's (``$GOVBUS_TEST_FORCE_CLOSE=all``: all of the node's, as ``rabbitmqctl close_all_connections``).
"""

from __future__ import annotations

import threading

import pytest

from sdk import Client
from sdk.idempotency import WAITING
from sdk.testing import TestBus
from tests.faults.conftest import StartWorker
from tests.faults.harness import Traffic, Worker, wait_for
from tests.faults.service import CLIENT, EVENT, NOTIFIER, PROVIDER, WORK, Work, release
from tests.helpers.rabbitmq import force_close

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

REQUESTS = 600
NOTIFICATIONS = 600
THREADS = 8  # room for the held handlers and their redeliveries while the rest flows
HELD = (100, 300)  # both on the same client thread, so the second comes later in the stream


def _started(worker: Worker, text: str) -> bool:
    return any(e.text == text and e.started > e.runs for e in worker.effects().values())


def _reconnections(worker: Worker) -> int:
    return sum(line.get("event") == "reconnected to broker" for line in worker.lines())


def _redelivered_meanwhile(worker: Worker, text: str) -> bool:
    """The held message came back while its first run goes on: it waits for that run, or runs again."""
    (effect,) = [e for e in worker.effects().values() if e.text == text]
    # The store's claims are keyed "<sender> <message id>" (see sdk.inbound).
    return effect.started > 1 or any(
        line.get("event") == WAITING and str(line.get("id", "")).rsplit(" ", 1)[-1] == effect.message_id
        for line in worker.lines()
    )


def test_connections_closed_by_force_mid_stream_lose_nothing(
    fault_bus: TestBus, workers: StartWorker
) -> None:
    provider = workers("provider", threads=THREADS)
    subscriber = workers("subscriber", threads=THREADS)
    notifier = fault_bus.node(NOTIFIER)
    receipts: set[str] = set()
    notifier.inbox().register(EVENT, lambda receipt, ctx: receipts.add(receipt.header.correlation_id or ""))
    traffic = Traffic(
        fault_bus.node(CLIENT),
        notifier,
        requests=REQUESTS,
        notifications=NOTIFICATIONS,
        delay=lambda n: 200 if n % 25 == 3 else None,
        hold=frozenset(HELD),
    ).start()

    closes = []
    for n in HELD:
        held = [(provider, traffic.text("r", n)), (subscriber, traffic.text("n", n))]
        wait_for(lambda held=held: all(_started(*h) for h in held), 120, f"handlers of {held} mid-run")
        closes.append(force_close(fault_bus.prefix))
        # The broker gives each held message back on the new connection while its first run goes on.
        wait_for(lambda held=held: all(_redelivered_meanwhile(*h) for h in held), 60, "the redeliveries")
        for worker, text in held:
            release(worker.data_dir, text)
    traffic.join(240)

    assert all(closed >= 3 for closed in closes), closes  # this process and both workers, each time
    outcomes = traffic.outcomes
    assert outcomes.crashes == []
    assert outcomes.failed == {}
    assert len(outcomes.answered) == REQUESTS
    assert all(answer == text for text, answer in outcomes.answered.items())
    assert outcomes.unconfirmed == {}
    assert len(outcomes.confirmed) == NOTIFICATIONS

    # No worker died, so every handler ran exactly once per message id, requests and notifications alike.
    requests = provider.effects()
    assert sorted(e.text for e in requests.values()) == sorted(outcomes.answered)
    assert [e for e in requests.values() if (e.started, e.runs) != (1, 1)] == []
    effects = wait_for(
        lambda: (
            (found := subscriber.effects()).keys() >= outcomes.confirmed.keys()
            and all(e.runs for e in found.values())
            and found
        ),
        120,
        "every notification to take effect",
    )
    assert {id_: e.text for id_, e in effects.items()} == outcomes.confirmed
    assert [e for e in effects.values() if (e.started, e.runs) != (1, 1)] == []
    wait_for(lambda: receipts >= outcomes.confirmed.keys(), 120, "a receipt for every notification")

    transport = fault_bus.transport
    assert getattr(transport, "reconnections", len(HELD)) >= len(HELD)
    topology = transport.topology
    for queue in (
        topology.service_queue(str(WORK.service_of(provider.participant))),
        topology.subscription_queue(subscriber.participant, str(EVENT.service_of(NOTIFIER))),
    ):
        assert transport.queue_depth(topology.dead_letter_queue(queue)) == 0
    assert _reconnections(provider) >= len(HELD) and _reconnections(subscriber) >= len(HELD)
    assert provider.alive and subscriber.alive
    assert provider.errors() == [] and subscriber.errors() == []


def test_a_redelivery_to_a_sibling_worker_waits_for_the_first_run(
    fault_bus: TestBus, workers: StartWorker
) -> None:
    first, second = workers("provider", threads=2), workers("provider", threads=2)  # one store, two processes
    client = Client(node=fault_bus.node(CLIENT))
    answers: list[object] = []

    def call() -> None:
        try:
            answers.append(client.call(PROVIDER, WORK, Work(text="hold-sibling"), timeout=30).text)
        except Exception as error:  # the assertion below shows what the call came to
            answers.append(error)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    wait_for(lambda: _started(first, "hold-sibling"), 60, "the held request to start in either worker")
    assert force_close(fault_bus.prefix) >= 3
    wait_for(
        lambda: (
            _redelivered_meanwhile(first, "hold-sibling") or _redelivered_meanwhile(second, "hold-sibling")
        ),
        60,
        "the redelivery",
    )
    release(first.data_dir, "hold-sibling")
    caller.join(60)
    assert answers == ["hold-sibling"]
    assert [(e.started, e.runs) for e in first.effects().values() if e.text == "hold-sibling"] == [(1, 1)]
