"""What a refused message claims about itself, read without trusting it, so the record can be found."""

from __future__ import annotations

import lxml.etree as etree

from bus.envelope.codec import ENVELOPE_TAG, HEADER_TAG
from bus.faults import Fault
from bus.xml import parse_untrusted, whole_text

CLAIM_CAP = 256
_CLAIMED = {
    "id": "message_id",
    "kind": "kind",
    "client": "client",
    "service": "service",
    "userId": "user_id",
    "purpose": "purpose",
    "issued": "issued",
    "expires": "expires",
    "correlationId": "correlation_id",
    "requestHash": "request_hash",
}


def claimed_header(raw: bytes) -> dict[str, str | None] | None:
    """The header fields the bytes claim (each capped at 256 characters), or None when unreadable.

    Parsing is the hardened one; nothing here is verified, and records mark these fields ``unverified``.
    """
    try:
        root = parse_untrusted(raw)
    except Fault:
        return None
    if root.tag != ENVELOPE_TAG:
        return None
    header = root.find(HEADER_TAG)
    if header is None:
        return None
    fields: dict[str, str | None] = dict.fromkeys(_CLAIMED.values())
    for child in header:
        tag: object = child.tag  # comments and processing instructions have a function as their tag
        if not isinstance(tag, str):
            continue
        name = _CLAIMED.get(etree.QName(child).localname)
        if name is not None and fields[name] is None:
            fields[name] = (whole_text(child) or "")[:CLAIM_CAP]
    return fields
