"""The anchor's handler and its store's lifecycle."""

from __future__ import annotations

import threading

from sdk import Context, Node, Provider
from sdk.anchoring import ANCHOR_CHECKPOINT, Anchored, AnchorStore, CheckpointMessage, anchor_participant

PARTICIPANT = anchor_participant()
ANCHORS_FILE = "anchors.sqlite"

app = Provider(PARTICIPANT)
_stores: dict[int, AnchorStore] = {}
_lock = threading.Lock()


def store_of(node: Node) -> AnchorStore:
    """The anchor store of a running anchor node."""
    with _lock:
        return _stores[id(node)]


@app.on_start
def open_store(node: Node) -> None:
    with _lock:
        _stores[id(node)] = AnchorStore.open(node.data_dir / ANCHORS_FILE, node.trust)


@app.on_stop
def close_store(node: Node) -> None:
    with _lock:
        store = _stores.pop(id(node), None)
    if store is not None:
        store.close()


@app.implement(ANCHOR_CHECKPOINT)
def anchor(request: CheckpointMessage, ctx: Context) -> Anchored:
    """Verify and keep the sender's checkpoint (a Fault refuses it); acknowledge what was kept."""
    anchored = store_of(ctx.node).accept(request.element(), sender=ctx.client)
    checkpoint = anchored.checkpoint
    return Anchored(
        participant=checkpoint.participant,
        log=checkpoint.log_id,
        sequence=checkpoint.seq,
        head=checkpoint.head,
        status=str(anchored.status),
        received=anchored.received_at,
    )
