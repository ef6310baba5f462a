"""Anchoring: a participant that rewrites or cuts its own log, re-signing everything, is caught by the
checkpoints it anchored earlier with the audit participant."""

from __future__ import annotations

import sqlite3
import threading

import lxml.etree as etree
import pytest

from bus.audit import MessageLog
from bus.audit.anchor import AnchorStatus, AnchorStore, checkpoint_from_payload, checkpoint_payload
from bus.audit.checkpoint import CheckpointSigner
from bus.audit.connection import PostgresLocation
from bus.audit.store import INSERT_CHECKPOINT, checkpoint_row, checkpoints
from bus.audit.verify import ProblemKind, verify_log
from bus.envelope import EnvelopeVerifier, Header, MessageKind, sign_envelope
from bus.envelope.model import utc_now
from bus.faults import Fault, FaultCode
from bus.ids import ServiceId
from bus.sql import participant_prefix, schema_name
from sdk.postgres import drop_schemas
from tests.audit.builders import FIELD, Exchange, connect, rewrite, rows, write_log
from tests.helpers.pki import CLIENT, PROVIDER
from tests.helpers.storage import DIALECTS, POSTGRES_URL, test_participant

AUDIT_SERVICE = ServiceId.parse("MA/GOV/DGSSI/audit/audit.checkpoint/v1")


def anchoring_envelope(home, checkpoint, sender: str = CLIENT) -> bytes:
    identity = home.identity(sender)
    header = Header.new(MessageKind.NOTIFICATION, identity.participant, AUDIT_SERVICE)
    return sign_envelope(header, checkpoint_payload(checkpoint), identity)


@pytest.fixture(params=DIALECTS)
def anchors(request, tmp_path, home, trust, log_path):
    """The audit participant's store, holding the log's checkpoints at 8 and 12 as they were sent;
    in a SQLite file, then in a PostgreSQL schema of the test's own."""
    if request.param == "postgresql":
        participant = test_participant()
        request.addfinalizer(lambda: drop_schemas(POSTGRES_URL, participant_prefix(participant)))
        where = PostgresLocation(POSTGRES_URL, schema_name(participant, "anchors.sqlite"))
        store = AnchorStore.open(where, trust.store())
    else:
        store = AnchorStore.open(tmp_path / "anchors.sqlite", trust.store())
    verifier = EnvelopeVerifier(trust.store())
    for checkpoint in checkpoints(sqlite3.connect(log_path)):
        if checkpoint.seq in (8, 12):
            anchored = store.accept_envelope(verifier.verify(anchoring_envelope(home, checkpoint)))
            assert anchored.status is AnchorStatus.NEW
    yield store
    store.close()


def resign(path, home) -> None:
    """What a participant holding its own key can do: drop every checkpoint and sign new ones."""
    conn = connect(path)
    log_id = conn.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()[0]
    heads = dict(conn.execute("SELECT seq, hash FROM records WHERE seq % 4 = 0"))
    conn.execute("DELETE FROM checkpoints")
    signer = CheckpointSigner(home.identity(CLIENT))
    for seq, head in sorted(heads.items()):
        conn.execute(INSERT_CHECKPOINT, checkpoint_row(signer.sign(log_id, seq, head, utc_now())))


def test_the_payload_round_trips(log_path) -> None:
    original = checkpoints(sqlite3.connect(log_path))[0]
    element = etree.fromstring(etree.tostring(checkpoint_payload(original)))
    assert checkpoint_from_payload(element) == original


def test_a_rewritten_and_re_signed_log_verifies_alone_but_not_against_its_anchors(
    log_path, home, trust, anchors
) -> None:
    records = rows(connect(log_path))
    records[2][FIELD["fault_reason"]] = "never happened"
    rewrite(connect(log_path), records, rehash=True)
    resign(log_path, home)
    assert verify_log([log_path], trust).ok
    report = verify_log([log_path], trust, anchors=anchors.checkpoints(CLIENT))
    assert report.anchors_checked == 2
    first = report.first_problem
    assert (first.kind, first.seq) == (ProblemKind.ANCHOR, 8)
    assert "from the start up to 8" in first.message


