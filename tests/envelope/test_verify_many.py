"""``EnvelopeVerifier.verify_many``: the same verdict, envelope by envelope, as ``verify`` one at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

from bus.envelope import VerifiedEnvelope
from bus.envelope.codec import build_envelope
from bus.envelope.model import utc_now
from bus.envelope.signer import sign_tree
from bus.faults import Fault, FaultCode
from tests.helpers.envelopes import header, payload, signed, to_bytes
from tests.helpers.pki import CLIENT, PROVIDER


def _verdict(result: VerifiedEnvelope | Fault) -> str | FaultCode:
    return result.code if isinstance(result, Fault) else result.header.id


def _one_by_one(verifier, items: list[tuple[bytes, datetime | None]]) -> list[str | FaultCode]:
    verdicts: list[str | FaultCode] = []
    for data, at in items:
        try:
            verdicts.append(verifier.verify(data, at=at).header.id)
        except Fault as fault:
            verdicts.append(fault.code)
    return verdicts


def test_a_mixed_batch_gets_each_envelope_its_own_verdict(pki):
    client, provider = pki.identity(CLIENT), pki.identity(PROVIDER)
    good = [signed(client) for _ in range(5)]
    tampered = good[1].replace(b"Atlas Travaux", b"Atlas Travaus")
    spoofed = to_bytes(sign_tree(build_envelope(header(client), payload()), provider))
    later = utc_now() + timedelta(days=3)
    items: list[tuple[bytes, datetime | None]] = [
        (good[0], None),
        (tampered, None),
        (b"<not-xml", None),
        (spoofed, None),
        (good[2], None),
        (good[2], None),  # the same message again in the same batch: a replay
        (good[3], later),  # judged at another moment: expired, replay rule off
        (b"<Envelope/>", None),
        (good[4], None),
    ]
    expected = _one_by_one(pki.verifier(), items)
    got = [_verdict(result) for result in pki.verifier().verify_many(items)]
    assert got == expected
    assert got[1] is FaultCode.INVALID_SIGNATURE
    assert got[2] is FaultCode.MALFORMED_MESSAGE
    assert got[3] is FaultCode.SENDER_MISMATCH
    assert got[5] is FaultCode.REPLAY
    assert got[6] is FaultCode.EXPIRED
    assert all(isinstance(verdict, str) for verdict in (got[0], got[4], got[8]))  # accepted: their ids


def test_verified_envelopes_from_a_batch_are_complete(pki):
    client = pki.identity(CLIENT)
    data = [signed(client) for _ in range(3)]
    results = pki.verifier().verify_many([(raw, None) for raw in data])
    for raw, result in zip(data, results, strict=True):
        assert isinstance(result, VerifiedEnvelope)
        assert result.raw == raw
        assert result.signer.participant == client.participant
        assert result.payload.tag.endswith("AttestationRequest")


def test_an_empty_batch(pki):
    assert pki.verifier().verify_many([]) == []
