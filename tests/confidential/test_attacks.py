"""Attacks on confidential services, by a participant holding a genuine key and a grant (the caller).

Each sealed-payload attack is signed by the attacker, so it passes the envelope signature and reaches
decryption: the provider refuses it with its documented code before the handler runs, answers a signed
fault, and logs the message as received. Altering a sealed envelope after signing is
``Client.InvalidSignature``: nothing is decrypted for an unauthenticated sender.
"""

from __future__ import annotations

import pytest

from bus.envelope import Header
from bus.faults import FaultCode
from bus.transport import OutgoingMessage
from sdk.fault_message import fault_from_payload
from tests.attacks.conftest import log_records
from tests.confidential.crafting import (
    AES256_CBC,
    RSA_1_5,
    flip_ciphertext,
    named,
    ping,
    recipients,
    request,
    seal,
    sealed_with,
)
from tests.sdk.echo import CLIENT, ECHO, OUTSIDER, PROVIDER, EchoService


def _send(bus, sent: tuple[Header, bytes]):
    header, raw = sent
    reply = bus.transport.request(
        str(ECHO.service_of(PROVIDER)), OutgoingMessage(raw, message_id=header.id), timeout=15
    )
    return bus.node(CLIENT).answer_verifier.verify(reply.body)


@pytest.fixture
def running(bus):
    service = EchoService()
    bus.start(service.app)
    return service


def _refused_with(bus, running, sent: tuple[Header, bytes], code: FaultCode) -> None:
    raw = sent[1]
    answer = _send(bus, sent)
    assert fault_from_payload(answer.payload).code is code
    assert running.seen == []
    refused = [r for r in log_records(bus, PROVIDER) if r.direction == "in" and r.fault_code == str(code)]
    assert len(refused) == 1 and refused[0].size == len(raw)


def _attacker(bus):
    node = bus.node(CLIENT)
    bus.authority.issue_encryption(bus.participant(OUTSIDER))
    return node


def test_a_payload_sealed_for_another_key_is_refused_with_decryption_failed(bus, running):
    node = _attacker(bus)
    outsider, client = recipients(node, OUTSIDER, CLIENT)
    sent = request(node, seal(ping(), [named(outsider, PROVIDER), client]))
    _refused_with(bus, running, sent, FaultCode.DECRYPTION_FAILED)


def test_a_payload_not_sealed_for_the_provider_is_refused_with_decryption_failed(bus, running):
    node = _attacker(bus)
    sent = request(node, seal(ping(), recipients(node, CLIENT)))
    _refused_with(bus, running, sent, FaultCode.DECRYPTION_FAILED)


def test_a_ciphertext_changed_before_signing_fails_its_gcm_tag(bus, running):
    node = _attacker(bus)
    sent = request(node, flip_ciphertext(seal(ping(), recipients(node, PROVIDER, CLIENT))))
    _refused_with(bus, running, sent, FaultCode.DECRYPTION_FAILED)


def test_a_ciphertext_changed_after_signing_is_an_invalid_signature(bus, running):
    node = _attacker(bus)
    header, raw = request(node, seal(ping(), recipients(node, PROVIDER, CLIENT)))
    start = raw.index(b"<xenc:CipherValue>", raw.rindex(b"</xenc:EncryptedKey>")) + len(b"<xenc:CipherValue>")
    changed = raw[: start + 20] + (b"A" if raw[start + 20 : start + 21] != b"A" else b"B") + raw[start + 21 :]
    answer = _send(bus, (header, changed))
    assert fault_from_payload(answer.payload).code is FaultCode.INVALID_SIGNATURE
    assert running.seen == []


@pytest.mark.parametrize(
    ("options", "what"),
    [({"content": AES256_CBC}, "AES-CBC"), ({"transport": RSA_1_5}, "RSA PKCS#1 v1.5")],
)
def test_a_downgraded_algorithm_is_refused(bus, running, options, what):
    node = _attacker(bus)
    sent = request(node, sealed_with(ping(), recipients(node, PROVIDER, CLIENT), **options))
    _refused_with(bus, running, sent, FaultCode.DISALLOWED_ALGORITHM)


def test_a_plaintext_payload_to_a_confidential_service_is_refused(bus, running):
    node = _attacker(bus)
    sent = request(node)
    _refused_with(bus, running, sent, FaultCode.ENCRYPTION_REQUIRED)


def test_the_genuine_call_still_works_after_the_attacks(bus, running):
    node = _attacker(bus)
    _send(bus, request(node, flip_ciphertext(seal(ping(), recipients(node, PROVIDER, CLIENT)))))
    answer = _send(bus, request(node, seal(ping("genuine"), recipients(node, PROVIDER, CLIENT))))
    assert node.open(answer).payload.findtext("{urn:t:echo:1}text") == "genuine"
    assert running.seen == ["genuine"]
