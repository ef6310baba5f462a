"""The CNSS's provider of attestations: ``govbus run teleservices.cnss_attestation:app``."""

from __future__ import annotations

from datetime import date

from sdk import Context, Node, Provider, ServiceError
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


@app.on_start
def seed_register(node: Node) -> None:
    """Create and seed the employer register on first start."""
    with EmployerRegister.open(node.data_dir) as register:
        register.seed(date.today())


@app.implement(ATTESTATION)
def attestation(request: AttestationRequest, ctx: Context) -> Attestation:
    """Answer from the employer register; refuse a request that declares no purpose (law 09-08)."""
    if not ctx.purpose:
        raise ServiceError(
            "a CNSS attestation is only given for a declared purpose: send one", code=PURPOSE_REQUIRED
        )
    today = date.today()
    with EmployerRegister.open(ctx.data_dir) as register:
        employer = register.find(ice=request.ice, affiliation=request.affiliation)
        if employer is None:
            return Attestation(outcome=Standing.UNKNOWN)
        company = CompanyIdentity(name=employer.name, ice=employer.ice, affiliation=employer.affiliation)
        standing, reason = register.standing(employer, today)
        if standing is not Standing.GOOD:
            return Attestation(outcome=standing, company=company, reason=reason)
        return Attestation(
            outcome=standing, company=company, certificate=register.certificate(employer, today)
        )
