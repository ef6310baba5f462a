"""The civil-status office of a commune: registers deaths, notifies the funds, records their receipts.

Run the app on a node (``app.start(node)``) and send through a ``Client`` on the same node, so receipts
arriving after ``send_notice`` returns (a fund that was down) are still recorded::

    running = rabat.start(node)
    client = Client(node=node)
    act = declare_death(client, deceased, date_of_death=..., place_of_death="Rabat")
    result = send_notice(client, act)
    unanswered(client, act)          # funds that have not answered yet
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sdk import App, Client, Context, Environment, NotifyResult, Receipt
from teleservices.death_notice.civil_register import (
    CANCELLATION,
    NOTICE,
    Answer,
    CivilRegister,
    Kind,
    Office,
)
from teleservices.death_notice.contract import (
    DEATH_NOTICE,
    DEATH_NOTICE_CANCELLATION,
    CancellationReceipt,
    DeathNoticeReceipt,
    Deceased,
)

PURPOSE = "suspension of pensions after a death (civil status law 36-21)"

RABAT = Office(
    participant="MA/COM/RABAT/etat-civil",
    kind="commune",
    name="Rabat",
    registry="Bureau d'état civil de Rabat-Hassan",
)


def commune(office: Office) -> App:
    """The app of ``office``: seeds its register on start and records every receipt it gets."""
    app = App(office.participant)

    @app.resource
    def civil_register(env: Environment) -> Iterator[CivilRegister]:
        with CivilRegister.open(env.storage) as register:
            register.seed(office, date.today())
            yield register

    @app.on_receipt(DEATH_NOTICE)
    def notice_receipt(receipt: Receipt, ctx: Context) -> None:
        _record(ctx.use(civil_register), [receipt])

    @app.on_receipt(DEATH_NOTICE_CANCELLATION)
    def cancellation_receipt(receipt: Receipt, ctx: Context) -> None:
        _record(ctx.use(civil_register), [receipt])

    return app


rabat = commune(RABAT)


def declare_death(client: Client, deceased: Deceased, *, date_of_death: date, place_of_death: str) -> str:
    """Register a death in the client's civil register; return the act number."""
    with CivilRegister.open(client.node.scope.storage) as register:
        return register.declare(
            deceased, date_of_death=date_of_death, place_of_death=place_of_death, today=date.today()
        )


def send_notice(client: Client, act: str, *, timeout: float = 5.0) -> NotifyResult:
    """Notify every subscribed fund of the death of ``act``; wait up to ``timeout`` s for receipts."""
    with CivilRegister.open(client.node.scope.storage) as register:
        notice = register.notice(act)
    result = client.notify(DEATH_NOTICE, notice, purpose=PURPOSE, timeout=timeout)
    _sent(client.node.data_dir, result, act, NOTICE)
    return result


def send_cancellation(client: Client, act: str, reason: str, *, timeout: float = 5.0) -> NotifyResult:
    """Withdraw the notice of ``act`` (declared in error) from every subscribed fund."""
    with CivilRegister.open(client.node.scope.storage) as register:
        cancellation = register.cancel(act, reason)
    result = client.notify(DEATH_NOTICE_CANCELLATION, cancellation, purpose=PURPOSE, timeout=timeout)
    _sent(client.node.data_dir, result, act, CANCELLATION)
    return result


def answers(client: Client, act: str, kind: Kind = NOTICE) -> list[Answer]:
    """Each fund's latest answer about ``act``."""
    with CivilRegister.open(client.node.scope.storage) as register:
        return register.answers(act, kind)


def unanswered(client: Client, act: str, kind: Kind = NOTICE) -> list[str]:
    """Funds that have not answered the notice (or cancellation) of ``act`` yet."""
    with CivilRegister.open(client.node.scope.storage) as register:
        return register.unanswered(act, kind)


def answer_of(receipt: Receipt) -> Answer:
    """What a receipt says, as the register keeps it."""
    fund = str(receipt.subscriber)
    if receipt.fault is not None:
        return Answer(fund, "refused", fault=f"{receipt.fault.code}: {receipt.fault.reason}")
    payload = receipt.payload
    if isinstance(payload, DeathNoticeReceipt):
        return Answer(fund, str(payload.outcome), payload.pension_number, payload.suspended_from)
    if isinstance(payload, CancellationReceipt):
        return Answer(fund, str(payload.outcome), payload.pension_number)
    return Answer(fund, "unreadable", fault="receipt payload not decoded")


def _sent(directory: Path, result: NotifyResult, act: str, kind: Kind) -> None:
    with CivilRegister.open(directory) as register:
        register.record_sent(result.notification_id, act, kind, [str(p) for p in result.expected])
        _record(register, result.receipts)


def _record(register: CivilRegister, receipts: list[Receipt]) -> None:
    for receipt in receipts:
        correlation = receipt.header.correlation_id
        if correlation:
            register.record_receipt(correlation, answer_of(receipt))
