"""Evidence bundles verify offline, with govbus and with xmlsec1 and openssl; tampered ones do not."""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest

from bus.audit.bundle import verify_bundle
from bus.audit.trustfiles import TrustFiles
from tests.audit.builders import Exchange, write_log
from tests.helpers.pki import CLIENT, build_home


@pytest.fixture
def exchanged(tmp_path, home):
    """A log with five exchanges (the third rejected, the fourth metadata-only) and checkpoints every 4."""
    path = tmp_path / "messages.sqlite"
    exchanges = [Exchange(), Exchange(), Exchange(rejected=True), Exchange(mode="metadata"), Exchange()]
    heads = write_log(path, home, exchanges, checkpoint_every=4)
    return path, heads


def export(run, path, message_id, out, home, *extra):
    result = run("audit", "export", path, message_id, "-o", out, "--home", home.home.root, *extra)
    assert result.exit_code == 0, result.output + result.stderr
    return out


def members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def repack(bundle: Path, files: dict[str, bytes], out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out


def test_a_bundle_verifies_offline_with_a_pinned_ca(tmp_path, run, home, exchanged) -> None:
    path, heads = exchanged
    bundle = export(run, path, heads[1][0].id, tmp_path / "bundle.zip", home)
    files = members(bundle)
    assert {"README.txt", "manifest.json", "certificates/ca-cert.pem", "checkpoint/checkpoint.sig"} <= set(
        files
    )
    assert len([n for n in files if n.startswith("envelopes/")]) == 2
    manifest = json.loads(files["manifest.json"])
    assert [r["seq"] for r in manifest["records"]] == [3, 4]
    assert manifest["checkpoint"]["sequence"] == 4
    result = run("audit", "verify-bundle", bundle, "--ca-cert", home.home.ca_cert)
    assert result.exit_code == 0, result.output
    assert "result:      OK" in result.output and "envelope signatures verified: 2" in result.output


def test_a_rejected_and_a_metadata_only_exchange_export_too(tmp_path, run, home, exchanged, trust) -> None:
    path, heads = exchanged
    rejected = export(run, path, heads[2][0].id, tmp_path / "rejected.zip", home)
    report = verify_bundle(rejected, trust)
    assert report.ok, report.problems
    assert any(name.endswith("-in-rejected.bin") for name in members(rejected))
    metadata = export(run, path, heads[3][0].id, tmp_path / "metadata.zip", home)
    report = verify_bundle(metadata, trust)
    assert report.ok and report.envelopes_verified == 0
    assert not [name for name in members(metadata) if name.startswith("envelopes/")]


def test_export_signs_a_checkpoint_when_none_covers_the_records(tmp_path, run, home, trust) -> None:
    path = tmp_path / "messages.sqlite"
    heads = write_log(path, home, [Exchange()] * 2, checkpoint_every=None)
    sqlite3.connect(path, isolation_level=None).execute("DELETE FROM checkpoints")
    refused = run(
        "audit",
        "export",
        path,
        heads[0][0].id,
        "-o",
        tmp_path / "b.zip",
        "--home",
        home.home.root,
        "--no-checkpoint",
    )
    assert refused.exit_code == 1 and "not yet covered" in refused.stderr
    bundle = export(run, path, heads[0][0].id, tmp_path / "b.zip", home)
    assert verify_bundle(bundle, trust).ok


def test_the_readme_commands_verify_with_xmlsec1_and_openssl(tmp_path, run, home, exchanged) -> None:
    assert shutil.which("xmlsec1") and shutil.which("openssl"), (
        "./dev installs xmlsec1; openssl comes with Debian"
    )
    path, heads = exchanged
    bundle = export(run, path, heads[0][0].id, tmp_path / "bundle.zip", home)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(unpacked)
    commands = [
        line.strip()
        for line in (unpacked / "README.txt").read_text().splitlines()
        if line.strip().startswith(("xmlsec1 ", "openssl "))
    ]
    assert len([c for c in commands if c.startswith("xmlsec1")]) == 2
    for command in commands:
        argv = shlex.split(command.split(" > ")[0])
        out = subprocess.run(argv, cwd=unpacked, capture_output=True, check=False)
        assert out.returncode == 0, (command, out.stdout, out.stderr)
        if " > " in command:
            (unpacked / command.split(" > ")[1]).write_bytes(out.stdout)
    envelope = next((unpacked / "envelopes").iterdir())
    envelope.write_bytes(envelope.read_bytes().replace(b"Atlas", b"Atlaz"))
    argv = shlex.split(next(c for c in commands if envelope.name in c))
    assert subprocess.run(argv, cwd=unpacked, capture_output=True, check=False).returncode != 0


def test_a_tampered_envelope_fails_even_with_a_consistent_manifest(
    tmp_path, run, home, exchanged, trust
) -> None:
    path, heads = exchanged
    files = members(export(run, path, heads[0][0].id, tmp_path / "bundle.zip", home))
    name = next(n for n in files if n.startswith("envelopes/"))
    files[name] = files[name].replace(b"Atlas", b"Atlaz")
    naive = verify_bundle(repack(tmp_path / "bundle.zip", files, tmp_path / "naive.zip"), trust)
    assert any("was changed" in p for p in naive.problems)
    manifest = json.loads(files["manifest.json"])
    digest = hashlib.sha256(files[name]).hexdigest()
    manifest["files"][name] = digest
    for entry in manifest["records"]:
        if entry["file"] == name:
            entry["sha256"] = entry["stored_sha256"] = digest
    files["manifest.json"] = json.dumps(manifest).encode()
    careful = verify_bundle(repack(tmp_path / "bundle.zip", files, tmp_path / "careful.zip"), trust)
    assert not careful.ok
    assert any("is not the record the chain holds" in p for p in careful.problems)
    assert any("does not verify" in p for p in careful.problems)
    result = run("audit", "verify-bundle", tmp_path / "careful.zip", "--ca-cert", home.home.ca_cert)
    assert result.exit_code == 1 and "result:      INVALID" in result.output


def test_a_tampered_proof_or_checkpoint_fails(tmp_path, run, home, exchanged, trust) -> None:
    path, heads = exchanged
    files = members(export(run, path, heads[0][0].id, tmp_path / "bundle.zip", home))
    manifest = json.loads(files["manifest.json"])
    manifest["proof"]["digests"][-1] = "00" * 32
    changed = {**files, "manifest.json": json.dumps(manifest).encode()}
    report = verify_bundle(repack(tmp_path / "x.zip", changed, tmp_path / "proof.zip"), trust)
    assert any("does not reach the head" in p for p in report.problems)
    signature = bytearray(files["checkpoint/checkpoint.sig"])
    signature[-3] ^= 1
    changed = {**files, "checkpoint/checkpoint.sig": bytes(signature)}
    report = verify_bundle(repack(tmp_path / "x.zip", changed, tmp_path / "sig.zip"), trust)
    assert any("checkpoint is not valid" in p for p in report.problems)


def test_a_bundle_from_another_bus_fails_against_the_pinned_ca(tmp_path, run, home, exchanged) -> None:
    path, heads = exchanged
    bundle = export(run, path, heads[0][0].id, tmp_path / "bundle.zip", home)
    other = build_home(tmp_path / "other-bus", participants=(CLIENT,))
    report = verify_bundle(bundle, TrustFiles(other.home.ca_cert))
    assert not report.ok
    assert any("Client.UntrustedCertificate" in p for p in report.problems)
    unpinned = verify_bundle(bundle)
    assert unpinned.ok and unpinned.ca_from_bundle


def test_hostile_zip_member_names_are_refused(tmp_path, run, home, exchanged) -> None:
    path, heads = exchanged
    files = members(export(run, path, heads[0][0].id, tmp_path / "bundle.zip", home))
    files["../escape.txt"] = b"x"
    result = run("audit", "verify-bundle", repack(tmp_path / "b", files, tmp_path / "evil.zip"))
    assert result.exit_code == 1 and "refusing member name" in result.stderr
