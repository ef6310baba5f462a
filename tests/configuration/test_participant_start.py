"""A participant on its own machine: it made its own keys, holds only the trust anchor and its
certificate, fetches the rest at start over the bus, and calls a confidential service."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bus.faults import Fault, FaultCode
from bus.pki import BusHome
from bus.pki.keyfile import PASSPHRASE_ENV
from bus.pki.request import make_request
from bus.registry.configuration import publish_configuration
from bus.registry.distribution import ConfigurationServer
from sdk.client import Client
from sdk.compose import open_node
from sdk.testing import TestBus
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
