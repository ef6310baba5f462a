"""One verifier shared by threads: every message gets its own correct verdict, never another's error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bus.envelope.codec import build_envelope
from bus.envelope.signer import sign_tree
from bus.faults import Fault, FaultCode
from tests.helpers.envelopes import ENV, header, payload, signed, to_bytes
from tests.helpers.pki import CLIENT, PROVIDER


def _schema_invalid(identity) -> bytes:
    root = build_envelope(header(identity), payload())
    root[0].find(ENV + "kind").text = "command"
    return to_bytes(sign_tree(root, identity))


def test_shared_verifier_under_threads(pki):
    identities = [pki.identity(CLIENT), pki.identity(PROVIDER)]
    cases: list[tuple[bytes, FaultCode | None]] = []
    for i in range(400):
        identity = identities[i % 2]
        if i % 3 == 0:
            cases.append((_schema_invalid(identity), FaultCode.SCHEMA_VIOLATION))
        elif i % 3 == 1:
            cases.append((signed(identity).replace(b"Atlas", b"Atlaz"), FaultCode.INVALID_SIGNATURE))
        else:
            cases.append((signed(identity), None))
    verifier = pki.verifier()

    def verdict(data: bytes) -> FaultCode | None:
        try:
            verifier.verify(data)
        except Fault as fault:
            return fault.code
        return None

    messages = [data for data, _ in cases]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [code for _ in range(3) for code in list(pool.map(verdict, messages))]
    expected = [code for _, code in cases]
    replays = [FaultCode.REPLAY if code is None else code for code in expected]
    assert results == expected + replays + replays
