"""Bundles verify offline with the bus CA alone, and every tampering is caught with a specific code."""

from __future__ import annotations

import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from bus.envelope.model import format_timestamp, parse_timestamp
from teleservices.signature_book import BundleInvalid, SignatureBook, verify_bundle
from teleservices.signature_book.errors import NotFinished, SignatureRefused
from teleservices.signature_book.xades import DS_NS, XADES_NS, verify_detached
from tests.signature_book.conftest import (
    ADJOINT,
    AGENT,
    ANNEX,
    CONTRACT,
    DAF,
    DRH,
    SG,
    TSA,
    Clock,
    Pki,
    build_pki,
    pid,
    step,
    submission,
)

DOCUMENTS = (("arrete.pdf", "application/pdf", CONTRACT), ("annexe.txt", "text/plain", ANNEX))


def completed(book: SignatureBook, pki: Pki, tmp_path: Path, *signers: str) -> Path:
    """A folder through a visa step then an AND signature step by ``signers``, exported."""
    folder = book.submit(
        pid(AGENT), submission(step("visa", DRH), step("signature", *signers), documents=DOCUMENTS)
    ).folder_id
    book.approve(folder, pid(DRH))
    for signer in signers:
        book.sign_as(pki.signer(signer), folder)
    return book.export_bundle(folder, tmp_path / f"{folder}.zip")


def rewrite(
    bundle: Path, target: Path, *, replace: dict[str, bytes] | None = None, drop: str | None = None
) -> Path:
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            if name != drop:
                out.writestr(name, (replace or {}).get(name, source.read(name)))
        for name, data in (replace or {}).items():
            if name not in source.namelist():
                out.writestr(name, data)
    return target


def read(bundle: Path, name: str) -> bytes:
    with zipfile.ZipFile(bundle) as archive:
        return archive.read(name)


def signature_names(bundle: Path) -> list[str]:
    with zipfile.ZipFile(bundle) as archive:
        return sorted(n for n in archive.namelist() if n.startswith("signatures/"))


def code_of(bundle: Path, pki: Pki, **options) -> str:
    with pytest.raises(BundleInvalid) as invalid:
        verify_bundle(bundle, pki.home.ca_cert, pki.home.crl, **options)
    return invalid.value.code


def test_a_bundle_verifies_offline_with_the_ca_alone(
    book: SignatureBook, bus_pki: Pki, tmp_path: Path
) -> None:
    bundle = completed(book, bus_pki, tmp_path, SG, DAF)
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    assert {"README.txt", "manifest.json", "history.json", "seal.xml", "documents/arrete.pdf"} <= names
    assert read(bundle, "documents/annexe.txt") == ANNEX

    report = verify_bundle(bundle, bus_pki.home.ca_cert, bus_pki.home.crl)
    assert report.revocation_checked
    assert [(s.step, str(s.signatory), s.level) for s in report.signatures] == [
        (2, SG, "B-B"),
        (2, DAF, "B-B"),
    ]
    assert [d.name for d in report.documents] == ["arrete.pdf", "annexe.txt"]
    assert report.history_entries == 4 and report.seal_level == "B-B"

    without_crl = verify_bundle(bundle, bus_pki.home.ca_cert)
    assert not without_crl.revocation_checked


def test_a_tampered_document_is_detected(book: SignatureBook, bus_pki: Pki, tmp_path: Path) -> None:
    bundle = completed(book, bus_pki, tmp_path, SG)
    forged = rewrite(
        bundle,
        tmp_path / "forged.zip",
        replace={"documents/arrete.pdf": CONTRACT.replace(b"nomination", b"revocation")},
    )
    assert code_of(forged, bus_pki) == "Bundle.TamperedDocument"


def test_a_tampered_manifest_breaks_the_seal(book: SignatureBook, bus_pki: Pki, tmp_path: Path) -> None:
    bundle = completed(book, bus_pki, tmp_path, SG)
    manifest = read(bundle, "manifest.json").replace(b"Arr\xc3\xaat\xc3\xa9", b"Arrete")
    forged = rewrite(bundle, tmp_path / "forged.zip", replace={"manifest.json": manifest})
    assert code_of(forged, bus_pki) == "Client.InvalidSignature"


def test_tampered_history_breaks_the_seal(book: SignatureBook, bus_pki: Pki, tmp_path: Path) -> None:
    bundle = completed(book, bus_pki, tmp_path, SG)
    history = read(bundle, "history.json").replace(DRH.encode(), DAF.encode())
    forged = rewrite(bundle, tmp_path / "forged.zip", replace={"history.json": history})
    assert code_of(forged, bus_pki) == "Client.InvalidSignature"


