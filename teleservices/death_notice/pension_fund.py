"""A pension fund subscribed to death notices: ``govbus run teleservices.death_notice:cmr`` (cnss, rcar, cimr).

Each fund is its own participant with its own register; the four share this code.
"""

from __future__ import annotations

from collections.abc import Iterator

from sdk import Context, Environment, Subscriber, inject
from teleservices.death_notice.contract import (
    DEATH_NOTICE,
    DEATH_NOTICE_CANCELLATION,
    CancellationReceipt,
    DeathNotice,
    DeathNoticeCancellation,
    DeathNoticeReceipt,
)
from teleservices.death_notice.pensions import PensionRegister
from teleservices.death_notice.population import FUNDS

PARTICIPANTS = {fund: f"MA/GOV/{fund}/pensions" for fund in FUNDS}


def pension_fund(fund: str, participant: str | None = None) -> Subscriber:
    """The subscriber of ``fund`` (CMR, CNSS, RCAR or CIMR), by default as ``MA/GOV/<fund>/pensions``."""
    if fund not in FUNDS:
        raise ValueError(f"unknown pension fund {fund!r}; one of {', '.join(FUNDS)}")
    app = Subscriber(participant or PARTICIPANTS[fund])

    @app.resource
    def pensions(env: Environment) -> Iterator[PensionRegister]:
        with PensionRegister.open(env.storage) as register:
            register.seed(fund)
            yield register

    @app.on(DEATH_NOTICE)
    def death_notice(
        notice: DeathNotice, ctx: Context, register: PensionRegister = inject(pensions)
    ) -> DeathNoticeReceipt:
        return register.record_death(str(ctx.client), notice)

    @app.on(DEATH_NOTICE_CANCELLATION)
    def cancellation(
        cancellation: DeathNoticeCancellation, ctx: Context, register: PensionRegister = inject(pensions)
    ) -> CancellationReceipt:
        return register.cancel(str(ctx.client), cancellation)

    return app


cmr = pension_fund("CMR")
cnss = pension_fund("CNSS")
rcar = pension_fund("RCAR")
cimr = pension_fund("CIMR")
