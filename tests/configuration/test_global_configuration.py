"""The signed global configuration: published by the authority, fetched over the bus, refused when forged,
expired or rolled back (nothing installed then, the participant keeps what it has)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import lxml.etree as etree
import pytest
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bus.envelope.model import utc_now
from bus.envelope.signer import append_signature
from bus.faults import Fault, FaultCode
from bus.pki import BusHome
from bus.pki.authority import CertificateAuthority
from bus.registry.configuration import configuration_path, install, publish_configuration
from bus.registry.distribution import (
    ConfigurationServer,
    configuration_service,
    fetch_configuration,
    refresh_configuration,
)
from bus.registry.store import load_published
from sdk.testing import TestBus
from tests.sdk.echo import CLIENT, ECHO, PROVIDER

BROKER = "amqps://bus.example.ma:5671/"


@pytest.fixture
def world(broker_url: str | None, tmp_path: Path):
    """(the authority's bus, a participant's separate home holding only the trust anchor)."""
    with TestBus(tmp_path / "authority", broker=broker_url) as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT], confidential=True)
        bus.sign_catalogue()
        participant = BusHome.at(tmp_path / "client")
        participant.ca_dir.mkdir(parents=True)
        shutil.copy(bus.home.ca_cert, participant.ca_cert)  # the trust anchor, copied once at enrolment
        server = ConfigurationServer(bus.home, bus.transport, "MA")
        server.start()
        try:
            yield bus, participant
        finally:
            server.stop()
            if broker_url:
                bus.transport.delete_service(configuration_service("MA"))


def test_a_participant_fetches_the_configuration_over_the_bus_at_start(world):
    bus, participant = world
    publish_configuration(bus.home, brokers=(BROKER,))
    configuration = refresh_configuration(bus.transport, participant, "MA")
    assert configuration.version == 1 and configuration.brokers == (BROKER,)
    assert participant.crl.read_bytes() == bus.home.crl.read_bytes()
    assert load_published(participant).service(ECHO.service_of(PROVIDER)).confidential
    assert participant.participant_encryption_cert(bus.participant(CLIENT)).exists()


def test_a_newer_version_replaces_the_installed_one(world):
    bus, participant = world
    publish_configuration(bus.home)
    fetch_configuration(bus.transport, participant, "MA")
    bus.authority.revoke(bus.participant(CLIENT))
    publish_configuration(bus.home)
    assert fetch_configuration(bus.transport, participant, "MA").version == 2
    assert participant.crl.read_bytes() == bus.home.crl.read_bytes()


def test_a_rolled_back_configuration_is_refused_and_the_newer_one_kept(world):
    bus, participant = world
    publish_configuration(bus.home)
    old = configuration_path(bus.home).read_bytes()
    publish_configuration(bus.home)
    assert fetch_configuration(bus.transport, participant, "MA").version == 2
    configuration_path(bus.home).write_bytes(old)  # the authority's server now answers version 1
    with pytest.raises(Fault) as refused:
        fetch_configuration(bus.transport, participant, "MA")
    assert refused.value.code is FaultCode.CONFIGURATION_ROLLBACK
    assert b'version="2"' in configuration_path(participant).read_bytes()
    assert refresh_configuration(bus.transport, participant, "MA").version == 2  # starts with the one it has


def test_an_expired_configuration_is_refused_with_a_clear_fault(world):
    bus, participant = world
    publish_configuration(bus.home, validity=timedelta(seconds=-1))
    with pytest.raises(Fault) as refused:
        refresh_configuration(bus.transport, participant, "MA")
    assert refused.value.code is FaultCode.CONFIGURATION_EXPIRED
    assert "expired at" in refused.value.reason and "publish-config" in refused.value.reason
    assert not configuration_path(participant).exists()


def test_a_participant_whose_installed_configuration_expired_cannot_start_without_a_fresh_one(world):
    bus, participant = world
    publish_configuration(bus.home, validity=timedelta(seconds=-1))
    install(participant, configuration_path(bus.home).read_bytes(), now=utc_now() - timedelta(hours=1))
    with pytest.raises(Fault) as refused:
        refresh_configuration(bus.transport, participant, "MA")  # the authority has nothing fresher
    assert refused.value.code is FaultCode.CONFIGURATION_EXPIRED


@pytest.mark.parametrize("forgery", ["changed", "other-ca"])
def test_a_forged_configuration_is_refused(world, tmp_path, forgery):
    bus, participant = world
    publish_configuration(bus.home, brokers=(BROKER,))
    data = configuration_path(bus.home).read_bytes()
    if forgery == "changed":  # a broker endpoint of the attacker's, signature left as it was
        forged = data.replace(BROKER.encode(), b"amqp://evil.example:5672/")
    else:  # signed by another CA (its own certificate in KeyInfo), with a higher version
        rogue = BusHome.at(tmp_path / "rogue")
        CertificateAuthority.init(rogue)
        root = etree.fromstring(data)
        root.remove(root[-1])
        root.set("version", "99")
        cert = x509.load_pem_x509_certificate(rogue.ca_cert.read_bytes())
        key = xmlsec.Key.from_memory(rogue.ca_key.read_bytes(), xmlsec.constants.KeyDataFormatPem)
        forged = etree.tostring(
            append_signature(root, key, cert.public_bytes(serialization.Encoding.DER), is_rsa=False)
        )
    with pytest.raises(Fault) as refused:
        install(participant, forged)
    assert refused.value.code is FaultCode.CONFIGURATION_INVALID
    assert not configuration_path(participant).exists()


def test_an_attacker_answering_configuration_requests_installs_nothing(world, tmp_path):
    """Another participant consuming the configuration queue can only answer with what it can sign."""
    bus, participant = world
    publish_configuration(bus.home)
    fetch_configuration(bus.transport, participant, "MA")
    configuration_path(bus.home).write_bytes(
        b"<Configuration xmlns='urn:govbus:configuration:1' version='50'/>"
    )
    with pytest.raises(Fault) as refused:
        fetch_configuration(bus.transport, participant, "MA")
    assert refused.value.code is FaultCode.CONFIGURATION_INVALID
    assert b'version="1"' in configuration_path(participant).read_bytes()
