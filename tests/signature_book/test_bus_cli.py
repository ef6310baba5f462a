"""``govbus sign``: the life of a folder from the command line, over the bus, and offline verification.

In process against a book served by the test bus (memory:// and RabbitMQ), then as real processes:
``govbus run teleservices.signature_book:app`` and the ``govbus sign`` commands against it on RabbitMQ.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sdk.testing import TestBus
from teleservices.signature_book.cli import sign
from teleservices.signature_book.contract import BOOK_CONTRACTS, FOLDER_EVENT
from teleservices.signature_book.times import format_timestamp, utc_now
from tests.conftest import RABBITMQ_URL
from tests.signature_book.bus_world import OUTSIDER, BookWorld
from tests.signature_book.conftest import ADJOINT, AGENT, BOOK, CONTRACT, DRH, SG, TSA

Run = Callable[..., Result]


def line(result: Result, prefix: str) -> str:
    """The rest of the first output line starting with ``prefix`` (the book may log in this process)."""
    return next(text.removeprefix(prefix) for text in result.output.splitlines() if text.startswith(prefix))


@pytest.fixture
def run(make_world, monkeypatch: pytest.MonkeyPatch) -> Run:
    world: BookWorld = make_world(tsa=True)
    monkeypatch.setenv("GOVBUS_HOME", str(world.bus.root))
    monkeypatch.setenv("GOVBUS_BROKER", world.bus.broker)
    monkeypatch.setenv("GOVBUS_SIGNATURE_BOOK_ID", BOOK)
    runner = CliRunner()
    prefix = ["--prefix", world.bus.prefix]
    offline = {"verify", "init"}

    def invoke(*args: str, ok: bool = True) -> Result:
        command = [*args, *prefix] if args[0] not in offline else list(args)
        result = runner.invoke(sign, command, catch_exceptions=False)
        assert (result.exit_code == 0) is ok, result.output + result.stderr
        return result

    invoke.world = world  # type: ignore[attr-defined]
    return invoke


def test_a_folder_from_submission_to_verified_bundle(run: Run, tmp_path: Path) -> None:
    world: BookWorld = run.world  # type: ignore[attr-defined]
    document = tmp_path / "arrete.pdf"
    document.write_bytes(CONTRACT)
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
    folder = line(submitted, "folder: ")

    run("approve", "--as", DRH, folder)
    run("undo", "--as", DRH, folder)
    run("approve", "--as", DRH, folder, "--comment", "vu")
    saved = tmp_path / "lu.pdf"
    run("document", "--as", SG, folder, "arrete.pdf", "--out", str(saved))
    assert saved.read_bytes() == CONTRACT
    too_long = format_timestamp(utc_now() + timedelta(days=400))
    run("delegate", "--as", SG, "--to", ADJOINT, "--until", too_long, ok=False)
    run("delegate", "--as", SG, "--to", ADJOINT, "--until", format_timestamp(utc_now() + timedelta(days=2)))
    assert "completed" in run("sign", "--as", ADJOINT, folder).output

    shown = run("show", "--as", AGENT, folder).output
    assert f"signed by {ADJOINT} on behalf of {SG}" in shown
    assert "matricule=12345" in shown
    assert folder in run("show", "--as", SG, "--status", "completed").output
    assert "<sb:FolderView" in run("show", "--as", DRH, folder, "--xml").output

    bundle = tmp_path / "bundle.zip"
    run("export", "--as", AGENT, folder, "--out", str(bundle))
    home = world.bus.home
    ca, crl = str(home.ca_cert), str(home.crl)
    verified = run("verify", str(bundle), "--ca-cert", ca, "--crl", crl)
    assert line(verified, "VALID: folder ").startswith(folder)
    assert f"signed by {ADJOINT} on behalf of {SG} (B-T" in verified.output
    assert f"by {TSA}" in verified.output
    assert '"valid": true' in run("verify", str(bundle), "--ca-cert", ca, "--json").output

    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(forged, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            out.writestr(name, data + b"%" if name == "documents/arrete.pdf" else data)
    refused = run("verify", str(forged), "--ca-cert", ca, "--crl", crl, ok=False)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Bundle.TamperedDocument: document arrete.pdf")


def test_refusals_are_one_line_with_their_code(run: Run, tmp_path: Path) -> None:
    document = tmp_path / "bon.pdf"
    document.write_bytes(CONTRACT)
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
    folder_id = line(folder, "folder: ")

    rejected = run("reject", "--as", SG, folder_id, "--reason", " ", ok=False)
    assert rejected.exit_code == 1 and rejected.stderr.strip().startswith("SignatureBook.ReasonRequired:")
    wrong = run("approve", "--as", SG, folder_id, ok=False)
    assert wrong.stderr.startswith("SignatureBook.WrongAction:")
    stranger = run("approve", "--as", DRH, folder_id, ok=False)
    assert stranger.stderr.startswith("SignatureBook.NotAssigned:")
    unknown = run("show", "--as", AGENT, "00000000-0000-4000-8000-000000000000", ok=False)
    assert unknown.stderr.startswith("SignatureBook.UnknownFolder:")
    hidden = run("show", "--as", OUTSIDER, folder_id, ok=False)
    assert hidden.stderr.startswith("SignatureBook.UnknownFolder:")
    unfinished = run("export", "--as", AGENT, folder_id, "--out", str(tmp_path / "x.zip"), ok=False)
    assert unfinished.stderr.startswith("SignatureBook.NotFinished:")
    no_key = run("show", "--as", "MA/GOV/MEF/sans-cle", ok=False)
    assert "no signing key for MA/GOV/MEF/sans-cle" in no_key.stderr
    assert "rejected" in run("reject", "--as", SG, folder_id, "--reason", "Montant erroné").output


def _govbus(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bus.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.rabbitmq
def test_the_book_as_its_own_process_and_the_cli_against_it(tmp_path: Path) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    bus = TestBus(tmp_path / "bus", broker=RABBITMQ_URL, prefix=prefix)
    for contract in BOOK_CONTRACTS:
        bus.publish(contract, provider=BOOK, clients=[AGENT, DRH, SG])
    bus.publish(FOLDER_EVENT, provider=AGENT, clients=[BOOK])
    bus.sign_catalogue()
    env = {
        **os.environ,
        "GOVBUS_HOME": str(bus.root),
        "GOVBUS_BROKER": RABBITMQ_URL,
        "GOVBUS_SIGNATURE_BOOK_ID": BOOK,
    }
    log = (tmp_path / "book.log").open("w")
    book = subprocess.Popen(
        [sys.executable, "-m", "bus.cli", "run", "teleservices.signature_book:app", "--prefix", prefix],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            listed = _govbus("sign", "show", "--as", AGENT, "--prefix", prefix, "--timeout", "5", env=env)
            if listed.returncode == 0 or time.monotonic() > deadline or book.poll() is not None:
                break
            time.sleep(0.5)
        assert listed.returncode == 0, listed.stderr + (tmp_path / "book.log").read_text()

        document = tmp_path / "note.pdf"
        document.write_bytes(CONTRACT)
        submitted = _govbus(
            *("sign", "submit", "--as", AGENT, "--prefix", prefix, "--type", "hr", "--title", "Note"),
            *("--step", f"visa:{DRH}", "--step", f"signature:{SG}", str(document)),
            env=env,
        )
        assert submitted.returncode == 0, submitted.stderr
        folder = submitted.stdout.splitlines()[0].removeprefix("folder: ")

        early = _govbus("sign", "sign", folder, "--as", SG, "--prefix", prefix, env=env)
        assert early.returncode == 1 and early.stderr.startswith("SignatureBook.WrongAction:"), early.stderr
        for args in (("approve", folder, "--as", DRH), ("sign", folder, "--as", SG)):
            done = _govbus("sign", *args, "--prefix", prefix, env=env)
            assert done.returncode == 0, done.stderr
        assert f"signed: folder {folder} is completed" in done.stdout

        bundle = tmp_path / "bundle.zip"
        exported = _govbus(
            "sign", "export", folder, "--as", AGENT, "--prefix", prefix, "--out", str(bundle), env=env
        )
        assert exported.returncode == 0, exported.stderr
        ca, crl = str(bus.home.ca_cert), str(bus.home.crl)
        verified = _govbus("sign", "verify", str(bundle), "--ca-cert", ca, "--crl", crl, env=env)
        assert verified.returncode == 0 and verified.stdout.startswith(f"VALID: folder {folder}"), (
            verified.stderr
        )
    finally:
        book.terminate()
        try:
            book.wait(timeout=30)
        finally:
            if book.poll() is None:
                book.kill()
            log.close()
            bus.close()
    assert book.returncode == 0, (tmp_path / "book.log").read_text()[-3000:]
