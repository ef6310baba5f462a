"""CNSS certificate end to end: in-process on memory://, and with the CNSS as a ``govbus run`` process on RabbitMQ."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from bus.faults import FaultCode
from sdk import CallFailed, Client
from sdk.testing import TestBus
from teleservices.cnss_attestation import (
    ATTESTATION,
    PARTICIPANT,
    PURPOSE_REQUIRED,
    AttestationRequest,
    Standing,
    app,
)
from teleservices.cnss_attestation.employers import ATLAS, RIF, SOUSS, UNKNOWN_ICE
from tests.conftest import RABBITMQ_URL
from tests.pilots.processes import GovbusRun, wait_until

PROCUREMENT = "MA/GOV/MEF/marches-publics"
OUTSIDER = "MA/COM/CASABLANCA/urbanisme"
PURPOSE = "public procurement: bidders of tender AO-117/2026"


@dataclass
class Cnss:
    bus: TestBus
    procurement: Client
    outsider: Client


def _ready(client: Client) -> bool:
    try:
        client.call(PARTICIPANT, ATTESTATION, AttestationRequest(ice=ATLAS.ice), purpose=PURPOSE, timeout=3)
    except CallFailed:
        return False
    return True


@pytest.fixture(params=["memory", "rabbitmq"])
def cnss(request: pytest.FixtureRequest, tmp_path) -> Iterator[Cnss]:
    """The CNSS provider in this process (memory://) or as ``govbus run`` (RabbitMQ, own prefix)."""
    on_rabbitmq = request.param == "rabbitmq"
    if on_rabbitmq:
        request.applymarker(pytest.mark.rabbitmq)
    with TestBus(tmp_path / "bus", broker=RABBITMQ_URL if on_rabbitmq else None) as bus:
        bus.publish(ATTESTATION, provider=PARTICIPANT, clients=[PROCUREMENT])
        bus.participant(OUTSIDER)
        bus.sign_catalogue()
        process = None
        if on_rabbitmq:
            process = GovbusRun(
                "teleservices.cnss_attestation:app",
                home=bus.root,
                broker=RABBITMQ_URL,
                prefix=bus.prefix,
                logs=tmp_path / "logs",
            )
        else:
            bus.start(app)
        try:
            procurement = bus.client(PROCUREMENT)
            wait_until(lambda: _ready(procurement), deadline=90, what="a first successful call")
            yield Cnss(bus, procurement, bus.client(OUTSIDER))
        finally:
            if process is not None:
                process.stop()


def _attest(cnss: Cnss, **identifier: str):
    return cnss.procurement.call(PARTICIPANT, ATTESTATION, AttestationRequest(**identifier), purpose=PURPOSE)


def test_a_company_in_good_standing_gets_a_certificate_valid_from_today(cnss):
    answer = _attest(cnss, ice=ATLAS.ice)
    assert answer.outcome is Standing.GOOD
    assert answer.company is not None and answer.company.name == ATLAS.name
    assert answer.company.affiliation == ATLAS.affiliation
    assert answer.certificate is not None
    assert answer.certificate.issued == date.today()
    assert answer.certificate.valid_until > answer.certificate.issued
    assert answer.certificate.number.startswith(f"ATT-{date.today().year}-")
    assert answer.reason is None


def test_the_same_company_asked_twice_the_same_day_gets_the_same_certificate(cnss):
    first = _attest(cnss, ice=ATLAS.ice)
    second = _attest(cnss, affiliation=ATLAS.affiliation)
    assert first.certificate == second.certificate


def test_companies_in_arrears_are_not_in_good_standing_by_ice_or_affiliation(cnss):
    unpaid = _attest(cnss, ice=SOUSS.ice)
    undeclared = _attest(cnss, affiliation=RIF.affiliation)
    assert unpaid.outcome is Standing.NOT_GOOD and unpaid.certificate is None
    assert "contributions unpaid" in (unpaid.reason or "")
    assert undeclared.outcome is Standing.NOT_GOOD and undeclared.company.ice == RIF.ice
    assert "declarations missing" in (undeclared.reason or "")


def test_an_unknown_company_is_an_answer_not_a_fault(cnss):
    answer = _attest(cnss, ice=UNKNOWN_ICE)
    assert answer.outcome is Standing.UNKNOWN
    assert answer.company is None and answer.certificate is None


def test_a_request_without_purpose_is_refused(cnss):
    with pytest.raises(CallFailed) as refused:
        cnss.procurement.call(PARTICIPANT, ATTESTATION, AttestationRequest(ice=ATLAS.ice))
    assert refused.value.code is FaultCode.HANDLER_ERROR
    assert refused.value.service_code == PURPOSE_REQUIRED


def test_an_administration_without_a_grant_is_denied(cnss):
    with pytest.raises(CallFailed) as denied:
        cnss.outsider.call(PARTICIPANT, ATTESTATION, AttestationRequest(ice=ATLAS.ice), purpose=PURPOSE)
    assert denied.value.code is FaultCode.ACCESS_DENIED
