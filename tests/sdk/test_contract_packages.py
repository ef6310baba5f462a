"""A contract's XSD is a resource of its own package, identified on the bus by its SHA-256 digest."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import replace
from importlib import resources

import lxml.etree as etree
import pytest

from bus.faults import Fault, FaultCode
from bus.registry.catalogue import Catalogue, ServiceEntry
from schemas import SchemaNotFound, schema_bytes
from sdk import CallFailed, RequestReply
from sdk.contract import check_catalogue, schema_digest
from sdk.testing import TestBus
from teleservices.cnss_attestation.contract import ATTESTATION
from teleservices.death_notice.contract import DEATH_NOTICE
from tests.sdk.echo import CLIENT, ECHO, OUTSIDER, PROVIDER, EchoService, Ping, Pong

GOVBUS = [sys.executable, "-m", "bus.cli"]
BUS_SCHEMAS = {"envelope.xsd", "fault.xsd", "meta.xsd", "audit.xsd"}


def test_a_bare_schema_name_is_a_resource_of_the_contracts_package():
    assert ECHO.schema == "tests.sdk:echo.xsd"
    assert ATTESTATION.schema == "teleservices.cnss_attestation:cnss_attestation.xsd"
    assert DEATH_NOTICE.schema == "teleservices.death_notice:death_notice.xsd"
    data = resources.files("tests.sdk").joinpath("echo.xsd").read_bytes()
    assert ECHO.xsd == data
    assert ECHO.digest == hashlib.sha256(data).hexdigest() == schema_digest(data)


def test_the_bus_ships_only_its_own_schemas():
    shipped = {p.name for p in resources.files("schemas").iterdir() if p.name.endswith(".xsd")}
    assert shipped == BUS_SCHEMAS
    assert b"urn:govbus:envelope:1" in schema_bytes("envelope.xsd")


def test_a_contract_whose_xsd_is_not_shipped_fails_when_it_is_built():
    with pytest.raises(ValueError, match=r"no_such\.xsd is not shipped in package tests\.sdk"):
        RequestReply("echo", 1, "no_such.xsd", request=Ping, response=Pong)


@pytest.mark.parametrize("name", ["/etc/passwd", "tests.sdk:../conftest.py", "C:\\x.xsd", ":echo.xsd"])
def test_a_path_is_not_a_schema_name(name):
    with pytest.raises(SchemaNotFound):
        schema_bytes(name)


def test_a_provider_whose_xsd_is_not_the_published_one_refuses_to_start(tmp_path):
    with TestBus(tmp_path / "bus") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        entry = bus.catalogue.service(ECHO.service_of(PROVIDER))
        bus.catalogue = bus.catalogue.with_service(replace(entry, digest="0" * 64))
        with pytest.raises(Fault) as refused:
            bus.start(EchoService().app)
    assert refused.value.code is FaultCode.CONTRACT_MISMATCH
    assert str(ECHO.service_of(PROVIDER)) in refused.value.reason


def test_a_caller_whose_xsd_is_not_the_published_one_sends_nothing(bus):
    service = EchoService()
    bus.start(service.app)
    client = bus.client(CLIENT)
    assert client.call(PROVIDER, ECHO, Ping(text="before")).text == "before"
    entry = bus.catalogue.service(ECHO.service_of(PROVIDER))
    bus.catalogue = bus.catalogue.with_service(replace(entry, digest="1" * 64))
    bus.sign_catalogue()
    with pytest.raises(CallFailed) as failure:  # a participant started on the new catalogue
        bus.client(CLIENT).call(PROVIDER, ECHO, Ping(text="after"))
    assert failure.value.code is FaultCode.CONTRACT_MISMATCH
    assert service.seen == ["before"]


def test_an_entry_without_a_digest_is_not_checked():
    service = ECHO.service_of(PROVIDER)
    check_catalogue([ECHO], Catalogue("MA").with_service(ServiceEntry(service, ECHO.style, ECHO.schema)))
    with pytest.raises(Fault):
        check_catalogue(
            [ECHO], Catalogue("MA").with_service(ServiceEntry(service, ECHO.style, ECHO.schema, "", "2" * 64))
        )


def test_describe_gives_the_exact_bytes_the_catalogue_digest_names(bus):
    bus.start(EchoService().app)
    description = bus.client(OUTSIDER).describe(ECHO.service_of(PROVIDER))
    assert description.schema_data() == ECHO.xsd
    assert description.schema_digest == ECHO.digest
    assert description.schema_name == "tests.sdk:echo.xsd"


def test_a_described_xsd_that_is_not_the_published_one_is_refused(bus):
    bus.start(EchoService().app)
    entry = bus.catalogue.service(ECHO.service_of(PROVIDER))
    bus.catalogue = bus.catalogue.with_service(replace(entry, digest="3" * 64))
    bus.sign_catalogue()
    with pytest.raises(CallFailed) as failure:
        bus.client(OUTSIDER).describe(ECHO.service_of(PROVIDER))
    assert failure.value.code is FaultCode.CONTRACT_MISMATCH


def test_an_untyped_call_is_checked_against_the_xsd_fetched_over_the_bus(bus):
    bus.start(EchoService().app)
    client = bus.client(CLIENT)
    service = ECHO.service_of(PROVIDER)
    good = etree.fromstring(b'<e:Ping xmlns:e="urn:t:echo:1"><e:text>raw</e:text></e:Ping>')
    assert client.call_raw(service, good).payload.findtext("{urn:t:echo:1}text") == "raw"
    bad = etree.fromstring(b'<e:Ping xmlns:e="urn:t:echo:1"><e:wrong>raw</e:wrong></e:Ping>')
    with pytest.raises(CallFailed) as failure:
        client.call_raw(service, bad)
    assert failure.value.code is FaultCode.PAYLOAD_SCHEMA_VIOLATION
    assert f"the XSD of {service}" in failure.value.reason


def test_govbus_run_says_which_contract_is_not_the_published_one(tmp_path):
    with TestBus(tmp_path / "bus") as bus:
        bus.publish(ATTESTATION, provider="MA/GOV/CNSS/attestations")
        entry = bus.catalogue.service(ATTESTATION.service_of("MA/GOV/CNSS/attestations"))
        bus.catalogue = bus.catalogue.with_service(replace(entry, digest="4" * 64))
        bus.sign_catalogue()
    done = subprocess.run(
        [
            *GOVBUS,
            "run",
            "teleservices.cnss_attestation:app",
            "--home",
            str(tmp_path / "bus"),
            "--broker",
            "memory://contract-mismatch",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "Client.ContractMismatch: this participant's XSD of MA/GOV/CNSS/attestations/cnss.attestation/v1"
        in (done.stderr)
    )
    assert "Traceback" not in done.stderr
