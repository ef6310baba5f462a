"""The echo teleservice the request/reply benchmark serves with ``govbus run bench.echo_service:app``."""

from __future__ import annotations

from sdk import Context, Notification, Payload, Provider, RequestReply, Subscriber, element

SCHEMA = "echo.xsd"  # a resource of this package
NS = "urn:t:echo:1"
PROVIDER = "MA/GOV/BENCH/echo"


class Ping(Payload, tag="Ping", ns="e", nsmap={"e": NS}):
    text: str = element()


class Pong(Payload, tag="Pong", ns="e", nsmap={"e": NS}):
    text: str = element()
    by: str = element()


ECHO = RequestReply("echo", 1, SCHEMA, request=Ping, response=Pong)

app = Provider(PROVIDER)


@app.implement(ECHO)
def echo(request: Ping, ctx: Context) -> Pong:
    return Pong(text=request.text, by=str(ctx.participant))


NOTE = Notification("bench.note", 1, SCHEMA, notification=Ping, receipt=Pong)
NOTIFIER = "MA/GOV/BENCH/notifier"
FUND = "MA/GOV/BENCH/fund"

fund = Subscriber(FUND)
"""The subscriber the notification benchmark runs with ``govbus run bench.echo_service:fund``."""


@fund.on(NOTE)
def noted(note: Ping, ctx: Context) -> Pong:
    return Pong(text="noted", by=str(ctx.participant))
