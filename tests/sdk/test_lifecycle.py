"""An app's start and stop hooks: opened before the first message, closed once after the last."""

from __future__ import annotations

from sdk import Provider
from sdk.testing import TestBus
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, Ping, Pong


def test_stop_hooks_run_once_after_the_consumers_ended(tmp_path):
    app = Provider(PROVIDER)
    calls: list[str] = []
    app.on_start(lambda node: calls.append(f"start {node.participant}"))
    app.on_stop(lambda node: calls.append(f"stop {node.participant}"))

    @app.implement(ECHO)
    def echo(request: Ping, ctx) -> Pong:
        calls.append("handled")
        return Pong(text=request.text, by=str(ctx.participant))

    with TestBus(tmp_path / "bus") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        running = bus.start(app)
        bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="hi"))
        running.stop()
        running.stop()
        assert calls == [f"start {PROVIDER}", "handled", f"stop {PROVIDER}"]
    assert calls.count(f"stop {PROVIDER}") == 1
