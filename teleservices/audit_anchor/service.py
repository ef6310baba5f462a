"""The anchor's handler and its store, a per-node resource."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from bus.audit.connection import PostgresLocation
from bus.sql import schema_name
from sdk import Context, Environment, Provider, inject
from sdk.anchoring import ANCHOR_CHECKPOINT, Anchored, AnchorStore, CheckpointMessage, anchor_participant

PARTICIPANT = anchor_participant()
ANCHORS_FILE = "anchors.sqlite"

app = Provider(PARTICIPANT)


def _anchors(env: Environment) -> Iterator[AnchorStore]:
    """The anchor store where the node's storage says (its directory, or its ``anchors`` schema shared by
    every host), checking checkpoints against the bus trust store."""
    where: Path | PostgresLocation = env.data_dir / ANCHORS_FILE
    if env.storage.dialect == "postgresql":
        where = PostgresLocation(env.storage.url, schema_name(env.storage.participant, ANCHORS_FILE))
    store = AnchorStore.open(where, env.trust)
    yield store
    store.close()


ANCHORS = app.resource(_anchors)


@app.implement(ANCHOR_CHECKPOINT)
def anchor(request: CheckpointMessage, ctx: Context, store: AnchorStore = inject(ANCHORS)) -> Anchored:
    """Verify and keep the sender's checkpoint (a Fault refuses it); acknowledge what was kept."""
    anchored = store.accept(request.element(), sender=ctx.client)
    checkpoint = anchored.checkpoint
    return Anchored(
        participant=checkpoint.participant,
        log=checkpoint.log_id,
        sequence=checkpoint.seq,
        head=checkpoint.head,
        status=str(anchored.status),
        received=anchored.received_at,
    )
