"""Each participant has its own broker user, and RabbitMQ itself refuses what its grants do not allow.

Attacker: a participant of the bus (here OUTSIDER, or a client) using raw pika with its own broker
login on the same broker. Every refusal below is RabbitMQ's (ACCESS_REFUSED, 403), not govbus's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pika
import pika.exceptions
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bus.broker.management import MANAGED_TAG, Management
from bus.cli.broker import broker
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId
from bus.registry.catalogue import Grant, Right
from bus.registry.store import load_draft, save_draft
from bus.registry.store import publish as publish_catalogue
from bus.transport import OutgoingMessage, connect
from bus.transport.topology import Topology
from tests.broker_security.conftest import FUND, PARTICIPANTS, PREFIX, SecureBus
from tests.helpers.pki import make_ca, pem_cert, pem_key
from tests.sdk.echo import CLIENT, ECHO, NOTE, NOTIFIER, OUTSIDER, PROVIDER

pytestmark = pytest.mark.slow

TOPOLOGY = Topology(prefix=PREFIX)
ECHO_SERVICE = str(ECHO.service_of(PROVIDER))
NOTE_SERVICE = str(NOTE.service_of(NOTIFIER))
ECHO_QUEUE = TOPOLOGY.service_queue(ECHO_SERVICE)


def refusal(bus: SecureBus, participant: str, action: Callable[[Any], object]) -> str:
    """Run ``action`` on a fresh channel of ``participant``; return RabbitMQ's refusal text."""
    connection = bus.raw(participant)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
            action(channel)
        assert refused.value.reply_code == 403, refused.value
        return str(refused.value.reply_text)
    finally:
        if connection.is_open:
            connection.close()


def publish(exchange: str, routing_key: str) -> Callable[[Any], object]:
    return lambda channel: channel.basic_publish(exchange, routing_key, b"<forged/>", mandatory=True)


def test_provisioning_creates_one_user_per_participant_and_is_idempotent(secure_bus: SecureBus) -> None:
    api = Management(secure_bus.node.management_url)
    managed = sorted(u["name"] for u in api.users() if MANAGED_TAG in u["tags"])
    assert managed == sorted(PARTICIPANTS)
    assert "guest" not in {u["name"] for u in api.users()}

    again = secure_bus.provision()
    assert "created:" not in again and "updated:" not in again and "removed:" not in again
    assert again.count("unchanged:") == len(PARTICIPANTS)


def test_reading_another_participants_queue_is_refused(secure_bus: SecureBus) -> None:
    text = refusal(secure_bus, OUTSIDER, lambda ch: ch.basic_get(ECHO_QUEUE))
    assert f"ACCESS_REFUSED - access to queue '{ECHO_QUEUE}'" in text
    text = refusal(secure_bus, CLIENT, lambda ch: ch.basic_consume(ECHO_QUEUE, lambda *a: None))
    assert "ACCESS_REFUSED" in text


def test_purging_another_participants_queue_is_refused(secure_bus: SecureBus) -> None:
    inbox = TOPOLOGY.inbox_queue(NOTIFIER)
    text = refusal(secure_bus, OUTSIDER, lambda ch: ch.queue_purge(inbox))
    assert f"ACCESS_REFUSED - access to queue '{inbox}'" in text


def test_dead_letter_queues_are_refused_even_to_their_owner(secure_bus: SecureBus) -> None:
    dead_letters = TOPOLOGY.dead_letter_queue(ECHO_QUEUE)
    for participant in (OUTSIDER, PROVIDER):
        text = refusal(secure_bus, participant, lambda ch: ch.basic_get(dead_letters))
        assert f"access to queue '{dead_letters}'" in text


def test_deleting_or_rebinding_queues_is_refused(secure_bus: SecureBus) -> None:
    """A participant cannot reroute another's requests to its own queue, nor delete the queue."""
    own = TOPOLOGY.inbox_queue(OUTSIDER)
    assert "ACCESS_REFUSED" in refusal(
        secure_bus, OUTSIDER, lambda ch: ch.queue_bind(own, TOPOLOGY.requests_exchange, ECHO_SERVICE)
    )
    assert "ACCESS_REFUSED" in refusal(secure_bus, OUTSIDER, lambda ch: ch.queue_delete(ECHO_QUEUE))
    # nor declare its own exchange or queue to start a topology of its own
    assert "ACCESS_REFUSED" in refusal(secure_bus, OUTSIDER, lambda ch: ch.exchange_declare(f"{PREFIX}.mine"))
    assert "ACCESS_REFUSED" in refusal(secure_bus, OUTSIDER, lambda ch: ch.queue_declare(f"{PREFIX}.mine"))


def test_a_grant_withdrawn_from_the_catalogue_is_withdrawn_by_the_broker(secure_bus: SecureBus) -> None:
    home = secure_bus.home
    granted = Grant(ParticipantId.parse(CLIENT), ECHO.service_of(PROVIDER), Right.CALL)
    connection = secure_bus.raw(CLIENT)  # open before the change: its cached permissions must not survive
    save_draft(home, load_draft(home).without_grant(granted))
    publish_catalogue(home)
    try:
        output = secure_bus.provision()
        assert f"updated: {CLIENT}" in output, output
        assert "closed 1 connection(s)" in output, output
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            for _ in range(40):
                connection.process_data_events(0.25)
        text = refusal(secure_bus, CLIENT, publish(TOPOLOGY.requests_exchange, ECHO_SERVICE))
        assert f"access to topic '{ECHO_SERVICE}'" in text
    finally:
        save_draft(home, load_draft(home).with_grant(granted))
        publish_catalogue(home)
        secure_bus.provision()


