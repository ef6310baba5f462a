"""Delegation: a substitute acts "on behalf of" its principal, only during the delegation period."""

from __future__ import annotations

import zipfile
from datetime import timedelta

import pytest

from teleservices.signature_book import SignatureBook, verify_bundle
from teleservices.signature_book.errors import AlreadyActed, InvalidDelegation, NotAssigned, SignatureRefused
from teleservices.signature_book.models import DelegateSignature, SigningRequest
from teleservices.signature_book.signing import sign_request
from teleservices.signature_book.xades import verify_detached
from tests.signature_book.conftest import ADJOINT, AGENT, DAF, DRH, SG, Clock, Pki, pid, step, submission


def delegation(
    clock: Clock, *, start: timedelta = timedelta(0), length: timedelta = timedelta(days=2)
) -> DelegateSignature:
    return DelegateSignature(
        substitute=ADJOINT, valid_from=clock() + start, valid_until=clock() + start + length
    )


def test_substitute_signature_shows_on_behalf_of_in_the_verified_bundle(
    make_book, bus_pki: Pki, clock: Clock, tmp_path
) -> None:
    book: SignatureBook = make_book(tsa=True)
    folder = book.submit(pid(AGENT), submission(step("visa", DRH), step("signature", SG))).folder_id
    book.approve(folder, pid(DRH))
    view = book.delegate(pid(SG), delegation(clock))
    assert (view.principal, view.substitute) == (SG, ADJOINT)

    request = book.signing_request(folder, pid(ADJOINT))
    assert (request.signatory, request.on_behalf_of, request.step) == (ADJOINT, SG, 2)
    result = book.sign_as(bus_pki.signer(ADJOINT), folder)
    assert result.status == "completed"
    action = book.folder(folder).steps[1].actions[0]
    assert (action.actor, action.on_behalf_of) == (ADJOINT, SG)

    report = verify_bundle(
        book.export_bundle(folder, tmp_path / "b.zip"), bus_pki.home.ca_cert, bus_pki.home.crl
    )
    [signature] = report.signatures
    assert (signature.signatory, signature.on_behalf_of) == (pid(ADJOINT), pid(SG))

    with zipfile.ZipFile(tmp_path / "b.zip") as bundle:
        signed = bundle.read(signature.path)
        documents = {"documents/arrete.pdf": bundle.read("documents/arrete.pdf")}
    verified = verify_detached(signed, documents, bus_pki.trust())
    assert verified.claimed_roles == (f"on behalf of {SG}",)
    assert verified.signer.participant == pid(ADJOINT)
    assert verified.level == "B-T"


def test_principal_may_still_act_and_fills_the_same_part(
    book: SignatureBook, bus_pki: Pki, clock: Clock
) -> None:
    folder = book.submit(pid(AGENT), submission(step("visa", DRH, DAF), step("signature", SG))).folder_id
    book.delegate(
        pid(DRH),
        DelegateSignature(substitute=ADJOINT, valid_from=clock(), valid_until=clock() + timedelta(days=1)),
    )
    book.approve(folder, pid(ADJOINT))
    with pytest.raises(AlreadyActed):
        book.approve(folder, pid(DRH))
    assert book.approve(folder, pid(DAF)).current_step == 2


def test_a_delegation_not_yet_started_is_refused(book: SignatureBook, bus_pki: Pki, clock: Clock) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    book.delegate(pid(SG), delegation(clock, start=timedelta(days=1)))
    with pytest.raises(InvalidDelegation, match="not at"):
        book.sign_as(bus_pki.signer(ADJOINT), folder)
    with pytest.raises(InvalidDelegation, match="not at"):
        book.reject(folder, pid(ADJOINT), "no", on_behalf_of=pid(SG))


def test_a_delegation_that_ended_is_refused(make_book, bus_pki: Pki, clock: Clock) -> None:
    book = make_book()
    folder = book.submit(pid(AGENT), submission(step("visa", DRH), step("signature", SG))).folder_id
    book.delegate(pid(DRH), delegation(clock, length=timedelta(hours=1)))
    clock.advance(timedelta(hours=2))
    with pytest.raises(InvalidDelegation, match="not at"):
        book.approve(folder, pid(ADJOINT))
    clock.advance(timedelta(days=-1))
    with pytest.raises(InvalidDelegation):
        book.approve(folder, pid(ADJOINT))


