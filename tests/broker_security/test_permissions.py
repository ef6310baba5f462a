"""The permissions ``govbus broker provision`` gives, derived from the catalogue (no broker needed).

RabbitMQ matches these patterns with PCRE; the patterns use only what Python's ``re`` reads the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from bus.broker.permissions import NOTHING, Permissions, permissions
from bus.cli.pki import pki
from bus.ids import ParticipantId
from bus.pki.authority import CertificateAuthority
from bus.pki.home import BusHome
from bus.registry.catalogue import Catalogue, Grant, Right, ServiceEntry, ServiceStyle
from bus.transport.topology import Topology
from tests.sdk.echo import CLIENT, ECHO, FUNDS, NOTE, NOTIFIER, OUTSIDER, PROVIDER

TOPOLOGY = Topology(prefix="p")
ECHO_SERVICE = ECHO.service_of(PROVIDER)
NOTE_SERVICE = NOTE.service_of(NOTIFIER)
TOKEN = "0123456789abcdef0123456789abcdef"


def catalogue() -> Catalogue:
    c = Catalogue(instance="MA")
    for participant in (PROVIDER, CLIENT, OUTSIDER, NOTIFIER, FUNDS[0]):
        c = c.with_participant(ParticipantId.parse(participant))
    c = c.with_service(ServiceEntry(ECHO_SERVICE, ServiceStyle.REQUEST_REPLY, ECHO.schema))
    c = c.with_service(ServiceEntry(NOTE_SERVICE, ServiceStyle.NOTIFICATION, NOTE.schema))
    c = c.with_grant(Grant(ParticipantId.parse(CLIENT), ECHO_SERVICE, Right.CALL))
    return c.with_grant(Grant(ParticipantId.parse(FUNDS[0]), NOTE_SERVICE, Right.SUBSCRIBE))


def of(participant: str) -> Permissions:
    return permissions(catalogue(), TOPOLOGY, ParticipantId.parse(participant))


def matches(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None


def topic(perms: Permissions, exchange: str) -> tuple[str, str]:
    found = next(t for t in perms.topics if t.exchange == exchange)
    return found.write, found.read


def test_a_participant_reads_only_its_own_queues() -> None:
    provider, outsider = of(PROVIDER), of(OUTSIDER)
    echo_queue = TOPOLOGY.service_queue(str(ECHO_SERVICE))
    assert matches(provider.read, echo_queue)
    assert not matches(outsider.read, echo_queue)
    assert not matches(provider.read, TOPOLOGY.dead_letter_queue(echo_queue))
    assert matches(outsider.read, TOPOLOGY.inbox_queue(OUTSIDER))
    assert not matches(outsider.read, TOPOLOGY.inbox_queue(PROVIDER))
    fund = of(FUNDS[0])
    assert matches(fund.read, TOPOLOGY.subscription_queue(FUNDS[0], str(NOTE_SERVICE)))
    assert not matches(outsider.read, TOPOLOGY.subscription_queue(FUNDS[0], str(NOTE_SERVICE)))


def test_reply_queues_are_named_for_their_owner() -> None:
    client = of(CLIENT)
    assert matches(client.configure, TOPOLOGY.reply_queue(TOKEN, CLIENT))
    assert not matches(client.configure, TOPOLOGY.reply_queue(TOKEN, PROVIDER))
    assert not matches(client.configure, TOPOLOGY.reply_queue(TOKEN))  # a shared login's reply queue
    assert not matches(client.configure, TOPOLOGY.service_queue(str(ECHO_SERVICE)))
    assert not matches(client.write, "amq.default") and not matches(client.write, "")


def test_topic_permissions_encode_the_grants() -> None:
    write, _ = topic(of(CLIENT), TOPOLOGY.requests_exchange)
    assert matches(write, str(ECHO_SERVICE))
    assert matches(write, f"{PROVIDER}/meta.services/v1")  # discovery is open to every participant
    assert not matches(write, f"{ECHO_SERVICE!s}x") and not matches(write, "#")
    write, _ = topic(of(OUTSIDER), TOPOLOGY.requests_exchange)
    assert not matches(write, str(ECHO_SERVICE))
    write, _ = topic(of(NOTIFIER), TOPOLOGY.notifications_exchange)
    assert matches(write, str(NOTE_SERVICE))
    write, _ = topic(of(OUTSIDER), TOPOLOGY.notifications_exchange)
    assert write == NOTHING
    write, _ = topic(of(FUNDS[0]), TOPOLOGY.inbox_exchange)
    assert matches(write, NOTIFIER) and not matches(write, PROVIDER)
    write, read = topic(of(PROVIDER), TOPOLOGY.replies_exchange)
    assert matches(write, TOPOLOGY.reply_queue(TOKEN, CLIENT))
    assert not matches(read, TOPOLOGY.reply_queue(TOKEN, CLIENT))
    assert matches(read, TOPOLOGY.reply_queue(TOKEN, PROVIDER)) and not matches(read, "#")
    write, _ = topic(of(CLIENT), TOPOLOGY.replies_exchange)
    assert write == NOTHING  # it provides nothing, so it answers nobody


def test_names_with_regex_characters_are_escaped() -> None:
    """Participant and service names contain '.', which must not match any character."""
    write, _ = topic(of(CLIENT), TOPOLOGY.requests_exchange)
    assert matches(write, f"{PROVIDER}/meta.services/v1")
    assert not matches(write, f"{PROVIDER}/metaxservices/v1")
    assert not matches(of(PROVIDER).read, TOPOLOGY.service_queue(str(ECHO_SERVICE)).replace(".", "x", 1))


def test_the_broker_certificate_names_its_hosts_for_server_use_only(tmp_path: Path) -> None:
    home = BusHome.at(tmp_path)
    CertificateAuthority.init(home)
    result = CliRunner().invoke(pki, ["issue-broker", "--home", str(tmp_path), "broker.gov.ma", "10.0.0.5"])
    assert result.exit_code == 0, result.output
    cert = x509.load_pem_x509_certificate(home.broker_cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["broker.gov.ma"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["10.0.0.5"]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert home.broker_key.stat().st_mode & 0o077 == 0
