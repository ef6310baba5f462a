"""Checkpoints: forged ones, ones signed by someone else, and both key types."""

from __future__ import annotations

import sqlite3

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from bus.audit import MessageLog
from bus.audit.checkpoint import Checkpoint, CheckpointSigner, checkpoint_bytes, verify_checkpoint
from bus.audit.store import INSERT_CHECKPOINT, checkpoint_row, checkpoints
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify import ProblemKind, verify_log
from bus.cli.audit import exit_code
from bus.envelope.model import utc_now
from bus.faults import Fault, FaultCode
from tests.audit.builders import Exchange, record_exchange
from tests.helpers.pki import CLIENT, PROVIDER, make_ca


def checkpoint_problems(path, trust):
    report = verify_log([path], trust)
    return [p for p in report.problems if p.kind is ProblemKind.CHECKPOINT], report


def replace_checkpoint(path, seq: int, forged: Checkpoint) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM checkpoints WHERE seq = ?", (seq,))
    conn.execute(INSERT_CHECKPOINT, checkpoint_row(forged))


def stored(path, seq: int) -> Checkpoint:
    return next(c for c in checkpoints(sqlite3.connect(path)) if c.seq == seq)


@pytest.mark.parametrize("field", ["head", "seq", "time"])
def test_a_forged_checkpoint_is_detected(log_path, trust, field) -> None:
    original = stored(log_path, 8)
    changes = {"head": "ab" * 32, "seq": 7, "time": "2030-01-01T00:00:00.000Z"}
    forged = Checkpoint(**{**_fields(original), field: changes[field]})
    replace_checkpoint(log_path, 8, forged)
    problems, report = checkpoint_problems(log_path, trust)
    assert problems and problems[0].seq == forged.seq
    assert (
        "Client.InvalidSignature" in problems[0].message or "Client.ExpiredCertificate" in problems[0].message
    )
    assert exit_code(report) == 1


def test_a_checkpoint_signed_with_another_participants_key_is_detected(log_path, home, trust) -> None:
    original = stored(log_path, 8)
    other = CheckpointSigner(home.identity(PROVIDER))
    made = other.sign(original.log_id, original.seq, original.head, utc_now())
    as_client = Checkpoint(**{**_fields(made), "participant": CLIENT})
    data = as_client.signed_bytes()
    key = load_pem_private_key(home.identity(PROVIDER).key_pem, password=None)
    as_client = Checkpoint(**{**_fields(as_client), "signature": key.sign(data, ec.ECDSA(hashes.SHA256()))})
    with pytest.raises(Fault) as refused:
        verify_checkpoint(as_client, trust.store())
    assert refused.value.code is FaultCode.SENDER_MISMATCH
    replace_checkpoint(log_path, 8, as_client)
    problems, _ = checkpoint_problems(log_path, trust)
    assert problems[0].seq == 8 and "Client.SenderMismatch" in problems[0].message


def test_another_participants_own_checkpoint_is_not_this_logs(log_path, home, trust) -> None:
    original = stored(log_path, 8)
    theirs = CheckpointSigner(home.identity(PROVIDER)).sign(original.log_id, 8, original.head, utc_now())
    replace_checkpoint(log_path, 8, theirs)
    problems, _ = checkpoint_problems(log_path, trust)
    assert problems[0].seq == 8 and PROVIDER in problems[0].message


def test_a_checkpoint_from_a_certificate_of_another_ca_is_detected(log_path, home, trust) -> None:
    impostor = home.forge_certificate(CLIENT, issuer=make_ca())
    original = stored(log_path, 12)
    forged = CheckpointSigner(impostor).sign(original.log_id, 12, original.head, utc_now())
    replace_checkpoint(log_path, 12, forged)
    problems, report = checkpoint_problems(log_path, trust)
    assert problems[0].seq == 12 and "Client.UntrustedCertificate" in problems[0].message
    assert report.covered_seq == 8 and report.uncovered == 4


def test_checkpoint_bytes_are_the_documented_text() -> None:
    assert checkpoint_bytes(
        "MA/GOV/CNSS/attestations",
        "6f1c2a4e-0b7d-4c59-9d0e-3f7a1b2c4d5e",
        1000,
        "0" * 64,
        "2026-11-21T10:15:30.123Z",
    ) == (
        b"govbus-audit-checkpoint/1\n"
        b"participant=MA/GOV/CNSS/attestations\n"
        b"log=6f1c2a4e-0b7d-4c59-9d0e-3f7a1b2c4d5e\n"
        b"sequence=1000\n"
        b"head=" + b"0" * 64 + b"\n"
        b"time=2026-11-21T10:15:30.123Z\n"
    )


def test_ec_and_rsa_participants_sign_valid_checkpoints(tmp_path, pki) -> None:
    path = tmp_path / "messages.sqlite"
    with MessageLog.open(path, identity=pki.identity(CLIENT), checkpoint_every=2) as log:
        for _ in range(2):
            record_exchange(log, pki, Exchange())
    report = verify_log([path], TrustFiles.from_home(pki.home))
    assert report.ok, report.problems
    assert report.checkpoints_valid == 2
    algorithm = stored(path, 2).algorithm
    assert algorithm == ("rsa-sha256" if pki.algorithm == "rsa" else "ecdsa-sha256")


def _fields(checkpoint: Checkpoint) -> dict[str, object]:
    return {name: getattr(checkpoint, name) for name in Checkpoint.__dataclass_fields__}
