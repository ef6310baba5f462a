"""Signatures over the bus: made by the signatory's own key, bound to the folder, checked against the bus
PKI when received and again, offline, in the bundle."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from bus.faults import FaultCode
from sdk import CallFailed
from teleservices.signature_book import BundleInvalid, verify_bundle
from teleservices.signature_book.contract import BUNDLE, DELEGATE, SIGN
from teleservices.signature_book.models import DelegateSignature, FolderStatusName, GetBundle, SignFolder
from teleservices.signature_book.signatory import fetch_signing_request
from teleservices.signature_book.signing import sign_request
from teleservices.signature_book.times import utc_now
from tests.signature_book.bus_world import BookWorld
from tests.signature_book.conftest import ADJOINT, AGENT, BOOK, DRH, SG, TSA, pid, step, submission


def bundle_file(world: BookWorld, who: str, folder_id: str, path: Path) -> Path:
    bundle = world.call(who, BUNDLE, GetBundle(folder_id=folder_id))
    assert bundle.folder_id == folder_id
    path.write_bytes(bundle.content)
    return path


def completed_folder(world: BookWorld) -> str:
    view = world.submit(submission(step("signature", SG)))
    assert world.sign(SG, view.folder_id).status == FolderStatusName.COMPLETED
    return view.folder_id


def test_a_substitute_signs_on_behalf_of_its_principal_and_the_bundle_proves_it(
    make_world, tmp_path: Path
) -> None:
    world: BookWorld = make_world(tsa=True)
    now = utc_now()
    to_self = DelegateSignature(substitute=SG, valid_from=now, valid_until=now + timedelta(days=1))
    assert world.refused(SG, DELEGATE, to_self).service_code == "SignatureBook.InvalidDelegation"
    delegation = world.call(
        SG,
        DELEGATE,
        DelegateSignature(substitute=ADJOINT, valid_from=now, valid_until=now + timedelta(days=2)),
    )
    assert (delegation.principal, delegation.substitute) == (SG, ADJOINT)
    inbox = world.adjoint_inbox
    inbox.wait_for(lambda: len(inbox.delegation_events) == 1, "the delegation event")
    assert inbox.delegation_events[0].delegation_id == delegation.delegation_id

    view = world.submit(submission(step("signature", SG)))
    result = world.sign(ADJOINT, view.folder_id)
    assert result.status == FolderStatusName.COMPLETED

    path = bundle_file(world, AGENT, view.folder_id, tmp_path / "bundle.zip")
    home = world.bus.home
    report = verify_bundle(path, home.ca_cert, home.crl)
    assert report.revocation_checked and report.book == pid(BOOK)
    [signature] = report.signatures
    assert (signature.signatory, signature.on_behalf_of) == (pid(ADJOINT), pid(SG))
    assert signature.level == "B-T" and signature.timestamp_authority == pid(TSA)


def test_a_tampered_document_in_the_bundle_is_detected(world: BookWorld, tmp_path: Path) -> None:
    folder_id = completed_folder(world)
    original = bundle_file(world, SG, folder_id, tmp_path / "bundle.zip")
    home = world.bus.home
    assert verify_bundle(original, home.ca_cert, home.crl).folder == folder_id

    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(forged, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            out.writestr(name, data.replace(b"arrete", b"ARRETE") if name.startswith("documents/") else data)
    with pytest.raises(BundleInvalid) as refused:
        verify_bundle(forged, home.ca_cert, home.crl)
    assert refused.value.code == "Bundle.TamperedDocument"


def test_a_revoked_signatory_cannot_sign_and_its_past_b_b_signature_stops_verifying(
    world: BookWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bus.pki.trust.CRL_RECHECK_SECONDS", 0.0)
    signed_before = bundle_file(world, AGENT, completed_folder(world), tmp_path / "before.zip")
    view = world.submit(submission(step("signature", SG)))
    request, contents = fetch_signing_request(world.client(SG), BOOK, view.folder_id)
    signature = sign_request(world.signer(SG), request, contents)

    world.bus.authority.revoke(pid(SG))
    with pytest.raises(CallFailed) as refused:
        world.call(SG, SIGN, SignFolder(folder_id=view.folder_id, signature=signature))
    assert refused.value.code is FaultCode.REVOKED_CERTIFICATE
    assert world.book.folder(view.folder_id).status == FolderStatusName.IN_PROGRESS

    home = world.bus.home
    with pytest.raises(BundleInvalid) as invalid:
        verify_bundle(signed_before, home.ca_cert, home.crl)
    assert invalid.value.code == "Client.RevokedCertificate"


def test_a_signature_cannot_be_replayed_onto_another_folder_or_sent_by_someone_else(world: BookWorld) -> None:
    first = world.submit(submission(step("signature", SG))).folder_id
    second = world.submit(submission(step("signature", SG, DRH))).folder_id
    request, contents = fetch_signing_request(world.client(SG), BOOK, first)
    signature = sign_request(world.signer(SG), request, contents)

    replayed = world.refused(SG, SIGN, SignFolder(folder_id=second, signature=signature))
    assert replayed.code is FaultCode.HANDLER_ERROR
    assert replayed.service_code == "Signature.WrongContext"
    borrowed = world.refused(DRH, SIGN, SignFolder(folder_id=first, signature=signature))
    assert borrowed.service_code == "Signature.WrongSigner"
    assert world.call(SG, SIGN, SignFolder(folder_id=first, signature=signature)).status == "completed"
    bundle = world.call(SG, BUNDLE, GetBundle(folder_id=first)).content
    assert zipfile.ZipFile(io.BytesIO(bundle)).read("documents/arrete.pdf") == contents["arrete.pdf"]
