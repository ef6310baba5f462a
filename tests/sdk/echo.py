"""A tiny teleservice used by the SDK tests: echo (request/reply) and note (notification)."""

from __future__ import annotations

import threading
import time

from sdk import Context, Notification, Payload, Provider, RequestReply, ServiceError, Subscriber, element

SCHEMA = "echo.xsd"  # a resource of this package
NS = "urn:t:echo:1"
PROVIDER = "MA/GOV/ECHO/svc"
CLIENT = "MA/GOV/MEF/tresorerie"
OUTSIDER = "MA/GOV/OTHER/x"
NOTIFIER = "MA/COM/RABAT/etat-civil"
FUNDS = ["MA/GOV/CMR/pensions", "MA/GOV/CNSS/pensions", "MA/GOV/RCAR/pensions"]


class Ping(Payload, tag="Ping", ns="e", nsmap={"e": NS}):
    text: str = element()


class Pong(Payload, tag="Pong", ns="e", nsmap={"e": NS}):
    text: str = element()
    by: str = element()


ECHO = RequestReply("echo", 1, SCHEMA, request=Ping, response=Pong)
NOTE = Notification("note", 1, SCHEMA, notification=Ping, receipt=Pong)


class EchoService:
    """A provider app plus what its handler saw, for assertions."""

    def __init__(self, participant: str = PROVIDER) -> None:
        self.app = Provider(participant)
        self.seen: list[str] = []
        self.lock = threading.Lock()
        self.app.implement(ECHO)(self.echo)

    def echo(self, request: Ping, ctx: Context) -> Pong:
        with self.lock:
            self.seen.append(request.text)
        if request.text == "fail":
            raise RuntimeError("handler bug")
        if request.text == "refuse":
            raise ServiceError("cannot serve this request", code="Echo.Refused")
        if request.text.startswith("sleep:"):
            time.sleep(float(request.text.split(":", 1)[1]))
        if request.text == "bad-response":
            return Ping(text="not a pong")  # type: ignore[return-value]
        return Pong(text=request.text, by=f"{ctx.participant} for {ctx.client} ({ctx.purpose})")


def fund(participant: str) -> tuple[Subscriber, list[str]]:
    """A subscriber that records the notifications it handled."""
    app = Subscriber(participant)
    seen: list[str] = []

    @app.on(NOTE)
    def on_note(notice: Ping, ctx: Context) -> Pong:
        seen.append(notice.text)
        return Pong(text=notice.text, by=str(ctx.participant))

    return app, seen
