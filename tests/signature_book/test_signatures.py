"""What the book accepts as a signature: real XAdES by the assigned signatory's bus certificate, for this step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from bus.pki import SigningIdentity
from bus.pki.authority import KeyAlgorithm
from teleservices.signature_book import BookConfig, DetachedXadesSigner, SignatureBook, verify_bundle
from teleservices.signature_book.errors import SignatureRefused
from teleservices.signature_book.models import SigningRequest
from teleservices.signature_book.signing import sign_request
from teleservices.signature_book.xades import PROOF_OF_APPROVAL, XADES_NS, DetachedObject
from tests.signature_book.conftest import (
    ADJOINT,
    AGENT,
    ANNEX,
    BOOK,
    CONTRACT,
    SG,
    TSA,
    Clock,
    Pki,
    build_pki,
    pid,
    step,
    submission,
)

TWO_DOCUMENTS = (("arrete.pdf", "application/pdf", CONTRACT), ("annexe.txt", "text/plain", ANNEX))


def signature_for(
    book: SignatureBook, folder: str, signer: DetachedXadesSigner, clock: Clock, **changes
) -> bytes:
    request = book.signing_request(folder, signer.participant)
    if changes:
        request = SigningRequest(**{**request.model_dump(), **changes})
    contents = {d.name: book.document(folder, d.name).content for d in request.documents}
    return sign_request(signer, request, contents, signing_time=clock())


def test_an_accepted_signature_covers_every_document(book: SignatureBook, bus_pki: Pki, clock: Clock) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG), documents=TWO_DOCUMENTS)).folder_id
    signature = signature_for(book, folder, bus_pki.signer(SG), clock)
    root = etree.fromstring(signature)
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#", "xades": XADES_NS}
    uris = [r.get("URI") for r in root.findall("ds:SignedInfo/ds:Reference", ns)]
    assert uris[:2] == ["documents/arrete.pdf", "documents/annexe.txt"]
    props = root.find("ds:Object/xades:QualifyingProperties/xades:SignedProperties", ns)
    assert props.find("xades:SignedSignatureProperties/xades:SigningTime", ns) is not None
    assert props.find("xades:SignedSignatureProperties/xades:SigningCertificateV2", ns) is not None
    formats = props.findall("xades:SignedDataObjectProperties/xades:DataObjectFormat/xades:MimeType", ns)
    assert [f.text for f in formats] == ["application/pdf", "text/plain"]
    assert book.sign(folder, pid(SG), signature).status == "completed"


def test_a_revoked_certificate_is_refused(make_book, bus_pki: Pki, clock: Clock) -> None:
    book = make_book()
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    # The CRL keeps the revocation time to the second: sign after the revocation whatever the milliseconds.
    clock.advance(timedelta(seconds=2))
    signature = signature_for(book, folder, bus_pki.signer(SG), clock)
    bus_pki.revoke(SG)
    with pytest.raises(SignatureRefused) as refused:
        make_book().sign(folder, pid(SG), signature)
    assert refused.value.code == "Client.RevokedCertificate"


def test_a_certificate_from_another_ca_is_refused(book: SignatureBook, clock: Clock, tmp_path) -> None:
    impostor = DetachedXadesSigner(SigningIdentity.from_home(build_pki(tmp_path / "other").home, SG))
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    with pytest.raises(SignatureRefused) as refused:
        book.sign(folder, pid(SG), signature_for(book, folder, impostor, clock))
    assert refused.value.code == "Client.UntrustedCertificate"


def test_a_signature_by_someone_else_is_refused(book: SignatureBook, bus_pki: Pki, clock: Clock) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    request = book.signing_request(folder, pid(SG))
    contents = {"arrete.pdf": CONTRACT}
    signature = sign_request(
        bus_pki.signer(ADJOINT), SigningRequest(**{**request.model_dump(), "signatory": ADJOINT}), contents
    )
    with pytest.raises(SignatureRefused) as refused:
        book.sign(folder, pid(SG), signature)
    assert refused.value.code == "Signature.WrongSigner"


def test_a_signature_cannot_move_to_another_folder(book: SignatureBook, bus_pki: Pki, clock: Clock) -> None:
    first = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    second = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    signature = signature_for(book, first, bus_pki.signer(SG), clock)
    with pytest.raises(SignatureRefused) as refused:
        book.sign(second, pid(SG), signature)
    assert refused.value.code == "Signature.WrongContext"


def test_a_signature_over_other_bytes_is_refused(book: SignatureBook, bus_pki: Pki, clock: Clock) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    request = book.signing_request(folder, pid(SG))
    context = etree.fromstring(
        f'<sb:SigningContext xmlns:sb="urn:govbus:signature-book:1"><sb:book>{request.book}</sb:book>'
        f"<sb:folderId>{folder}</sb:folderId><sb:step>1</sb:step><sb:signatory>{SG}</sb:signatory>"
        "</sb:SigningContext>"
    )
    forged = bus_pki.signer(SG).sign(
        [
            DetachedObject(
                "documents/arrete.pdf", CONTRACT + b"% appended clause", "application/pdf", "arrete.pdf"
            )
        ],
        commitment=PROOF_OF_APPROVAL,
        qualifier=context,
        signing_time=clock(),
    )
    with pytest.raises(SignatureRefused) as refused:
        book.sign(folder, pid(SG), forged)
    assert refused.value.code == "Client.InvalidSignature"


def test_a_signature_older_than_its_step_is_refused(book: SignatureBook, bus_pki: Pki, clock: Clock) -> None:
    clock.advance(timedelta(hours=1))
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    request = book.signing_request(folder, pid(SG))
    early = clock() - timedelta(minutes=30)
    signature = sign_request(bus_pki.signer(SG), request, {"arrete.pdf": CONTRACT}, signing_time=early)
    with pytest.raises(SignatureRefused) as refused:
        book.sign(folder, pid(SG), signature)
    assert refused.value.code == "Signature.SigningTime"


def test_garbage_is_refused_without_a_crash(book: SignatureBook) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    cases = {
        b"": "Client.MalformedMessage",
        b"not xml": "Client.MalformedMessage",
        b"<x/>": "Client.SignaturePlacement",
        b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>': "Client.ForbiddenXml",
    }
    for data, code in cases.items():
        with pytest.raises(SignatureRefused) as refused:
            book.sign(folder, pid(SG), data)
        assert refused.value.code == code


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.EC, KeyAlgorithm.RSA])
def test_both_key_types_sign_timestamp_and_verify(algorithm: KeyAlgorithm, tmp_path, clock: Clock) -> None:
    pki = build_pki(tmp_path / "home", algorithm)
    SignatureBook.create(tmp_path / "book", BookConfig(pid(BOOK), timestamp_authority=pid(TSA)))
    book = SignatureBook.open(tmp_path / "book", pki.home, clock=clock)
    folder = book.submit(pid(AGENT), submission(step("signature", SG), documents=TWO_DOCUMENTS)).folder_id
    assert book.sign_as(pki.signer(SG), folder).status == "completed"
    report = verify_bundle(book.export_bundle(folder, tmp_path / "b.zip"), pki.home.ca_cert, pki.home.crl)
    assert [s.level for s in report.signatures] == ["B-T"]
    assert report.seal_level == "B-T"
