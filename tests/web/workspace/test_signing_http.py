"""The signature book in the workspace over HTTP: roles, CSRF, administrations, the circuit form, the
document viewer, the actions and the evidence bundle, against the demo world's real book over the bus."""

from __future__ import annotations

import html
import io
import uuid
import zipfile

from teleservices.signature_book import verify_bundle

from .conftest import csrf, sign_in
from .signing_helpers import do, one_page_pdf, submit_folder, submitted_folder

SG, DG, SGA = "MA/GOV/MEF/sg", "MA/GOV/MEF/dg", "MA/GOV/MEF/sg-adjoint"
CNSS_DG = "MA/GOV/CNSS/dg"


def test_each_page_needs_its_role(new_client):
    anonymous = new_client()
    assert anonymous.get("/workspace/sign").headers["location"] == "/workspace/login"
    agent, signer, clerk = new_client(), new_client(), new_client()
    sign_in(agent, "mef.agent")
    sign_in(signer, "mef.signataire")
    sign_in(clerk, "mef.clerc")
    assert agent.get("/workspace/sign").status_code == 403  # pending folders: signers only
    assert agent.get("/workspace/sign/delegations").status_code == 403
    assert signer.get("/workspace/sign/new").status_code == 403  # building folders: agents and heads
    assert clerk.get("/workspace/sign/submitted").status_code == 403
    assert clerk.get(f"/workspace/sign/folders/{uuid.uuid4()}").status_code == 403
    assert signer.get("/workspace/sign").status_code == 200
    assert agent.get("/workspace/sign/new").status_code == 200


def test_every_form_needs_the_csrf_token(new_client):
    head, signer = new_client(), new_client()
    sign_in(head, "mef.chef")
    sign_in(signer, "mef.signataire")
    folder = submitted_folder(head, "Note de service (CSRF)", [("signature", "all", [SG])])
    assert signer.post(f"/workspace/sign/folders/{folder}/do/sign", data={}).status_code == 403
    assert (
        signer.post(f"/workspace/sign/folders/{folder}/do/sign", data={"csrf": "forged"}).status_code == 403
    )
    assert signer.post("/workspace/sign/delegations", data={"substitute": SGA}).status_code == 403
    assert signer.post(f"/workspace/sign/delegations/{uuid.uuid4()}/end", data={}).status_code == 403
    assert head.post("/workspace/sign/new", data={"title": "x"}).status_code == 403
    assert 'data-status="in-progress"' in signer.get(f"/workspace/sign/folders/{folder}").text  # untouched


def test_the_circuit_form_shows_what_is_wrong(new_client):
    head = new_client()
    sign_in(head, "mef.chef")
    no_signatory = submit_folder(head, "Arrêté", [("signature", "all", [])])
    assert no_signatory.status_code == 400
    assert "Choisissez au moins un signataire." in no_signatory.text
    visa_only = submit_folder(head, "Arrêté", [("visa", "all", [DG])])
    assert visa_only.status_code == 400 and "au moins une étape de signature" in visa_only.text
    other_administration = submit_folder(head, "Arrêté", [("signature", "all", [CNSS_DG])])
    assert other_administration.status_code == 400
    assert "Choisissez des signataires de votre administration." in other_administration.text
    untitled = submit_folder(head, "", [("signature", "any", [SG])], files=[])
    assert untitled.status_code == 400
    assert "Donnez un titre au dossier." in untitled.text and "Ajoutez le document" in untitled.text
    entity = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>'
    refused = submit_folder(
        head, "Arrêté", [("signature", "all", [SG])], files=[("a.xml", entity, "text/xml")]
    )
    assert refused.status_code == 400 and "Document XML refusé" in refused.text
    exe = submit_folder(
        head, "Arrêté", [("signature", "all", [SG])], files=[("a.pdf", b"MZ\x90\x00" * 9, "application/pdf")]
    )
    assert exe.status_code == 400 and "Seuls les documents PDF et XML" in exe.text