def test_publishing_to_a_service_without_a_grant_is_refused(secure_bus: SecureBus) -> None:
    text = refusal(secure_bus, OUTSIDER, publish(TOPOLOGY.requests_exchange, ECHO_SERVICE))
    assert f"access to topic '{ECHO_SERVICE}' in exchange '{TOPOLOGY.requests_exchange}'" in text
    # nor around the grant: straight into the service queue by the default exchange
    text = refusal(secure_bus, OUTSIDER, publish("", ECHO_QUEUE))
    assert "access to exchange 'amq.default'" in text
    # nor as a notifier it is not, nor into a receipt inbox it has no subscription for
    assert "ACCESS_REFUSED" in refusal(
        secure_bus, OUTSIDER, publish(TOPOLOGY.notifications_exchange, NOTE_SERVICE)
    )
    assert "ACCESS_REFUSED" in refusal(secure_bus, CLIENT, publish(TOPOLOGY.inbox_exchange, NOTIFIER))


def test_the_granted_publish_is_routed(secure_bus: SecureBus) -> None:
    """The control: the same raw publish, by the client granted the service, reaches the queue."""
    connection = secure_bus.raw(CLIENT)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(TOPOLOGY.requests_exchange, ECHO_SERVICE, b"<granted/>", mandatory=True)
        receipt = secure_bus.raw(FUND).channel()
        receipt.confirm_delivery()
        receipt.basic_publish(TOPOLOGY.inbox_exchange, NOTIFIER, b"<receipt/>", mandatory=True)
    finally:
        connection.close()
    admin = pika.BlockingConnection(pika.URLParameters(secure_bus.node.admin_url))
    try:
        channel = admin.channel()
        _, _, body = channel.basic_get(ECHO_QUEUE, auto_ack=True)
        assert body == b"<granted/>"
        _, _, body = channel.basic_get(TOPOLOGY.inbox_queue(NOTIFIER), auto_ack=True)
        assert body == b"<receipt/>"
    finally:
        admin.close()


def _forged_certificate(participant: str, directory: Path) -> tuple[Path, Path]:
    """A certificate naming ``participant``, from a CA with the bus CA's name but not its key."""
    forged_ca_key, forged_ca = make_ca()
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, participant)]))
        .issuer_name(forged_ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .sign(forged_ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    (directory / "cert.pem").write_bytes(pem_cert(cert))
    (directory / "key.pem").write_bytes(pem_key(key))
    return directory / "cert.pem", directory / "key.pem"


def test_another_participants_password_is_refused(secure_bus: SecureBus) -> None:
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as refused:
        secure_bus.raw(CLIENT, password="guessed")
    assert "ACCESS_REFUSED" in str(refused.value)


def test_a_certificate_naming_another_participant_from_another_ca_is_refused(
    secure_bus: SecureBus, tmp_path: Path
) -> None:
    cert, key = _forged_certificate(CLIENT, tmp_path)
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        secure_bus.raw_external(cert, key)


def test_a_genuine_certificate_logs_in_as_its_own_participant_only(secure_bus: SecureBus) -> None:
    home, outsider = secure_bus.home, ParticipantId.parse(OUTSIDER)
    connection = secure_bus.raw_external(home.participant_cert(outsider), home.participant_key(outsider))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as closed:
            channel.basic_publish(TOPOLOGY.requests_exchange, ECHO_SERVICE, b"<forged/>", mandatory=True)
        assert closed.value.reply_code == 403
        assert f"refused for user '{OUTSIDER}'" in closed.value.reply_text
    finally:
        if connection.is_open:
            connection.close()


def test_govbus_reports_the_brokers_refusal_and_keeps_publishing(secure_bus: SecureBus) -> None:
    """Through the govbus transport, a refused publish is ``Server.PublishRejected`` naming RabbitMQ's
    reason, and the connection goes on publishing what the grants allow."""
    url = secure_bus.password_url(FUND)
    with connect(url, prefix=PREFIX, participant=FUND) as transport:
        with pytest.raises(Fault) as refused:
            transport.publish(
                TOPOLOGY.requests_exchange, ECHO_SERVICE, OutgoingMessage(b"<x/>", message_id="a")
            )
        assert refused.value.code is FaultCode.PUBLISH_REJECTED
        assert f"ACCESS_REFUSED - access to topic '{ECHO_SERVICE}'" in refused.value.reason
        transport.send_to_inbox(NOTIFIER, OutgoingMessage(b"<receipt/>", message_id="b"))
    admin = pika.BlockingConnection(pika.URLParameters(secure_bus.node.admin_url))
    try:
        assert admin.channel().queue_purge(TOPOLOGY.inbox_queue(NOTIFIER)).method.message_count == 1
    finally:
        admin.close()


def test_provisioning_refuses_the_guest_account(secure_bus: SecureBus) -> None:
    result = CliRunner().invoke(
        broker,
        [
            "provision",
            "--home",
            str(secure_bus.home.root),
            "--broker",
            "amqp://guest:guest@127.0.0.1:5711/",
            "--management",
            secure_bus.node.management_url,
        ],
    )
    assert result.exit_code != 0
    assert "a provisioned bus does not use guest" in result.output
