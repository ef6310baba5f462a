"""The access tracker end to end on the embedded broker: report from the outbox, query by the portal, check."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner

from bus.audit.trustfiles import TrustFiles
from bus.faults import FaultCode
from sdk import CallFailed
from sdk.testing import TestBus
from teleservices import access_tracker
from teleservices.access_tracker import (
    QUERY_ACCESSES,
    REPORT_ACCESS,
    AccessQuery,
    AccessReport,
    check_access,
    cli,
    provider_log,
)
from teleservices.cnss_attestation import ATTESTATION, AttestationRequest, Standing
from teleservices.cnss_attestation import PARTICIPANT as CNSS
from teleservices.cnss_attestation import app as cnss_app
from teleservices.cnss_attestation.employers import ATLAS
from teleservices.cnss_attestation.provider import REPORTER

PROCUREMENT = "MA/GOV/MEF/marches-publics"
PORTAL = "MA/GOV/ADD/portail"
TRACKER = access_tracker.PARTICIPANT
PURPOSE = "public procurement: tender AO-117/2026"
SUBJECT = f"ICE:{ATLAS.ice}"


def wait_for(condition: Callable[[], object], timeout: float = 15.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def bus(tmp_path) -> Iterator[TestBus]:
    with TestBus(tmp_path / "bus") as test_bus:
        test_bus.publish(ATTESTATION, provider=CNSS, clients=[PROCUREMENT], personal=True)
        test_bus.publish(REPORT_ACCESS, provider=TRACKER, clients=[CNSS])
        test_bus.publish(QUERY_ACCESSES, provider=TRACKER, clients=[PORTAL])
        test_bus.sign_catalogue()
        yield test_bus


def _accesses(bus: TestBus) -> list[access_tracker.Access]:
    return bus.client(PORTAL).call(TRACKER, QUERY_ACCESSES, AccessQuery(subject=SUBJECT)).accesses


def test_an_access_is_reported_listed_for_the_portal_and_checks_against_the_providers_log(bus):
    bus.start(access_tracker.app)
    bus.start(cnss_app)
    answer = bus.client(PROCUREMENT).call(
        CNSS, ATTESTATION, AttestationRequest(ice=ATLAS.ice), purpose=PURPOSE, data_subject=SUBJECT
    )
    assert answer.outcome is Standing.GOOD
    accesses = wait_for(lambda: _accesses(bus))
    assert len(accesses) == 1
    entry = accesses[0]
    assert (entry.subject, entry.client, entry.provider, entry.purpose) == (
        SUBJECT,
        PROCUREMENT,
        CNSS,
        PURPOSE,
    )
    assert entry.service == str(ATTESTATION.service_of(CNSS))
    trust = TrustFiles.from_home(bus.home)
    check = check_access(entry, provider_log(bus.home, CNSS), trust)
    assert check.ok, check.detail
    forged = check_access(
        entry.model_copy(update=dict(request_hash="0" * 64)), provider_log(bus.home, CNSS), trust
    )
    assert not forged.ok and "request hash" in forged.detail
    other = check_access(
        entry.model_copy(update=dict(subject="ICE:000000000000001")), provider_log(bus.home, CNSS), trust
    )
    assert not other.ok and "data subject" in other.detail
    unknown = check_access(
        entry.model_copy(update=dict(message_id="00000000-0000-4000-8000-000000000000")),
        provider_log(bus.home, CNSS),
        trust,
    )
    assert not unknown.ok


def test_a_report_waits_in_the_outbox_while_the_tracker_is_down_and_never_delays_the_answer(bus):
    running = bus.start(cnss_app)
    started = time.monotonic()
    bus.client(PROCUREMENT).call(
        CNSS, ATTESTATION, AttestationRequest(ice=ATLAS.ice), purpose=PURPOSE, data_subject=SUBJECT, timeout=5
    )
    assert time.monotonic() - started < 4
    reporter = running.node.resources.get(REPORTER)
    assert reporter.pending() == 1
    bus.start(access_tracker.app)
    reporter.pump.wake()
    wait_for(lambda: reporter.pending() == 0, timeout=30)
    assert [a.purpose for a in _accesses(bus)] == [PURPOSE]


def test_only_the_portal_may_list_accesses(bus):
    bus.start(access_tracker.app)
    with pytest.raises(CallFailed) as denied:
        bus.client(PROCUREMENT).call(TRACKER, QUERY_ACCESSES, AccessQuery(subject=SUBJECT))
    assert denied.value.code is FaultCode.ACCESS_DENIED


def test_a_provider_reports_only_its_own_accesses(bus):
    bus.start(access_tracker.app)
    report = AccessReport(
        subject=SUBJECT,
        client=PROCUREMENT,
        provider="MA/GOV/DGI/impots",
        service="MA/GOV/DGI/impots/x/v1",
        purpose=PURPOSE,
        message_id="00000000-0000-4000-8000-000000000000",
        request_hash="0" * 64,
        accessed="2026-12-01T10:00:00Z",
    )
    with pytest.raises(CallFailed) as refused:
        bus.client(CNSS).call(TRACKER, REPORT_ACCESS, report)
    assert refused.value.service_code == access_tracker.tracker.NOT_OWN_ACCESS


def test_the_check_command_checks_every_entry_of_a_subject(bus):
    bus.start(access_tracker.app)
    bus.start(cnss_app)
    bus.client(PROCUREMENT).call(
        CNSS, ATTESTATION, AttestationRequest(ice=ATLAS.ice), purpose=PURPOSE, data_subject=SUBJECT
    )
    wait_for(lambda: _accesses(bus))
    run = CliRunner().invoke(cli.main, ["check", SUBJECT, "--home", str(bus.root)])
    assert run.exit_code == 0, run.output
    assert "✓" in run.output and PURPOSE in run.output and "1 access(es)" in run.output
    bad = CliRunner().invoke(cli.main, ["check", "ICE:12", "--home", str(bus.root)])
    assert bad.exit_code == 2
