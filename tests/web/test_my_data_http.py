"""Who used my data and tell us once, over HTTP against the demo world."""

from __future__ import annotations

from teleservices.cnss_attestation.employers import SOUSS

from .conftest import csrf_of, register, wait_until


def test_a_company_applies_and_sees_the_cnss_query_among_who_used_its_data(client, portal_world):
    register(client, SOUSS.ice, kind="company", name="Souss Agro SA")
    token = csrf_of(client, "/procurement")
    applied = client.post("/procurement", data={"csrf": token, "tender": "AO-203/2026"})
    assert applied.status_code == 303, applied.text
    page = client.get("/procurement")
    assert "Certificat obtenu auprès de la CNSS le" in page.text
    assert "pas en règle" in page.text
    reference = page.text.split('data-application="')[1].split('"')[0]
    evidence = client.get(f"/procurement/{reference}/evidence.xml")
    assert evidence.status_code == 200 and b"<dataSubject>ICE:" + SOUSS.ice.encode() in evidence.content
    data = wait_until(
        lambda: (
            (p := client.get("/my-data")).status_code == 200 and "MA/GOV/MEF/marches-publics" in p.text and p
        )
    )
    assert "public procurement: application to tender AO-203/2026" in data.text
    assert "vérifié dans le journal du fournisseur" in data.text


def test_a_citizen_has_no_tender_page_and_sees_no_access(client):
    register(client)
    assert client.get("/procurement").status_code == 404
    page = client.get("/my-data")
    assert page.status_code == 200 and 'id="no-access"' in page.text


def test_a_post_without_csrf_is_refused(client):
    register(client, kind="company")
    assert client.post("/procurement", data={"tender": "AO-117/2026"}).status_code == 403


def test_another_companys_evidence_is_not_reachable(client, portal_world):
    register(client, kind="company")
    assert client.get("/procurement/MEF-AO-2026-00001/evidence.xml").status_code == 404