def test_the_period_is_enforced_for_signatures_inside_it_too(
    book: SignatureBook, bus_pki: Pki, clock: Clock
) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    book.delegate(pid(SG), delegation(clock, length=timedelta(hours=1)))
    clock.advance(timedelta(minutes=30))
    assert book.sign_as(bus_pki.signer(ADJOINT), folder).status == "completed"


def test_delegations_are_checked_when_given(book: SignatureBook, clock: Clock) -> None:
    with pytest.raises(InvalidDelegation, match="itself"):
        book.delegate(
            pid(SG),
            DelegateSignature(substitute=SG, valid_from=clock(), valid_until=clock() + timedelta(days=1)),
        )
    with pytest.raises(InvalidDelegation, match="ends after it starts"):
        book.delegate(pid(SG), delegation(clock, length=timedelta(0)))
    with pytest.raises(InvalidDelegation, match="already ended"):
        book.delegate(pid(SG), delegation(clock, start=timedelta(days=-3)))


def test_no_delegation_no_substitute(book: SignatureBook, bus_pki: Pki) -> None:
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    with pytest.raises(NotAssigned):
        book.sign_as(bus_pki.signer(ADJOINT), folder)
    with pytest.raises(InvalidDelegation, match="has not delegated"):
        book.approve(folder, pid(ADJOINT), on_behalf_of=pid(SG))


def test_a_substitute_cannot_sign_as_itself_for_a_principal(
    book: SignatureBook, bus_pki: Pki, clock: Clock
) -> None:
    """A signature without "on behalf of" by a substitute is refused: the context must name the principal."""
    folder = book.submit(pid(AGENT), submission(step("signature", SG))).folder_id
    book.delegate(pid(SG), delegation(clock))
    proper = book.signing_request(folder, pid(ADJOINT))
    bare = SigningRequest(**{**proper.model_dump(), "on_behalf_of": None})
    contents = {"arrete.pdf": book.document(folder, "arrete.pdf").content}
    signature = sign_request(bus_pki.signer(ADJOINT), bare, contents, signing_time=clock())
    with pytest.raises(SignatureRefused, match="on behalf of"):
        book.sign(folder, pid(ADJOINT), signature)


def test_principal_ends_a_delegation_early_and_past_actions_stay_valid(
    book: SignatureBook, bus_pki: Pki, clock: Clock
) -> None:
    first = book.submit(pid(AGENT), submission(step("visa", DRH), step("signature", SG))).folder_id
    second = book.submit(pid(AGENT), submission(step("visa", DRH), step("signature", SG))).folder_id
    given = book.delegate(pid(DRH), delegation(clock))
    book.approve(first, pid(ADJOINT))
    with pytest.raises(InvalidDelegation):
        book.end_delegation(pid(SG), given.delegation_id)  # only the principal ends it

    clock.advance(timedelta(minutes=5))
    ended = book.end_delegation(pid(DRH), given.delegation_id)
    assert ended.valid_until < clock() and ended.valid_from == given.valid_from
    [listed] = book.delegations(pid(ADJOINT))
    assert listed.valid_until == ended.valid_until

    with pytest.raises(InvalidDelegation):  # no longer running: the substitute's action is refused
        book.approve(second, pid(ADJOINT), on_behalf_of=pid(DRH))
    with pytest.raises(InvalidDelegation):
        book.approve(second, pid(ADJOINT))
    assert [f.folder_id for f in book.folders(viewer=pid(ADJOINT)).folders] == []
    with pytest.raises(InvalidDelegation):
        book.end_delegation(pid(DRH), given.delegation_id)  # already ended
    history = book.folder(first).history  # the action taken under it replays as valid
    assert [(h.kind, h.actor, h.on_behalf_of) for h in history][1] == ("approved", ADJOINT, DRH)
