"""What leaves a participant: a broker administrator sees ciphertext only, and the standard tool
(``xmlsec1 --decrypt``, Debian's libxmlsec) opens a logged govbus envelope with the recipient's key."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time

import pika
import pytest

from bus.envelope.encryption import open_sealed, reveal
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId
from bus.xml import parse_untrusted
from tests.conftest import RABBITMQ_URL
from tests.sdk.echo import CLIENT, ECHO, FUNDS, NOTE, NOTIFIER, PROVIDER, EchoService, Ping, fund

CIN = "AB123456"


def _sent_request(bus) -> bytes:
    path = bus.home.participant_dir(ParticipantId.parse(CLIENT)) / "messages.sqlite"
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT raw FROM records WHERE direction = 'out' AND kind = 'request'").fetchall()
    assert len(rows) == 1
    return bytes(rows[0][0])


@pytest.mark.skipif(
    shutil.which("xmlsec1") is None, reason="xmlsec1 (Debian package xmlsec1) is not installed"
)
@pytest.mark.parametrize("reader", [PROVIDER, CLIENT])
def test_xmlsec1_decrypts_a_logged_request_with_a_recipients_key(bus, tmp_path, reader):
    bus.start(EchoService().app)
    with bus.client(CLIENT) as client:
        client.call(PROVIDER, ECHO, Ping(text=f"death of {CIN}"), purpose="test", timeout=15)
    message = tmp_path / "request.xml"
    message.write_bytes(_sent_request(bus))
    key = bus.home.participant_encryption_key(ParticipantId.parse(reader))
    done = subprocess.run(
        ["xmlsec1", "--decrypt", f"--privkey-pem:{reader}", str(key), str(message)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    opened = parse_untrusted(done.stdout.split(b"?>", 1)[1].strip())
    assert opened[1][0].findtext("{urn:t:echo:1}text") == f"death of {CIN}"


def test_a_judge_given_the_content_key_reads_exactly_what_was_signed(bus):
    bus.start(EchoService().app)
    with bus.client(CLIENT) as client:
        client.call(PROVIDER, ECHO, Ping(text="evidence"), purpose="test", timeout=15)
        raw = _sent_request(bus)
        verified = client.node.verifier.verify(raw)
    sealed = verified.payload
    opened = open_sealed(sealed, PROVIDER, bus.node(PROVIDER).keys.own_key())
    assert reveal(sealed, opened.content_key).findtext("{urn:t:echo:1}text") == "evidence"
    with pytest.raises(Fault) as refused:
        reveal(sealed, bytes(32))
    assert refused.value.code is FaultCode.DECRYPTION_FAILED


@pytest.mark.parametrize("broker_url", ["rabbitmq"], indirect=True)
def test_the_broker_administrator_reads_no_plaintext_cin_and_nothing_is_lost(bus):
    service = NOTE.service_of(NOTIFIER)
    notifier = bus.client(NOTIFIER)
    result = notifier.notify(NOTE, Ping(text=f"deceased {CIN}"), timeout=2)
    assert sorted(map(str, result.missing)) == sorted(FUNDS)
    queue = bus.transport.topology.subscription_queue(FUNDS[0], str(service))
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))  # guest: the administrator
    try:
        channel = connection.channel()
        method, _, body = channel.basic_get(queue)
        assert method is not None
        assert CIN.encode() not in body and b"xenc:EncryptedData" in body
        channel.basic_nack(method.delivery_tag, requeue=True)
    finally:
        connection.close()
    app, seen = fund(FUNDS[0])
    bus.start(app)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not seen:
        time.sleep(0.05)
    assert seen == [f"deceased {CIN}"]
