"""A bus home (CA, participants, signed catalogue, broker certificate) and a dedicated RabbitMQ node that
serves it over TLS, provisioned with ``govbus broker provision``; one per test module."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pika
import pytest
from click.testing import CliRunner

from bus.cli.broker import broker
from bus.ids import ParticipantId
from bus.pki.authority import CertificateAuthority
from bus.pki.home import BusHome
from bus.registry.catalogue import Catalogue, Grant, Right, ServiceEntry, ServiceStyle
from bus.registry.store import publish, save_draft
from tests.broker_security.node import AMQP_PORT, AMQPS_PORT, SecureNode
from tests.sdk.echo import CLIENT, ECHO, FUNDS, NOTE, NOTIFIER, OUTSIDER, PROVIDER

PREFIX = "sec"
FUND = FUNDS[0]
PARTICIPANTS = (PROVIDER, CLIENT, OUTSIDER, NOTIFIER, FUND)


@dataclass
class SecureBus:
    """The home, the node and what participants need to reach it."""

    home: BusHome
    node: SecureNode
    authority: CertificateAuthority

    def provision(self, *extra: str) -> str:
        """Run ``govbus broker provision`` as the administrator; return its output."""
        result = CliRunner().invoke(
            broker,
            [
                "provision",
                "--home",
                str(self.home.root),
                "--broker",
                self.node.admin_url,
                "--prefix",
                PREFIX,
                "--management",
                self.node.management_url,
                *extra,
            ],
        )
        assert result.exit_code == 0, result.output
        return result.output

    def password(self, participant: str) -> str:
        return self.home.broker_password(ParticipantId.parse(participant)).read_text().strip()

    def password_url(self, participant: str, password: str | None = None, *, tls: bool = False) -> str:
        user = quote(participant, safe="")
        secret = quote(password if password is not None else self.password(participant), safe="")
        if tls:
            return f"amqps://{user}:{secret}@localhost:{AMQPS_PORT}/"
        return f"amqp://{user}:{secret}@127.0.0.1:{AMQP_PORT}/"

    def raw(self, participant: str, password: str | None = None) -> pika.BlockingConnection:
        """A raw pika connection with ``participant``'s password: the attacker's own tool."""
        return pika.BlockingConnection(pika.URLParameters(self.password_url(participant, password)))

    def tls_context(self, cert: Path | None, key: Path | None, ca: Path | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(ca or self.home.ca_cert))
        if cert is not None:
            context.load_cert_chain(str(cert), str(key))
        return context

    def raw_external(self, cert: Path, key: Path) -> pika.BlockingConnection:
        """A raw pika connection over TLS that logs in with a client certificate (EXTERNAL)."""
        params = pika.ConnectionParameters(
            host="localhost",
            port=AMQPS_PORT,
            ssl_options=pika.SSLOptions(self.tls_context(cert, key), server_hostname="localhost"),
            credentials=pika.credentials.ExternalCredentials(),
        )
        return pika.BlockingConnection(params)


def _catalogue(home: BusHome) -> None:
    catalogue = Catalogue(instance="MA")
    for participant in PARTICIPANTS:
        catalogue = catalogue.with_participant(ParticipantId.parse(participant))
    echo = ECHO.service_of(PROVIDER)
    note = NOTE.service_of(NOTIFIER)
    catalogue = catalogue.with_service(
        ServiceEntry(echo, ServiceStyle.REQUEST_REPLY, ECHO.schema, "echo", ECHO.digest)
    )
    catalogue = catalogue.with_service(
        ServiceEntry(note, ServiceStyle.NOTIFICATION, NOTE.schema, "", NOTE.digest)
    )
    catalogue = catalogue.with_grant(Grant(ParticipantId.parse(CLIENT), echo, Right.CALL))
    catalogue = catalogue.with_grant(Grant(ParticipantId.parse(FUND), note, Right.SUBSCRIBE))
    save_draft(home, catalogue)
    publish(home)


@pytest.fixture(scope="module")
def secure_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBus]:
    root = tmp_path_factory.mktemp("secure-bus")
    home = BusHome.at(root / "home")
    authority = CertificateAuthority.init(home)
    for participant in PARTICIPANTS:
        authority.issue(ParticipantId.parse(participant))
    _catalogue(home)
    key, cert = authority.issue_broker(["localhost", "127.0.0.1"])
    node = SecureNode(root / "node")
    node.configure(home.ca_cert, cert, key)
    node.start()
    try:
        bus = SecureBus(home, node, authority)
        bus.provision()
        yield bus
    finally:
        node.stop()
