"""Broker nodes that direct replies must not be sent to for a while, because the broker failed on them.

A direct reply-to address (``amq.rabbitmq.reply-to.<pid>.<key>``) names the channel process of the client
on one cluster node: ``<pid>`` is base64 of the Erlang external term of that process id, whose node part
RabbitMQ 3.10 writes as ``reply@<hash of the node name>``. When that node is down, RabbitMQ 3.10.8 fails to
decode the address and its channel process crashes, closing the replier's whole connection with 541
INTERNAL_ERROR. Re-sending the same reply after reconnecting would close the new connection too, and so
would every reply to another client of the dead node. So the publisher drops the reply the broker failed
on and, for ``hold_seconds``, every direct reply to the same node. Nothing is lost that a direct reply
could promise: direct replies are at-most-once, and a client that lost its connection re-sends its
request (same id) from its new one, with an address on a live node, and is answered from the
provider's idempotency store.
"""

from __future__ import annotations

import base64
import binascii
import time

from bus.transport.topology import DIRECT_REPLY_TO

_PREFIX = DIRECT_REPLY_TO + "."
_PID_TAGS = {ord("X"), ord("g")}  # NEW_PID_EXT, PID_EXT
_ATOM_TAGS = {ord("v"): 2, ord("d"): 2, ord("w"): 1, ord("s"): 1}  # tag -> bytes of the length field


def reply_node(address: str) -> str | None:
    """The node part of a direct reply-to address (``reply@123``), or None when it does not decode."""
    if not address.startswith(_PREFIX):
        return None
    encoded = address[len(_PREFIX) :].split(".", 1)[0]
    try:
        term = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(term) < 4 or term[0] != 131 or term[1] not in _PID_TAGS or term[2] not in _ATOM_TAGS:
        return None
    width = _ATOM_TAGS[term[2]]
    length = int.from_bytes(term[3 : 3 + width], "big")
    name = term[3 + width : 3 + width + length]
    if len(name) != length or not name:
        return None
    return name.decode("utf-8", errors="replace")


class UnreachableReplyNodes:
    """Nodes held back from direct replies until their hold expires (the node may come back)."""

    def __init__(self, hold_seconds: float = 30.0) -> None:
        self.hold_seconds = hold_seconds
        self._until: dict[str, float] = {}

    def hold(self, node: str) -> None:
        self._until[node] = time.monotonic() + self.hold_seconds

    def held(self, address: str) -> bool:
        """True when ``address`` is on a node held back now."""
        node = reply_node(address)
        if node is None or node not in self._until:
            return False
        if time.monotonic() >= self._until[node]:
            del self._until[node]
            return False
        return True
