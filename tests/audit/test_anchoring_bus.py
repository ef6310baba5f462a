"""Anchoring over the bus: participants' checkpoints reach the audit participant, on each broker, and the
anchored copies catch a participant that rewrites its log and re-signs it with its own key."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator

import pytest

from bus.audit.checkpoint import CheckpointSigner
from bus.audit.store import INSERT_CHECKPOINT, checkpoint_row
from bus.envelope.model import utc_now
from bus.pki import SigningIdentity
from sdk import anchoring
from sdk.anchoring import ANCHOR_CHECKPOINT, AnchorStore
from sdk.testing import TestBus
from teleservices import audit_anchor
from tests.audit.builders import FIELD, connect, rewrite, rows
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, EchoService, Ping

ANCHOR = audit_anchor.PARTICIPANT
WAIT_SECONDS = 30.0


@pytest.fixture
def bus(broker_url: str | None, tmp_path, monkeypatch) -> Iterator[TestBus]:
    monkeypatch.setattr(anchoring, "RETRY_INITIAL_SECONDS", 0.05)
    monkeypatch.setattr(anchoring, "RETRY_MAX_SECONDS", 0.5)
    with TestBus(tmp_path / "bus", broker=broker_url) as test_bus:
        test_bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        test_bus.publish(ANCHOR_CHECKPOINT, provider=ANCHOR, clients=[CLIENT, PROVIDER])
        yield test_bus


def eventually(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.05)


def anchored_heads(bus: TestBus, participant: str) -> dict[int, str]:
    path = bus.home.participant_dir(ANCHOR) / audit_anchor.ANCHORS_FILE
    if not path.exists():
        return {}
    with AnchorStore.read(path) as store:
        return {c.seq: c.head for c in store.checkpoints(participant)}


def log_path(bus: TestBus, participant: str):
    return bus.home.participant_dir(participant) / "messages.sqlite"


def anchor_failures(bus: TestBus, participant: str) -> int:
    with sqlite3.connect(log_path(bus, participant)) as conn:
        return conn.execute(
            "SELECT count(*) FROM records WHERE outcome = 'failed' AND service LIKE ?",
            (f"{ANCHOR}/audit.checkpoint/%",),
        ).fetchone()[0]


def test_checkpoints_reach_the_anchor_over_the_bus(bus) -> None:
    anchor = bus.start(audit_anchor.app)
    bus.start(EchoService().app)
    client = bus.client(CLIENT)
    client.call(PROVIDER, ECHO, Ping(text="hello"))
    checkpoint = client.node.recorder.checkpoint()
    eventually(lambda: anchored_heads(bus, CLIENT).get(checkpoint.seq) == checkpoint.head, "anchored")
    assert anchor.use(audit_anchor.ANCHORS).confirm(
        CLIENT, checkpoint.log_id, checkpoint.seq, checkpoint.head
    )
    sender = client.node.anchor_sender
    assert sender is not None
    eventually(lambda: sender.acknowledged, "the anchor's acknowledgement reached the sender")
    acknowledged = sender.acknowledged
    assert [(a.sequence, a.head, a.status) for a in acknowledged] == [
        (checkpoint.seq, checkpoint.head, "new")
    ]
    assert anchor.node.anchor_sender is None  # the anchor does not anchor with itself


def test_an_anchor_that_was_down_receives_the_queued_checkpoints(bus) -> None:
    bus.start(EchoService().app)
    client = bus.client(CLIENT)
    client.call(PROVIDER, ECHO, Ping(text="first"))
    first = client.node.recorder.checkpoint()
    client.call(PROVIDER, ECHO, Ping(text="second"))
    eventually(lambda: anchor_failures(bus, CLIENT) >= 1, "a failed attempt to reach the anchor")
    second = client.node.recorder.checkpoint()
    assert second.seq > first.seq
    assert anchored_heads(bus, CLIENT) == {}
    assert first in client.node.anchor_sender.pending
    bus.start(audit_anchor.app)
    eventually(lambda: {first.seq, second.seq} <= set(anchored_heads(bus, CLIENT)), "both anchored")
    heads = anchored_heads(bus, CLIENT)
    assert (heads[first.seq], heads[second.seq]) == (first.head, second.head)
    eventually(lambda: not client.node.anchor_sender.pending, "the queue emptied")


def test_no_anchor_in_the_catalogue_sends_nothing(broker_url, tmp_path) -> None:
    with TestBus(tmp_path / "bus", broker=broker_url) as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        bus.start(EchoService().app)
        client = bus.client(CLIENT)
        client.call(PROVIDER, ECHO, Ping(text="hello"))
        client.node.recorder.checkpoint()
        assert client.node.anchor_sender is None
        with sqlite3.connect(log_path(bus, CLIENT)) as conn:
            services = {s for (s,) in conn.execute("SELECT DISTINCT service FROM records")}
        assert services == {str(ECHO.service_of(PROVIDER))}


def resign(bus: TestBus, participant: str) -> None:
    """What a participant holding its own key can do: drop every checkpoint and sign one at its head."""
    path = log_path(bus, participant)
    conn = connect(path)
    log_id = conn.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()[0]
    seq, head = conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute("DELETE FROM checkpoints")
    signer = CheckpointSigner(SigningIdentity.from_home(bus.home, participant))
    conn.execute(INSERT_CHECKPOINT, checkpoint_row(signer.sign(log_id, seq, head, utc_now())))
    conn.close()


def test_a_rewritten_log_verifies_alone_but_not_against_the_anchored_checkpoints(
    broker_url, tmp_path, monkeypatch, run
) -> None:
    monkeypatch.setattr(anchoring, "RETRY_INITIAL_SECONDS", 0.05)
    with TestBus(tmp_path / "bus", broker=broker_url) as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        bus.publish(ANCHOR_CHECKPOINT, provider=ANCHOR, clients=[CLIENT])
        bus.start(audit_anchor.app)
        bus.start(EchoService().app)
        client = bus.client(CLIENT)
        client.call(PROVIDER, ECHO, Ping(text="one"))
        checkpoint = client.node.recorder.checkpoint()
        eventually(lambda: checkpoint.seq in anchored_heads(bus, CLIENT), "anchored")
    path = log_path(bus, CLIENT)
    anchors = bus.home.participant_dir(ANCHOR) / audit_anchor.ANCHORS_FILE
    assert run("audit", "verify", path, "--home", bus.root, "--anchors", anchors).exit_code == 0

    records = rows(connect(path))
    assert records[0][FIELD["outcome"]] == "sent"
    records[0][FIELD["outcome"]] = "failed"
    records[0][FIELD["fault_code"]] = "Server.BrokerUnavailable"
    records[0][FIELD["fault_reason"]] = "never sent"
    rewrite(connect(path), records, rehash=True)
    resign(bus, CLIENT)

    alone = run("audit", "verify", path, "--home", bus.root)
    assert alone.exit_code == 0, alone.output
    against = run("audit", "verify", path, "--home", bus.root, "--anchors", anchors)
    assert against.exit_code == 1, against.output
    assert f"FIRST BROKEN: record {checkpoint.seq}: anchor:" in against.output
    assert f"up to {checkpoint.seq}" in against.output