def test_a_signer_of_another_administration_gets_404(new_client):
    head, cnss = new_client(), new_client()
    sign_in(head, "mef.chef")
    sign_in(cnss, "cnss.signataire")
    folder = submitted_folder(head, "Arrêté confidentiel du MEF", [("signature", "all", [SG])])
    assert cnss.get(f"/workspace/sign/folders/{folder}").status_code == 404
    assert cnss.get(f"/workspace/sign/folders/{uuid.uuid4()}").status_code == 404  # same as a missing one
    assert cnss.get("/workspace/sign/folders/not-a-folder").status_code == 404
    assert cnss.get(f"/workspace/sign/folders/{folder}/documents/arrete.pdf").status_code == 404
    assert cnss.get(f"/workspace/sign/folders/{folder}/documents/arrete.pdf/pages/1.png").status_code == 404
    assert do(cnss, folder, "sign").status_code == 404
    assert "Arrêté confidentiel du MEF" not in cnss.get("/workspace/sign").text


def test_documents_are_shown_pdf_as_images_xml_escaped(new_client):
    head, dg = new_client(), new_client()
    sign_in(head, "mef.chef")
    sign_in(dg, "mef.dg")
    xml = b'<decision><article n="1">Nomination &amp; <b>affectation</b></article><script>alert(1)</script></decision>'
    response = submit_folder(
        head,
        "Décision avec annexe XML",
        [("signature", "all", [DG])],
        files=[("arrete.pdf", one_page_pdf(), "application/pdf"), ("annexe.xml", xml, "application/xml")],
    )
    assert response.status_code == 303, response.text
    folder = response.headers["location"].rsplit("/", 1)[1]
    page = dg.get(f"/workspace/sign/folders/{folder}/documents/arrete.pdf")
    assert page.status_code == 200 and "/documents/arrete.pdf/pages/1.png" in page.text
    image = dg.get(f"/workspace/sign/folders/{folder}/documents/arrete.pdf/pages/1.png")
    assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert dg.get(f"/workspace/sign/folders/{folder}/documents/arrete.pdf/pages/2.png").status_code == 404
    annex = dg.get(f"/workspace/sign/folders/{folder}/documents/annexe.xml").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in annex and "<script>" not in annex
    assert '&lt;article n="1"&gt;' in annex or "&lt;article n=&#34;1&#34;&gt;" in annex
    raw = dg.get(f"/workspace/sign/folders/{folder}/documents/annexe.xml/raw")
    assert raw.content == xml and raw.headers["content-disposition"].startswith("attachment")


def test_visa_then_all_of_signature_then_the_bundle_verifies(new_client, portal_world):
    head, dg, sg, sga = new_client(), new_client(), new_client(), new_client()
    for client, login in ((head, "mef.chef"), (dg, "mef.dg"), (sg, "mef.signataire"), (sga, "mef.sga")):
        sign_in(client, login)
    folder = submitted_folder(
        head, "Arrêté de nomination (HTTP)", [("visa", "all", [SGA]), ("signature", "all", [SG, DG])]
    )
    assert "Arrêté de nomination (HTTP)" in sga.get("/workspace/sign").text
    early = do(sg, folder, "approve")  # not its step yet
    assert early.status_code == 400 and "pas signataire de l'étape en cours" in html.unescape(early.text)
    wrong = do(sga, folder, "sign")  # a visa step is approved, not signed
    assert wrong.status_code == 400 and "Cette étape demande une autre action" in wrong.text
    assert do(sga, folder, "approve", comment="vu").status_code == 303
    assert do(sga, folder, "undo").status_code == 303  # undone: step 1 is current again
    assert 'data-state="active"' in sga.get(f"/workspace/sign/folders/{folder}").text
    assert do(sga, folder, "approve", comment="vu, bon pour signature").status_code == 303
    assert do(sg, folder, "sign").status_code == 303
    assert 'data-status="in-progress"' in sg.get(f"/workspace/sign/folders/{folder}").text  # all of them
    assert head.get(f"/workspace/sign/folders/{folder}/bundle.zip").status_code == 404  # not finished
    assert do(dg, folder, "sign").status_code == 303
    page = head.get(f"/workspace/sign/folders/{folder}").text
    assert 'data-status="completed"' in page and "bundle.zip" in page
    bundle = dg.get(f"/workspace/sign/folders/{folder}/bundle.zip")
    assert bundle.headers["content-type"] == "application/zip"
    home = portal_world.world.bus.home
    path = io.BytesIO(bundle.content)
    assert zipfile.ZipFile(path).namelist()
    report = verify_bundle(_saved(bundle.content), home.ca_cert, home.crl)
    assert {str(s.signatory) for s in report.signatures} == {SG, DG}


