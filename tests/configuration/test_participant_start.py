"""A participant on its own machine: it made its own keys, holds only the trust anchor and its
certificate, fetches the rest at start over the bus, and calls a confidential service."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bus.envelope import Header, MessageKind
from bus.faults import Fault, FaultCode
from bus.pki import BusHome
from bus.pki.keyfile import PASSPHRASE_ENV
from bus.pki.request import make_request
from bus.registry.configuration import configuration_path, publish_configuration
from bus.registry.distribution import ConfigurationServer
from sdk.client import Client
from sdk.compose import open_node
from sdk.testing import TestBus
from tests.attacks.conftest import wait_until
from tests.helpers.envelopes import payload
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, EchoService, Ping


def test_a_participant_with_its_own_keys_fetches_the_configuration_and_calls_a_confidential_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with TestBus(tmp_path / "authority") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT], confidential=True)
        bus.start(EchoService().app)
        home = BusHome.at(tmp_path / "client")
        home.ca_dir.mkdir(parents=True)
        shutil.copy(bus.home.ca_cert, home.ca_cert)  # the trust anchor, the one file copied by hand
        client_id = bus.participant(CLIENT)
        files = make_request(home, client_id, passphrase=b"kept at MEF")
        bus.authority.issue_from_csr(client_id, files.csr.read_bytes(), force=True)
        bus.authority.issue_from_csr(client_id, files.encryption_csr.read_bytes(), encryption=True)
        shutil.copy(bus.home.participant_cert(client_id), home.participant_cert(client_id))
        monkeypatch.setenv(PASSPHRASE_ENV, "kept at MEF")

        with pytest.raises(Fault) as refused:  # nothing published yet: nothing to start with
            open_node(client_id, home=home, broker=bus.transport, fetch_configuration=True)
        assert refused.value.code is FaultCode.UNROUTABLE  # no authority serves one yet

        publish_configuration(bus.home)
        server = ConfigurationServer(bus.home, bus.transport, "MA")
        server.start()
        try:
            with Client(
                node=open_node(client_id, home=home, broker=bus.transport, fetch_configuration=True)
            ) as c:
                assert c.call(PROVIDER, ECHO, Ping(text="own machine"), purpose="test", timeout=15).text == (
                    "own machine"
                )
                c.node.close()
        finally:
            server.stop()
        secrets = (files.key.read_bytes(), files.encryption_key.read_bytes())
        assert not any(p.read_bytes() in secrets for p in bus.home.root.rglob("*.pem"))
        assert home.crl.exists() and (home.ca_dir / "catalogue.xml").exists()


def test_a_running_participant_installs_a_newer_configuration_and_stops_trusting_a_revoked_signer(
    tmp_path: Path,
):
    with TestBus(tmp_path / "authority") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        bus.sign_catalogue()
        home = BusHome.at(tmp_path / "provider")
        home.ca_dir.mkdir(parents=True)
        shutil.copy(bus.home.ca_cert, home.ca_cert)
        provider = bus.participant(PROVIDER)
        for name in ("key.pem", "cert.pem"):
            (home.participant_dir(provider)).mkdir(parents=True, exist_ok=True)
            shutil.copy(bus.home.participant_dir(provider) / name, home.participant_dir(provider) / name)
        publish_configuration(bus.home)
        server = ConfigurationServer(bus.home, bus.transport, "MA")
        server.start()
        try:
            node = open_node(
                provider,
                home=home,
                broker=bus.transport,
                fetch_configuration=True,
                configuration_interval=0.2,
            )
            try:
                client = bus.participant(CLIENT)
                signed = bus.node(CLIENT).sign(
                    Header.new(MessageKind.REQUEST, client, ECHO.service_of(PROVIDER)), payload()
                )
                assert node.verifier.verify(signed).header.client == client
                bus.authority.revoke(client)
                publish_configuration(bus.home)
                wait_until(lambda: b'version="2"' in configuration_path(home).read_bytes(), 30, "version 2")
                wait_until(lambda: _refused(node, signed), 30, "the revocation to take effect")
            finally:
                node.close()
        finally:
            server.stop()


def _refused(node, signed: bytes) -> bool:
    try:
        node.verifier.verify(signed)
    except Fault as fault:
        return fault.code is FaultCode.REVOKED_CERTIFICATE
    return False