def test_a_cut_and_re_signed_log_is_caught_by_its_anchors(log_path, home, trust, anchors) -> None:
    connect(log_path).execute("DELETE FROM records WHERE seq > 9")
    resign(log_path, home)
    assert verify_log([log_path], trust).ok
    report = verify_log([log_path], trust, anchors=anchors.checkpoints())
    assert (report.first_problem.kind, report.first_problem.seq) == (ProblemKind.TRUNCATED, 10)


def test_a_contradicting_checkpoint_is_kept_as_a_conflict(log_path, home, trust, anchors) -> None:
    records = rows(connect(log_path))
    records[2][FIELD["fault_reason"]] = "never happened"
    rewrite(connect(log_path), records, rehash=True)
    resign(log_path, home)
    rewritten = next(c for c in checkpoints(sqlite3.connect(log_path)) if c.seq == 8)
    verified = EnvelopeVerifier(trust.store()).verify(anchoring_envelope(home, rewritten))
    anchored = anchors.accept_envelope(verified)
    assert anchored.status is AnchorStatus.CONFLICT
    assert anchored.conflicts_with is not None and anchored.conflicts_with.head != rewritten.head
    assert anchors.conflicts() == [rewritten]
    assert anchors.confirm(CLIENT, rewritten.log_id, 8, rewritten.head) is False


def test_the_audit_side_confirms_heads(log_path, anchors) -> None:
    original = {c.seq: c for c in checkpoints(sqlite3.connect(log_path))}
    log_id = original[8].log_id
    assert anchors.confirm(CLIENT, log_id, 8, original[8].head) is True
    assert anchors.confirm(CLIENT, log_id, 8, "00" * 32) is False
    assert anchors.confirm(CLIENT, log_id, 4, original[4].head) is None
    assert anchors.latest(CLIENT) == original[12]
    again = anchors.accept(checkpoint_payload(original[12]), sender=CLIENT)
    assert again.status is AnchorStatus.DUPLICATE


def test_only_the_participant_itself_can_anchor_its_checkpoints(log_path, home, trust, anchors) -> None:
    checkpoint = checkpoints(sqlite3.connect(log_path))[0]
    verified = EnvelopeVerifier(trust.store()).verify(anchoring_envelope(home, checkpoint, sender=PROVIDER))
    with pytest.raises(Fault) as refused:
        anchors.accept_envelope(verified)
    assert refused.value.code is FaultCode.SENDER_MISMATCH


def test_a_payload_that_is_not_a_checkpoint_is_refused(anchors) -> None:
    with pytest.raises(Fault) as refused:
        anchors.accept(etree.fromstring(b"<x xmlns='urn:govbus:audit:1'/>"), sender=CLIENT)
    assert refused.value.code is FaultCode.PAYLOAD_SCHEMA_VIOLATION


def test_anchors_of_another_log_of_the_participant_are_reported(
    tmp_path, home, trust, log_path, anchors
) -> None:
    other = tmp_path / "other" / "messages.sqlite"
    write_log(other, home, [Exchange()])
    with MessageLog.open(other, identity=home.identity(CLIENT)) as log:
        anchors.accept(log.checkpoint_payload(), sender=CLIENT)
    report = verify_log([log_path], trust, anchors=anchors.checkpoints(CLIENT))
    assert report.ok and report.anchors_checked == 2
    assert any("other log" in warning for warning in report.warnings)


def test_two_hosts_of_the_audit_participant_keep_one_anchor_per_checkpoint(log_path, trust) -> None:
    """Both hosts receive the same checkpoint at once (a redelivery): one keeps it, the other sees it."""
    participant = test_participant()
    where = PostgresLocation(POSTGRES_URL, schema_name(participant, "anchors.sqlite"))
    try:
        hosts = [AnchorStore.open(where, trust.store()) for _ in range(2)]
        sent = checkpoints(sqlite3.connect(log_path))
        results: list[AnchorStatus] = []

        def accept(store: AnchorStore) -> None:
            for checkpoint in sent:
                results.append(store.accept(checkpoint_payload(checkpoint), sender=CLIENT).status)

        threads = [threading.Thread(target=accept, args=(host,)) for host in hosts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results).count(AnchorStatus.NEW) == len(sent)
        assert sorted(results).count(AnchorStatus.DUPLICATE) == len(sent)
        assert hosts[0].checkpoints(CLIENT) == sorted(sent, key=lambda c: (c.seq, c.time))
        for host in hosts:
            host.close()
    finally:
        drop_schemas(POSTGRES_URL, participant_prefix(participant))
