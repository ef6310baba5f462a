"""The auditor and bus authority consoles over HTTP, on the demo world's real bus (embedded broker, real
PKI, real message logs): who may open what, CSRF on every change, the confirmation step, and the results.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from cryptography import x509
from structlog.testing import capture_logs

from bus.audit import AnchorStore, checkpoint_payload, store
from bus.audit.trustfiles import TrustFiles
from bus.ids import ParticipantId
from bus.pki import TrustStore
from web.workspace.agents import Role
from web.workspace.app import Workspace
from web.workspace.audit.jobs import Busy, Job, Verifications

from ..conftest import PortalWorld, deposit, register, wait_until
from .conftest import csrf, sign_in
from .consoles_support import (
    OFFICE,
    TEST_SERVICE,
    dead_letter,
    office_log,
    queue_depth,
    sign_checkpoint,
    tampered_copy,
    workspace,  # noqa: F401  (the connected workspace replaces the plain one)
)

AUDIT_PAGES = ["/workspace/audit/", f"/workspace/audit/logs/{OFFICE}/records"]
AUTHORITY_PAGES = [
    "/workspace/authority/",
    "/workspace/authority/catalogue",
    "/workspace/authority/dead-letters",
    "/workspace/authority/workers",
]
AUDIT_POSTS = ["/workspace/audit/verify", "/workspace/audit/verify-copy"]
AUTHORITY_POSTS = [
    "/workspace/authority/certificates/issue",
    "/workspace/authority/certificates/revoke",
    "/workspace/authority/catalogue/grant",
    "/workspace/authority/catalogue/sign",
    "/workspace/authority/dead-letters/replay",
]
JOB = re.compile(r"/workspace/audit/jobs/([A-Za-z0-9_-]+)$")


@pytest.fixture(scope="module", autouse=True)
def cnss_auditor(workspace: Workspace) -> None:  # noqa: F811
    if workspace.agents.by_login("cnss.auditeur") is None:
        workspace.agents.create(
            login="cnss.auditeur",
            name="Karim Ouazzani",
            password="demo-agent-2026",
            roles={Role.AUDITOR},
            administration="MA/GOV/CNSS/bureau-ordre",
        )


def signed_in(new_client, login: str):  # type: ignore[no-untyped-def]
    client = new_client()
    sign_in(client, login)
    return client


def test_console_pages_by_role(new_client):
    anonymous = new_client()
    for path in AUDIT_PAGES + AUTHORITY_PAGES:
        assert anonymous.get(path).headers["location"] == "/workspace/login", path
    agent, auditor, admin = (
        signed_in(new_client, login) for login in ("mef.agent", "mef.auditeur", "bus.admin")
    )
    for path in AUDIT_PAGES:
        assert agent.get(path).status_code == 403, path
        assert admin.get(path).status_code == 403, path
        assert auditor.get(path).status_code == 200, path
    for path in AUTHORITY_PAGES:
        assert agent.get(path).status_code == 403, path
        assert auditor.get(path).status_code == 403, path
        assert admin.get(path).status_code == 200, path
    # the console link is shown to whom it opens for
    assert 'href="/workspace/audit/"' in auditor.get("/workspace/").text
    assert 'href="/workspace/audit/"' not in agent.get("/workspace/").text


def test_every_change_needs_the_role_and_the_csrf_token(new_client):
    agent, auditor, admin = (
        signed_in(new_client, login) for login in ("mef.agent", "mef.auditeur", "bus.admin")
    )
    for path in AUDIT_POSTS:
        assert auditor.post(path, data={"participant": OFFICE}).status_code == 403, path  # no token
        token = csrf(agent, "/workspace/")
        assert agent.post(path, data={"csrf": token, "participant": OFFICE}).status_code == 403, path
    for path in AUTHORITY_POSTS:
        fields = {"participant": "MA/GOV/TEST/console", "service": TEST_SERVICE, "client": OFFICE, "id": "x"}
        assert admin.post(path, data={**fields, "confirm": "yes"}).status_code == 403, path  # no token
        for other in (agent, auditor):
            token = csrf(other, "/workspace/")
            assert other.post(path, data={"csrf": token, **fields, "confirm": "yes"}).status_code == 403, path


def verify(client, **data: object):  # type: ignore[no-untyped-def]
    token = csrf(client, "/workspace/audit/")
    if "files" in data:
        response = client.post("/workspace/audit/verify-copy", data={"csrf": token}, files=data["files"])
    else:
        response = client.post("/workspace/audit/verify", data={"csrf": token, **data})
    return response


def finished(client, response):  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert JOB.search(location), location
    wait_until(lambda: client.get(location + "/status").json()["state"] != "running", what="verification")
    return location, client.get(location).text


def citizen_traffic(new_client) -> None:  # type: ignore[no-untyped-def]
    citizen = new_client()
    register(citizen)
    assert deposit(citizen, subject="Demande d'attestation (audit)").status_code == 303


def test_auditor_verifies_the_office_log_and_a_tampered_copy(
    new_client, portal_world: PortalWorld, tmp_path: Path
):
    citizen_traffic(new_client)
    auditor = signed_in(new_client, "mef.auditeur")
    index = auditor.get("/workspace/audit/").text
    assert f'data-participant="{OFFICE}"' in index
    assert "MA/GOV/CNSS/bureau-ordre" not in index  # another administration's logs are not listed
    location, page = finished(auditor, verify(auditor, participant=OFFICE))
    assert 'data-result="ok"' in page, page
    # the running page refreshes itself without JavaScript, and follows the job with it
    # (checked on a job that is still running would need a slow log; the markup is in the template)
    copy = tampered_copy(portal_world, tmp_path, seq=3)
    _, page = finished(auditor, verify(auditor, files={"copy": ("copie.sqlite", copy.read_bytes())}))
    assert 'data-result="invalid"' in page
    assert 'id="first-problem" data-seq="3"' in page
    assert "record 3 does not match its hash" in page
    # the job is the MEF's: another administration's auditor cannot read it, nor verify the MEF's logs
    other = signed_in(new_client, "cnss.auditeur")
    assert other.get(location).status_code == 404
    assert verify(other, participant=OFFICE).status_code == 404
    refused = verify(other, files={"copy": ("copie.sqlite", copy.read_bytes())})
    assert refused.status_code == 400 and "autre administration" in refused.text
    junk = verify(auditor, files={"copy": ("copie.sqlite", b"not a database" * 100)})
    assert junk.status_code == 400 and "pas un journal" in junk.text


def test_one_running_verification_per_log_and_a_few_at_once(
    new_client, portal_world: PortalWorld, tmp_path: Path
):
    citizen_traffic(new_client)
    home = portal_world.world.bus.home
    trust = TrustFiles.from_home(home)
    jobs = Verifications(limit=1)
    office = office_log(portal_world)
    copy = tampered_copy(portal_world, tmp_path, seq=1)
    held = Job("held", OFFICE, OFFICE, "messages.sqlite", (office,), "test")
    jobs._jobs[held.id] = held  # a verification of the office's log still running

    def start(path: Path) -> Job:
        return jobs.start(
            administration=OFFICE,
            participant=OFFICE,
            label=path.name,
            paths=[path],
            trust=trust,
            anchors=[],
            include_archives=False,
            started_by="test",
        )

    assert start(office) is held  # the same log: the running verification, not a second one
    with pytest.raises(Busy):
        start(copy)  # another log, but the limit of verifications at once is reached
    held.state = "done"
    job = start(copy)
    wait_until(lambda: job.state != "running", what="verification")
    assert job.report is not None and job.report.first_problem is not None
    assert job.report.first_problem.seq == 1
    assert jobs.get(job.id, OFFICE) is job
    assert jobs.get(job.id, "MA/GOV/CNSS/bureau-ordre") is None


def test_a_running_verification_page_follows_its_progress(
    new_client,
    portal_world: PortalWorld,
    workspace: Workspace,  # noqa: F811
):
    assert workspace.bus is not None
    running = Job(
        "running-job", OFFICE, OFFICE, "messages.sqlite", (office_log(portal_world),), "test", 800, 200
    )
    workspace.bus.verifications._jobs[running.id] = running  # a long verification, a quarter done
    try:
        auditor = signed_in(new_client, "mef.auditeur")
        page = auditor.get("/workspace/audit/jobs/running-job").text
        assert '<progress id="progress" max="100" value="25">' in page
        assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page  # without JavaScript
        assert '<script src="/static/audit.js"></script>' in page  # with it: polls the status
        status = auditor.get("/workspace/audit/jobs/running-job/status").json()
        assert status == {"id": "running-job", "state": "running", "done": 200, "total": 800, "percent": 25}
        assert auditor.get("/static/audit.js").status_code == 200
    finally:
        running.state = "done"


def test_anchor_status_and_anchored_verification(
    new_client,
    portal_world: PortalWorld,
    workspace: Workspace,  # noqa: F811
    tmp_path: Path,
):
    citizen_traffic(new_client)
    sign_checkpoint(portal_world)
    home = portal_world.world.bus.home
    conn = store.connect(office_log(portal_world), readonly=True)
    checkpoint = store.latest_checkpoint(conn)
    conn.close()
    assert checkpoint is not None
    anchors = tmp_path / "anchors.sqlite"
    with AnchorStore.open(anchors, TrustStore.from_home(home)) as held:
        held.accept(checkpoint_payload(checkpoint), sender=OFFICE)
    assert workspace.bus is not None
    auditor = signed_in(new_client, "mef.auditeur")
    assert "non configuré" in auditor.get("/workspace/audit/").text
    workspace.bus.anchors = anchors
    try:
        index = auditor.get("/workspace/audit/").text
        row = index.split(f'data-participant="{OFFICE}"', 1)[1].split("</tr>", 1)[0]
        assert "concordant" in row and f"n° {checkpoint.seq}" in row
        _, page = finished(auditor, verify(auditor, participant=OFFICE))
        assert 'data-result="ok"' in page
        assert re.search(r"Points ancrés comparés</dt><dd>[1-9]", page)
    finally:
        workspace.bus.anchors = None


def test_search_and_evidence_bundle(new_client, portal_world: PortalWorld):
    citizen_traffic(new_client)
    sign_checkpoint(portal_world)
    auditor = signed_in(new_client, "mef.auditeur")
    base = f"/workspace/audit/logs/{OFFICE}/records"
    page = auditor.get(base, params={"outcome": "accepted", "client": "MA/GOV/PORTAL/portail"}).text
    rows = re.findall(r'<tr data-seq="(\d+)">', page)
    everything = re.findall(r'<tr data-seq="(\d+)">', auditor.get(base).text)
    assert everything and set(rows) <= set(everything)
    none = auditor.get(base, params={"service": "MA/GOV/NONE/x/y/v1"}).text
    assert re.findall(r'<tr data-seq="(\d+)">', none) == []
    assert auditor.get(base, params={"since": "hier"}).status_code == 400
    link = re.search(r'href="(/workspace/audit/logs/[^"]+/export\?message=[^"]+)"', auditor.get(base).text)
    assert link
    bundle = auditor.get(link.group(1).replace("&amp;", "&"))
    assert bundle.status_code == 200, bundle.text
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        assert "manifest.json" in archive.namelist()
    assert (
        auditor.get(f"/workspace/audit/logs/{OFFICE}/export", params={"message": "nope"}).status_code == 409
    )
    assert auditor.get("/workspace/audit/logs/MA/GOV/CNSS/bureau-ordre/records").status_code == 404
    assert auditor.get("/workspace/audit/logs/..%2F..%2Fetc/records").status_code == 404


def confirm_then(http, path: str, **fields: str):  # type: ignore[no-untyped-def]
    """Post a change: the first answer is the confirmation page; then the confirmed form."""
    token = csrf(http, "/workspace/authority/")
    asked = http.post(path, data={"csrf": token, **fields})
    assert asked.status_code == 200 and "Confirmer" in asked.text, asked.text
    return asked, http.post(path, data={"csrf": token, **fields, "confirm": "yes"})


def test_an_unreadable_log_is_listed_and_verified_as_such(new_client, portal_world: PortalWorld):
    home = portal_world.world.bus.home
    directory = home.participant_dir(ParticipantId.parse("MA/GOV/MEF/casse"))
    directory.mkdir(parents=True)
    try:
        (directory / "messages.sqlite").write_bytes(b"plus une base SQLite" * 64)
        auditor = signed_in(new_client, "mef.auditeur")
        row = auditor.get("/workspace/audit/").text.split('data-participant="MA/GOV/MEF/casse"', 1)[1]
        assert "illisible" in row.split("</tr>", 1)[0]
        _, page = finished(auditor, verify(auditor, participant="MA/GOV/MEF/casse"))
        assert 'data-result="invalid"' in page and "<code>unreadable</code>" in page
    finally:
        shutil.rmtree(directory)


def test_admin_issues_and_revokes_a_certificate(new_client, portal_world: PortalWorld):
    admin = signed_in(new_client, "bus.admin")
    home = portal_world.world.bus.home
    participant = "MA/GOV/TEST/revocable"
    with capture_logs() as logs:
        _, done = confirm_then(admin, "/workspace/authority/certificates/issue", participant=participant)
    assert done.status_code == 303
    assert {
        "event": "web.authority_action",
        "agent": "bus.admin (Autorité du bus)",
        "action": "certificate.issue",
        "participant": participant,
    }.items() <= next(e for e in logs if e["event"] == "web.authority_action").items()
    assert f"Certificat émis pour <code>{participant}</code>" in admin.get(done.headers["location"]).text
    assert f'data-participant="{participant}" data-status="valide"' in admin.get("/workspace/authority/").text
    asked, done = confirm_then(admin, "/workspace/authority/certificates/revoke", participant=participant)
    assert "Révoquer tous les certificats de MA/GOV/TEST/revocable" in asked.text
    assert done.status_code == 303
    assert (
        f'data-participant="{participant}" data-status="révoqué"' in admin.get("/workspace/authority/").text
    )
    crl = x509.load_pem_x509_crl(home.crl.read_bytes())
    serial = x509.load_pem_x509_certificate(
        home.participant_cert(portal_world.world.bus.participant(participant)).read_bytes()
    ).serial_number
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    token = csrf(admin, "/workspace/authority/")
    again = admin.post(
        "/workspace/authority/certificates/revoke",
        data={"csrf": token, "participant": participant, "confirm": "yes"},
    )
    assert again.status_code == 400 and "no unrevoked certificate" in again.text
    bad = admin.post(
        "/workspace/authority/certificates/issue",
        data={"csrf": token, "participant": "../../etc", "confirm": "yes"},
    )
    assert bad.status_code == 400


def test_admin_sees_the_catalogue_diff_before_signing(new_client, portal_world: PortalWorld):
    admin = signed_in(new_client, "bus.admin")
    dead_letter(portal_world)  # publishes the test service
    client = "MA/GOV/CNSS/bureau-ordre"
    _, done = confirm_then(
        admin, "/workspace/authority/catalogue/grant", client=client, service=TEST_SERVICE, change="allow"
    )
    assert done.status_code == 303
    page = admin.get("/workspace/authority/catalogue").text
    assert f"+ grant       {client} call {TEST_SERVICE}" in page
    token = csrf(admin, "/workspace/authority/")
    stale = admin.post(
        "/workspace/authority/catalogue/sign", data={"csrf": token, "expected": "x", "confirm": "yes"}
    )
    assert stale.status_code == 409  # the diff confirmed is not the draft's any more
    asked = admin.post("/workspace/authority/catalogue/sign", data={"csrf": token})
    expected = re.search(r'name="expected" value="([0-9a-f]+)"', asked.text)
    assert expected
    done = admin.post(
        "/workspace/authority/catalogue/sign",
        data={"csrf": token, "expected": expected.group(1), "confirm": "yes"},
    )
    assert f"+ grant       {client} call {TEST_SERVICE}" in asked.text and 'id="diff"' in asked.text
    assert done.status_code == 303
    page = admin.get("/workspace/authority/catalogue").text
    assert 'id="draft-diff-none"' in page
    token = csrf(admin, "/workspace/authority/")
    assert (
        admin.post(
            "/workspace/authority/catalogue/grant",
            data={"csrf": token, "client": "x", "service": TEST_SERVICE, "confirm": "yes"},
        ).status_code
        == 400
    )


def test_admin_shows_and_replays_a_dead_letter(new_client, portal_world: PortalWorld):
    admin = signed_in(new_client, "bus.admin")
    message_id = dead_letter(portal_world)
    listing = admin.get("/workspace/authority/dead-letters").text
    assert TEST_SERVICE in listing
    queue = admin.get("/workspace/authority/dead-letters/queue", params={"service": TEST_SERVICE}).text
    assert message_id in queue
    shown = admin.get(
        "/workspace/authority/dead-letters/message", params={"service": TEST_SERVICE, "id": message_id}
    )
    assert (
        shown.status_code == 200 and 'data-ok="no"' in shown.text and "&lt;not-an-envelope/&gt;" in shown.text
    )
    waiting = queue_depth(portal_world, dead=False)
    _, done = confirm_then(
        admin, "/workspace/authority/dead-letters/replay", service=TEST_SERVICE, id=message_id
    )
    assert done.status_code == 303
    assert queue_depth(portal_world, dead=False) == waiting + 1
    assert (
        message_id
        not in admin.get("/workspace/authority/dead-letters/queue", params={"service": TEST_SERVICE}).text
    )
    token = csrf(admin, "/workspace/authority/")
    gone = admin.post(
        "/workspace/authority/dead-letters/replay",
        data={"csrf": token, "service": TEST_SERVICE, "id": message_id, "confirm": "yes"},
    )
    assert gone.status_code == 404


def test_workers_health_shows_down_workers(new_client):
    admin = signed_in(new_client, "bus.admin")
    page = admin.get("/workspace/authority/workers").text
    assert 'data-worker="bureau-ordre-mef" data-up="yes"' in page
    assert 'data-worker="attestations-cnss" data-up="no"' in page and "HORS SERVICE" in page
