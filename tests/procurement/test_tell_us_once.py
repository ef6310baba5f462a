"""Tell us once: the MEF obtains the CNSS certificate over the bus and keeps the signed answer as evidence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bus.audit.trustfiles import TrustFiles
from bus.envelope import EnvelopeVerifier
from sdk.testing import TestBus
from teleservices import access_tracker, procurement
from teleservices.access_tracker import QUERY_ACCESSES, REPORT_ACCESS, AccessQuery
from teleservices.cnss_attestation import ATTESTATION
from teleservices.cnss_attestation import PARTICIPANT as CNSS
from teleservices.cnss_attestation import app as cnss_app
from teleservices.cnss_attestation.employers import ATLAS, SOUSS
from teleservices.procurement import APPLICATIONS, APPLY, UNAVAILABLE, Application, ApplicationsQuery
from tests.access_tracker.test_tracker import wait_for

PORTAL = "MA/GOV/ADD/portail"
TENDER = "AO-117/2026"


@pytest.fixture
def bus(tmp_path) -> Iterator[TestBus]:
    with TestBus(tmp_path / "bus") as test_bus:
        test_bus.publish(ATTESTATION, provider=CNSS, clients=[procurement.PARTICIPANT], personal=True)
        test_bus.publish(REPORT_ACCESS, provider=access_tracker.PARTICIPANT, clients=[CNSS])
        test_bus.publish(QUERY_ACCESSES, provider=access_tracker.PARTICIPANT, clients=[PORTAL])
        test_bus.publish(APPLY, provider=procurement.PARTICIPANT, clients=[PORTAL])
        test_bus.publish(APPLICATIONS, provider=procurement.PARTICIPANT, clients=[PORTAL])
        test_bus.sign_catalogue()
        test_bus.start(procurement.app)
        yield test_bus


def test_the_mef_obtains_the_certificate_itself_and_keeps_the_signed_answer(bus):
    bus.start(cnss_app)
    bus.start(access_tracker.app)
    portal = bus.client(PORTAL)
    record = portal.call(procurement.PARTICIPANT, APPLY, Application(tender=TENDER, ice=ATLAS.ice))
    assert record.standing == "good-standing"
    assert record.certificate is not None and record.certificate.startswith("ATT-")
    assert record.obtained_from == CNSS
    evidence = record.evidence_bytes()
    assert evidence is not None
    verified = EnvelopeVerifier(TrustFiles.from_home(bus.home).store()).verify(evidence, at=record.obtained)
    assert str(verified.header.client) == CNSS
    assert verified.header.data_subject == f"ICE:{ATLAS.ice}"
    assert verified.header.purpose == f"public procurement: application to tender {TENDER}"
    listed = portal.call(procurement.PARTICIPANT, APPLICATIONS, ApplicationsQuery(ice=ATLAS.ice)).applications
    assert [a.reference for a in listed] == [record.reference]
    assert listed[0].evidence_bytes() == evidence
    accesses = wait_for(
        lambda: (
            portal.call(
                access_tracker.PARTICIPANT, QUERY_ACCESSES, AccessQuery(subject=f"ICE:{ATLAS.ice}")
            ).accesses
        )
    )
    assert [(a.client, a.purpose) for a in accesses] == [(procurement.PARTICIPANT, verified.header.purpose)]


def test_a_company_in_arrears_is_recorded_as_such(bus):
    bus.start(cnss_app)
    record = bus.client(PORTAL).call(
        procurement.PARTICIPANT, APPLY, Application(tender=TENDER, ice=SOUSS.ice)
    )
    assert record.standing == "not-in-good-standing" and record.certificate is None
    assert record.evidence_bytes() is not None


def test_when_the_cnss_is_unreachable_the_application_is_kept_without_evidence(bus):
    record = bus.client(PORTAL).call(
        procurement.PARTICIPANT, APPLY, Application(tender=TENDER, ice=ATLAS.ice), timeout=20
    )
    assert record.standing == UNAVAILABLE and record.evidence is None
