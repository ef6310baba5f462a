"""The signer (and ``govbus envelope sign``) refuse to write envelopes the verifier would refuse, with
the code the verifier would give (issue 12, item 8)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bus.cli.main import cli
from bus.envelope import sign_envelope
from bus.envelope.codec import build_envelope
from bus.envelope.model import MAX_LIFETIME, MAX_TEXT, check_header
from bus.envelope.signer import sign_tree
from bus.faults import Fault, FaultCode
from tests.helpers.envelopes import SERVICE, fault_of, header, payload, to_bytes
from tests.helpers.pki import CLIENT

REFUSED = {
    "malformed correlation id": ({"correlation_id": "victim-1"}, FaultCode.SCHEMA_VIOLATION),
    "upper-case correlation id": ({"correlation_id": str(uuid.uuid4()).upper()}, FaultCode.SCHEMA_VIOLATION),
    "malformed id": ({"message_id": "m-1"}, FaultCode.SCHEMA_VIOLATION),
    "over-long user id": ({"user_id": "u" * (MAX_TEXT + 1)}, FaultCode.SCHEMA_VIOLATION),
    "empty purpose": ({"purpose": ""}, FaultCode.SCHEMA_VIOLATION),
    "request hash not hex": ({"request_hash": "Z" * 64}, FaultCode.SCHEMA_VIOLATION),
    "very long time to live": ({"ttl": MAX_LIFETIME + timedelta(milliseconds=1)}, FaultCode.EXPIRED),
    "negative time to live": ({"ttl": timedelta(seconds=-1)}, FaultCode.EXPIRED),
}


@pytest.mark.parametrize(("fields", "code"), REFUSED.values(), ids=REFUSED.keys())
def test_the_signer_refuses_what_the_verifier_refuses(pki, fields, code):
    identity = pki.identity(CLIENT)
    head = header(identity, **fields)
    with pytest.raises(Fault) as refused:
        sign_envelope(head, payload(), identity)
    assert refused.value.code is code
    # Signed anyway (below govbus's signer), the verifier refuses it with the same code.
    forced = to_bytes(sign_tree(build_envelope(head, payload()), identity))
    assert fault_of(pki.verifier(), forced) is code


def test_the_limits_themselves_are_signed_and_verified(pki):
    identity = pki.identity(CLIENT)
    head = header(identity, user_id="u" * MAX_TEXT, ttl=MAX_LIFETIME, correlation_id=str(uuid.uuid4()))
    check_header(head)
    assert pki.verifier().verify(sign_envelope(head, payload(), identity)).header == head


def _sign(pki, tmp_path, *options: str):
    body = tmp_path / "payload.xml"
    body.write_bytes(
        b'<a:AttestationRequest xmlns:a="urn:test:cnss:attestation:1"><a:ice>1</a:ice>'
        b"<a:name>n</a:name></a:AttestationRequest>"
    )
    arguments = ["envelope", "sign", "--home", str(pki.home.root), "--as", CLIENT, "--service", str(SERVICE)]
    return CliRunner().invoke(cli, [*arguments, *options, str(body)])


def test_govbus_envelope_sign_refuses_them_with_the_fault_code(pki, tmp_path):
    result = _sign(pki, tmp_path, "--correlation-id", "victim-1")
    assert (
        result.exit_code == 1
        and "Client.SchemaViolation" in result.output
        and "correlationId" in result.output
    )
    result = _sign(pki, tmp_path, "--user-id", "u" * (MAX_TEXT + 1))
    assert result.exit_code == 1 and "Client.SchemaViolation" in result.output
    result = _sign(pki, tmp_path, "--ttl", str(int(MAX_LIFETIME.total_seconds()) + 1))
    assert result.exit_code == 2 and "--ttl" in result.output
    result = _sign(pki, tmp_path, "--ttl", str(10**20))
    assert result.exit_code == 2
    good = _sign(pki, tmp_path, "--ttl", str(int(MAX_LIFETIME.total_seconds())), "--user-id", "agent")
    assert good.exit_code == 0, good.output
    assert pki.verifier().verify(good.stdout_bytes.strip()).header.user_id == "agent"
