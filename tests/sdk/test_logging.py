"""The JSON log lines of a call: each message line names its correlation id and its peer."""

from __future__ import annotations

import io
import json

import structlog

from sdk import configure_logging
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, EchoService, Ping


def test_message_lines_carry_the_correlation_id_and_the_peer(bus) -> None:
    stream = io.StringIO()
    bus.start(EchoService().app)
    client = bus.client(CLIENT)
    configure_logging("INFO", stream=stream)
    try:
        client.call(PROVIDER, ECHO, Ping(text="traced"))
    finally:
        structlog.reset_defaults()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    messages = {(m["participant"], m["direction"], m["kind"]): m for m in lines if m["event"] == "message"}
    request = messages[(CLIENT, "out", "request")]
    assert request["peer"] == PROVIDER and request["correlation_id"] is None
    assert messages[(PROVIDER, "in", "request")]["peer"] == CLIENT
    answer = messages[(PROVIDER, "out", "response")]
    assert answer["peer"] == CLIENT and answer["correlation_id"] == request["id"]
    received = messages[(CLIENT, "in", "response")]
    assert received["peer"] == PROVIDER and received["correlation_id"] == request["id"]
    handled = [m for m in lines if m.get("message_id") == request["id"]]
    assert handled and all(m["peer"] == CLIENT for m in handled)  # bound while the provider handles it
