"""Attachments on disk: content-addressed, checked on every read, tampering reported clearly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from teleservices.mail_office.attachments import AttachmentStore
from teleservices.mail_office.delivery import Courier
from teleservices.mail_office.errors import AttachmentMissing, AttachmentTampered, UnknownAttachment
from teleservices.mail_office.models import Attachment, Party, PartyKind
from teleservices.mail_office.office import MailOffice
from teleservices.mail_office.workflow import Status

from .conftest import CNSS, letter

SCAN = Attachment.of("scan.pdf", "application/pdf", b"%PDF-1.4 original scan")


def test_files_are_named_by_their_digest(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    digest = store.put(b"hello")
    assert digest == hashlib.sha256(b"hello").hexdigest()
    assert store.path(digest) == tmp_path / "attachments" / "sha256" / digest[:2] / digest[2:]
    assert store.get(digest) == b"hello"
    assert store.put(b"hello") == digest  # stored once


def test_a_tampered_file_is_reported(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    digest = store.put(b"the signed original")
    store.path(digest).write_bytes(b"the forged copy")
    with pytest.raises(AttachmentTampered, match=f"has been altered: its content hashes to .* not {digest}"):
        store.get(digest)
    assert store.put(b"the signed original") == digest  # depositing it again repairs the copy
    assert store.get(digest) == b"the signed original"


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    digest = store.put(b"x")
    store.path(digest).unlink()
    with pytest.raises(AttachmentMissing, match=digest):
        store.get(digest)


def test_a_path_is_only_ever_a_digest(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    with pytest.raises(ValueError, match="not a SHA-256 hex digest"):
        store.path("../../etc/passwd")


def test_reading_a_tampered_attachment_of_a_letter_fails(office: MailOffice) -> None:
    number = office.deposit(letter(attachments=[SCAN])).registration_number
    office.attachments.path(SCAN.sha256).write_bytes(b"%PDF-1.4 altered scan")
    with pytest.raises(AttachmentTampered) as error:
        office.attachment(number, SCAN.sha256)
    assert error.value.code == "MailOffice.AttachmentTampered"


def test_a_tampered_attachment_is_never_delivered(office: MailOffice, cnss: MailOffice) -> None:
    recipient = Party(kind=PartyKind.ADMINISTRATION, identifier=CNSS, name="CNSS")
    sent = office.send(
        subject="Dossier", recipient=recipient, mail_type="letter", attachments=[SCAN], actor="a"
    )
    office.attachments.path(SCAN.sha256).write_bytes(b"%PDF-1.4 altered scan")

    report = Courier(office, cnss).deliver(office)
    assert report.sent == () and "AttachmentTampered" in report.failed[0][1]
    assert office.show(sent.registration_number).status is Status.REGISTERED
    assert len(office.pending()) == 1

    office.attachments.put(SCAN.content)  # the original restored from a backup
    assert len(Courier(office, cnss).deliver(office).sent) == 1
    assert office.show(sent.registration_number).status is Status.DELIVERED


def test_an_attachment_is_asked_for_by_letter_and_digest(office: MailOffice) -> None:
    number = office.deposit(letter(attachments=[SCAN])).registration_number
    other = office.deposit(letter("Autre", attachments=[])).registration_number
    with pytest.raises(UnknownAttachment, match=f"{other} has no attachment with SHA-256 {SCAN.sha256}"):
        office.attachment(other, SCAN.sha256)
    assert office.attachment(number, SCAN.sha256)[1] == SCAN.content
