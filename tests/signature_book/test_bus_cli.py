"""``govbus sign``: the whole life of a folder from the command line, and offline verification."""

from __future__ import annotations

import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bus.envelope.model import format_timestamp, utc_now
from teleservices.signature_book.cli import sign
from tests.signature_book.conftest import ADJOINT, AGENT, BOOK, CONTRACT, DRH, SG, TSA, Pki


@pytest.fixture
def run(bus_pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GOVBUS_HOME", str(bus_pki.home.root))
    monkeypatch.setenv("GOVBUS_SIGNATURE_BOOK", str(tmp_path / "book"))
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(sign, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) is ok, result.output + result.stderr
        return result

    return invoke


def test_a_folder_from_submission_to_verified_bundle(run, bus_pki: Pki, tmp_path: Path) -> None:
    document = tmp_path / "arrete.pdf"
    document.write_bytes(CONTRACT)
    run("init", "--as", BOOK, "--tsa", TSA)
    submitted = run(
        "submit",
        "--as",
        AGENT,
        "--type",
        "hr",
        "--title",
        "Arrêté de nomination",
        "--meta",
        "matricule=12345",
        "--step",
        f"visa:{DRH}",
        "--step",
        f"signature:any:{SG}",
        str(document),
    )
    folder = submitted.output.splitlines()[0].removeprefix("folder: ")

    run("approve", "--as", DRH, folder)
    run("undo", "--as", DRH, folder)
    run("approve", "--as", DRH, folder, "--comment", "vu")
    too_long = format_timestamp(utc_now() + timedelta(days=400))
    run("delegate", "--as", SG, "--to", ADJOINT, "--until", too_long, ok=False)
    run("delegate", "--as", SG, "--to", ADJOINT, "--until", format_timestamp(utc_now() + timedelta(days=2)))
    assert "completed" in run("sign", "--as", ADJOINT, folder).output

    shown = run("show", folder).output
    assert f"signed by {ADJOINT} on behalf of {SG}" in shown
    assert "matricule=12345" in shown
    assert folder in run("show", "--status", "completed").output
    assert "<sb:FolderView" in run("show", folder, "--xml").output

    bundle = tmp_path / "bundle.zip"
    run("export", folder, "--out", str(bundle))
    ca, crl = str(bus_pki.home.ca_cert), str(bus_pki.home.crl)
    verified = run("verify", str(bundle), "--ca-cert", ca, "--crl", crl).output
    assert verified.startswith(f"VALID: folder {folder}")
    assert f"signed by {ADJOINT} on behalf of {SG} (B-T" in verified
    assert '"valid": true' in run("verify", str(bundle), "--ca-cert", ca, "--json").output

    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(forged, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            out.writestr(name, data + b"%" if name == "documents/arrete.pdf" else data)
    refused = run("verify", str(forged), "--ca-cert", ca, "--crl", crl, ok=False)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Bundle.TamperedDocument: document arrete.pdf")


def test_refusals_are_one_line_with_their_code(run, tmp_path: Path) -> None:
    document = tmp_path / "bon.pdf"
    document.write_bytes(CONTRACT)
    run("init", "--as", BOOK)
    folder = run(
        "submit",
        "--as",
        AGENT,
        "--type",
        "purchasing",
        "--title",
        "Bon",
        "--step",
        f"signature:{SG}",
        str(document),
    )
    folder_id = folder.output.splitlines()[0].removeprefix("folder: ")

    rejected = run("reject", "--as", SG, folder_id, "--reason", " ", ok=False)
    assert rejected.exit_code == 1 and rejected.stderr.strip().startswith("SignatureBook.ReasonRequired:")
    wrong = run("approve", "--as", SG, folder_id, ok=False)
    assert wrong.stderr.startswith("SignatureBook.WrongAction:")
    unknown = run("show", "00000000-0000-4000-8000-000000000000", ok=False)
    assert unknown.stderr.startswith("SignatureBook.UnknownFolder:")
    unfinished = run("export", folder_id, "--out", str(tmp_path / "x.zip"), ok=False)
    assert unfinished.stderr.startswith("SignatureBook.NotFinished:")
    assert "rejected" in run("reject", "--as", SG, folder_id, "--reason", "Montant erroné").output
