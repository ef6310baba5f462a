"""The participant runtime: per-node resources injected into handlers, refusals, the composition root."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bus.faults import FaultCode
from sdk import CallFailed, Context, Environment, Provider, inject, open_node
from sdk.testing import TestBus
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, Ping, Pong


class Refused(Exception):
    code = "Echo.Domain"

    def __init__(self, reason: str) -> None:
        super().__init__(f"{self.code}: {reason}")
        self.reason = reason


def counting_app(events: list[str]) -> tuple[Provider, object]:
    app = Provider(PROVIDER)

    @app.resource
    def counter(env: Environment) -> Iterator[list[str]]:
        events.append(f"open counter {env.participant}")
        seen: list[str] = []
        yield seen
        events.append(f"close counter {len(seen)}")

    @app.resource
    def greeting(env: Environment) -> Iterator[str]:
        events.append(f"open greeting after {len(env.use(counter))}")
        yield "hello"
        events.append("close greeting")

    app.refuse(Refused)

    @app.implement(ECHO)
    def echo(request: Ping, ctx: Context, seen: list[str] = inject(counter)) -> Pong:
        if request.text == "domain":
            raise Refused("not for this echo")
        seen.append(request.text)
        return Pong(text=f"{ctx.use(greeting)} {request.text}", by=str(len(seen)))

    return app, counter


def test_resources_are_set_up_in_order_injected_and_torn_down_in_reverse(tmp_path) -> None:
    events: list[str] = []
    app, counter = counting_app(events)
    with TestBus(tmp_path / "bus") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        running = bus.start(app)
        client = bus.client(CLIENT)
        assert client.call(PROVIDER, ECHO, Ping(text="a")) == Pong(text="hello a", by="1")
        assert client.call(PROVIDER, ECHO, Ping(text="b")).by == "2"
        assert running.use(counter) == ["a", "b"]
        assert not hasattr(Context, "node")  # a handler reaches its resources, never the whole node
        running.stop()
        with pytest.raises(LookupError):
            running.use(counter)
    assert events == [
        f"open counter {PROVIDER}",
        "open greeting after 0",
        "close greeting",
        "close counter 2",
    ]


def test_each_node_has_its_own_resources(tmp_path) -> None:
    app, counter = counting_app([])
    with TestBus(tmp_path / "bus") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        first, second = bus.start(app), bus.start(app)
        client = bus.client(CLIENT)
        for text in "abcdef":
            client.call(PROVIDER, ECHO, Ping(text=text))
        assert first.use(counter) is not second.use(counter)
        assert sorted(first.use(counter) + second.use(counter)) == list("abcdef")


def test_a_mapped_domain_error_is_a_refusal_with_its_code(tmp_path) -> None:
    app, _ = counting_app([])
    with TestBus(tmp_path / "bus") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        bus.start(app)
        with pytest.raises(CallFailed) as failed:
            bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="domain"))
    assert failed.value.code is FaultCode.HANDLER_ERROR
    assert failed.value.service_code == "Echo.Domain"
    assert failed.value.reason == "not for this echo"


def test_a_failed_start_tears_down_what_was_set_up(tmp_path) -> None:
    events: list[str] = []
    app = Provider(PROVIDER)

    @app.resource
    def first(env: Environment) -> Iterator[int]:
        events.append("open first")
        yield 1
        events.append("close first")

    @app.resource
    def broken(env: Environment) -> Iterator[int]:
        raise RuntimeError("cannot open")
        yield 2

    with TestBus(tmp_path / "bus") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        node = bus.node(PROVIDER)
        with pytest.raises(RuntimeError, match="cannot open"):
            app.start(node)
        assert first not in node.resources
    assert events == ["open first", "close first"]


def test_the_composition_root_leaves_nothing_open_when_a_step_fails(tmp_path) -> None:
    with TestBus(tmp_path / "bus") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        bus.sign_catalogue()
        with pytest.raises(Exception, match=r"scheme|broker|URL|url"):
            open_node(CLIENT, home=bus.home, broker="nosuch://broker")
        # the message log and the idempotency store were closed again: a new node opens them at once
        with open_node(CLIENT, home=bus.home, broker=bus.transport) as node:
            assert node.participant == bus.participant(CLIENT)
            assert node.anchor_sender is None