def test_missing_altered_or_extra_files_are_detected(
    book: SignatureBook, bus_pki: Pki, tmp_path: Path
) -> None:
    bundle = completed(book, bus_pki, tmp_path, SG)
    [signature] = signature_names(bundle)
    assert code_of(rewrite(bundle, tmp_path / "a.zip", drop=signature), bus_pki) == "Bundle.MissingFile"
    altered = read(bundle, signature).replace(b"<ds:SignedInfo>", b"<ds:SignedInfo >")
    assert (
        code_of(rewrite(bundle, tmp_path / "b.zip", replace={signature: altered}), bus_pki)
        == "Bundle.TamperedSignature"
    )
    extra = rewrite(bundle, tmp_path / "c.zip", replace={"documents/clause.pdf": b"%PDF extra"})
    assert code_of(extra, bus_pki) == "Bundle.UnexpectedFile"
    (tmp_path / "d.zip").write_bytes(b"PK not a zip")
    assert code_of(tmp_path / "d.zip", bus_pki) == "Bundle.Malformed"


def test_a_signature_by_a_revoked_certificate_is_rejected(
    book: SignatureBook, bus_pki: Pki, tmp_path: Path
) -> None:
    bundle = completed(book, bus_pki, tmp_path, SG)
    verify_bundle(bundle, bus_pki.home.ca_cert, bus_pki.home.crl)
    bus_pki.revoke(SG)
    assert code_of(bundle, bus_pki) == "Client.RevokedCertificate"


def test_a_bundle_from_another_ca_is_rejected(book: SignatureBook, bus_pki: Pki, tmp_path: Path) -> None:
    bundle = completed(book, bus_pki, tmp_path, SG)
    other = build_pki(tmp_path / "other")
    assert code_of(bundle, other) == "Client.UntrustedCertificate"


def test_an_unfinished_folder_has_no_bundle(book: SignatureBook) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    with pytest.raises(NotFinished):
        book.bundle(folder)


def test_b_t_timestamps_are_present_and_checked(
    make_book, bus_pki: Pki, clock: Clock, tmp_path: Path
) -> None:
    book = make_book(tsa=True)
    bundle = completed(book, bus_pki, tmp_path, SG, DAF)
    report = verify_bundle(bundle, bus_pki.home.ca_cert, bus_pki.home.crl)
    assert [(s.level, str(s.timestamp_authority)) for s in report.signatures] == [("B-T", TSA), ("B-T", TSA)]
    assert all(s.timestamp_time is not None and s.timestamp_time >= s.signing_time for s in report.signatures)
    assert report.seal_level == "B-T" and report.seal_time is not None

    assert (
        code_of(bundle, bus_pki, timestamp_authorities=[pid(ADJOINT)])
        == "Signature.UntrustedTimestampAuthority"
    )


def _timestamp_token(signature: bytes) -> etree._Element:
    root = etree.fromstring(signature)
    path = f"{{{DS_NS}}}Object/{{{XADES_NS}}}QualifyingProperties/{{{XADES_NS}}}UnsignedProperties"
    stamp = root.find(f"{path}/{{{XADES_NS}}}UnsignedSignatureProperties/{{{XADES_NS}}}SignatureTimeStamp")
    return stamp.find(f"{{{XADES_NS}}}XMLTimeStamp")[0]


def test_a_timestamp_must_cover_its_own_signature_value(make_book, bus_pki: Pki, tmp_path: Path) -> None:
    book = make_book(tsa=True)
    bundle = completed(book, bus_pki, tmp_path, SG, DAF)
    first, second = (read(bundle, name) for name in signature_names(bundle))
    documents = {f"documents/{n}": c for n, _, c in DOCUMENTS}
    assert verify_detached(first, documents, bus_pki.trust()).level == "B-T"

    swapped = etree.fromstring(first)
    holder = next(e for e in swapped.iter() if e.tag == f"{{{XADES_NS}}}XMLTimeStamp")
    holder.remove(holder[0])
    holder.append(_timestamp_token(second))
    with pytest.raises(SignatureRefused) as refused:
        verify_detached(etree.tostring(swapped), documents, bus_pki.trust())
    assert refused.value.code == "Signature.TimestampMismatch"

    backdated = etree.fromstring(first)
    gen_time = next(e for e in backdated.iter() if e.tag.endswith("}genTime"))
    gen_time.text = format_timestamp(parse_timestamp(gen_time.text) - timedelta(minutes=1))
    with pytest.raises(SignatureRefused) as refused:
        verify_detached(etree.tostring(backdated), documents, bus_pki.trust())
    assert refused.value.code == "Client.InvalidSignature"


def test_b_t_keeps_a_signature_valid_after_its_signer_is_revoked(
    make_book, bus_pki: Pki, clock: Clock, tmp_path: Path
) -> None:
    """Judged at the trusted timestamp, a later revocation does not undo a signature; B-B is judged now."""
    clock.advance(timedelta(minutes=-2))
    bundle_bt = completed(make_book(tsa=True, name="with-tsa"), bus_pki, tmp_path, SG)
    bundle_bb = completed(make_book(name="without-tsa"), bus_pki, tmp_path, SG)
    bus_pki.revoke(SG)
    assert [s.level for s in verify_bundle(bundle_bt, bus_pki.home.ca_cert, bus_pki.home.crl).signatures] == [
        "B-T"
    ]
    assert code_of(bundle_bb, bus_pki) == "Client.RevokedCertificate"