def _saved(content: bytes):  # type: ignore[no-untyped-def]
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "bundle.zip"
    path.write_bytes(content)
    return path


def test_reject_needs_a_reason(new_client):
    head, sg = new_client(), new_client()
    sign_in(head, "mef.chef")
    sign_in(sg, "mef.signataire")
    folder = submitted_folder(head, "Convention à revoir", [("signature", "any", [SG, DG])])
    missing = do(sg, folder, "reject", reason="  ")
    assert missing.status_code == 400 and "Indiquez le motif du rejet." in missing.text
    assert do(sg, folder, "reject", reason="Montant erroné").status_code == 303
    page = head.get(f"/workspace/sign/folders/{folder}").text
    assert 'data-status="rejected"' in page and "Montant erroné" in page
    assert do(sg, folder, "undo").status_code == 400  # a closed folder stays closed


def test_delegate_sign_on_behalf_then_end_early(new_client):
    head, sg, sga = new_client(), new_client(), new_client()
    sign_in(head, "mef.chef")
    sign_in(sg, "mef.signataire")
    sign_in(sga, "mef.sga")
    token = csrf(sg, "/workspace/sign/delegations")
    bad = sg.post(
        "/workspace/sign/delegations",
        data={"csrf": token, "substitute": CNSS_DG, "from": "2026-12-03", "until": "2026-12-10"},
    )
    assert bad.status_code == 400 and "Choisissez un signataire de votre administration." in bad.text
    page = sg.get("/workspace/sign/delegations").text
    first, until = _field(page, "from"), _field(page, "until")
    given = sg.post(
        "/workspace/sign/delegations",
        data={"csrf": token, "substitute": SGA, "from": first, "until": until, "reason": "congé"},
    )
    assert given.status_code == 303, given.text
    folder = submitted_folder(head, "Arrêté signé par délégation", [("signature", "all", [SG])])
    assert "Arrêté signé par délégation" in sga.get("/workspace/sign").text
    assert do(sga, folder, "sign", on_behalf_of=SG).status_code == 303
    history = head.get(f"/workspace/sign/folders/{folder}").text
    assert "pour le compte de" in history and "Hassan Alami (MA/GOV/MEF/sg)" in history
    assert 'data-status="completed"' in history

    import re

    ends = re.findall(
        r'action="(/workspace/sign/delegations/[0-9a-f-]+/end)"', sg.get("/workspace/sign/delegations").text
    )
    assert ends
    for end in ends:
        assert sg.post(end, data={"csrf": token}).status_code == 303
    assert sga.post(ends[0], data={"csrf": csrf(sga, "/workspace/sign")}).status_code == 400  # not its own
    later = submitted_folder(head, "Arrêté après la délégation", [("signature", "all", [SG])])
    assert "Arrêté après la délégation" not in sga.get("/workspace/sign").text
    assert sga.get(f"/workspace/sign/folders/{later}").status_code == 404
    assert "Arrêté après la délégation" in sg.get("/workspace/sign").text


def _field(page: str, name: str) -> str:
    import re

    match = re.search(rf'name="{name}" type="date" value="([0-9-]+)"', page)
    assert match, name
    return match.group(1)
