"""An app started with ``inline``: its handlers on the broker connection's own thread.

``govbus run`` starts apps this way by default (``--inline``): every verification rule, the log before
the ack and the idempotent answer to a duplicate hold as with handler threads.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest

from bus.transport.rabbitmq import RabbitMQTransport
from sdk import CallFailed, Context
from sdk.messagelog import LOG_FILE
from tests.sdk.echo import CLIENT, ECHO, FUNDS, NOTE, NOTIFIER, PROVIDER, EchoService, Ping, Pong, fund


def test_an_inline_provider_answers_refuses_and_logs_as_a_threaded_one(bus) -> None:
    service = EchoService()
    threads: set[str] = set()
    original = service.echo

    def echo(request: Ping, ctx: Context) -> Pong:
        threads.add(threading.current_thread().name)
        return original(request, ctx)

    service.app.implementations[ECHO] = echo
    bus.start(service.app, inline=True)
    client = bus.client(CLIENT)
    answers = [client.call(PROVIDER, ECHO, Ping(text=f"n{i}"), purpose="test") for i in range(10)]
    assert [a.text for a in answers] == [f"n{i}" for i in range(10)]
    with pytest.raises(CallFailed) as refused:
        client.call(PROVIDER, ECHO, Ping(text="refuse"), purpose="test")
    assert refused.value.service_code == "Echo.Refused"
    assert client.call(PROVIDER, ECHO, Ping(text="still alive"), purpose="test").text == "still alive"
    if isinstance(bus.transport, RabbitMQTransport):
        assert threads == {"govbus-amqp-io"}  # no worker thread was used
    with sqlite3.connect(bus.node(PROVIDER).data_dir / LOG_FILE) as log:
        rows = log.execute("SELECT direction, outcome FROM records").fetchall()
    assert rows.count(("in", "accepted")) == 12  # each request logged before its ack, refusal included
    assert rows.count(("out", "fault")) == 1


def test_inline_subscribers_answer_every_notification_with_a_receipt(bus) -> None:
    """A receipt never makes the handler wait: the transport acks the notification on its confirm."""
    handled = {}
    for participant in FUNDS:
        app, handled[participant] = fund(participant)
        bus.start(app, inline=True)
    result = bus.client(NOTIFIER).notify(NOTE, Ping(text="inline app"), timeout=15)
    assert result.missing == []
    assert sorted(str(r.subscriber) for r in result.receipts) == sorted(FUNDS)
    assert all(seen == ["inline app"] for seen in handled.values())
