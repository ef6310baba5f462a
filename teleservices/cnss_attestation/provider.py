"""The CNSS's provider of attestations: ``govbus run teleservices.cnss_attestation:app``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sdk import Context, Environment, Provider, ServiceError, inject
from teleservices.access_tracker import AccessReporter, access_reporting
from teleservices.cnss_attestation.contract import (
    ATTESTATION,
    Attestation,
    AttestationRequest,
    CompanyIdentity,
    Standing,
)
from teleservices.cnss_attestation.employers import EmployerRegister

PARTICIPANT = "MA/GOV/CNSS/attestations"
PURPOSE_REQUIRED = "CnssAttestation.PurposeRequired"

app = Provider(PARTICIPANT)


def _employers(env: Environment) -> Iterator[EmployerRegister]:
    """The employer register of the node (created and seeded on the first start)."""
    with EmployerRegister.open(env.storage) as register:
        register.seed(date.today())
        yield register


EMPLOYERS = app.resource(_employers)
REPORTER = access_reporting(app)


@app.implement(ATTESTATION)
def attestation(
    request: AttestationRequest,
    ctx: Context,
    register: EmployerRegister = inject(EMPLOYERS),
    reporter: AccessReporter = inject(REPORTER),
) -> Attestation:
    """Answer from the employer register; refuse a request that declares no purpose (law 09-08).

    The catalogue marks the service personal, so the bus already refused a call without purpose or data
    subject; a declared access is reported to the access tracker (from the outbox, after the answer).
    """
    if not ctx.purpose:
        raise ServiceError(
            "a CNSS attestation is only given for a declared purpose: send one", code=PURPOSE_REQUIRED
        )
    if ctx.data_subject is not None:
        reporter.report(ctx)
    today = date.today()
    employer = register.find(ice=request.ice, affiliation=request.affiliation)
    if employer is None:
        return Attestation(outcome=Standing.UNKNOWN)
    company = CompanyIdentity(name=employer.name, ice=employer.ice, affiliation=employer.affiliation)
    standing, reason = register.standing(employer, today)
    if standing is not Standing.GOOD:
        return Attestation(outcome=standing, company=company, reason=reason)
    return Attestation(outcome=standing, company=company, certificate=register.certificate(employer, today))
