"""Services the catalogue marks personal: purpose and data subject required, carried to the handler and answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bus.faults import FaultCode
from sdk import CallFailed
from sdk.contract import encode
from sdk.testing import TestBus
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, EchoService, Ping

ICE = "ICE:001525987000088"


@pytest.fixture
def personal_bus(broker_url: str | None, tmp_path) -> Iterator[TestBus]:
    with TestBus(tmp_path / "bus", broker=broker_url) as test_bus:
        test_bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT], personal=True)
        yield test_bus


@pytest.mark.parametrize(
    "declared",
    [{}, {"purpose": "public procurement"}, {"data_subject": ICE}],
    ids=["none", "no-subject", "no-purpose"],
)
def test_a_personal_service_refuses_an_undeclared_call_before_the_handler(personal_bus, declared):
    service = EchoService()
    personal_bus.start(service.app)
    with personal_bus.client(CLIENT) as client, pytest.raises(CallFailed) as failure:
        client.call(PROVIDER, ECHO, Ping(text="who"), **declared)
    assert failure.value.code is FaultCode.PERSONAL_DATA_UNDECLARED
    assert service.seen == []


def test_a_declared_call_reaches_the_handler_and_the_answer_carries_the_subject(personal_bus):
    service = EchoService()
    personal_bus.start(service.app)
    with personal_bus.client(CLIENT) as client:
        answer = client.call_raw(
            ECHO.service_of(PROVIDER),
            encode(Ping(text="hello"), ECHO.schema),
            purpose="public procurement",
            data_subject=ICE,
        )
    assert service.seen == ["hello"]
    assert answer.header.data_subject == ICE
    assert answer.header.purpose == "public procurement"


def test_an_invalid_subject_is_refused_before_sending(personal_bus):
    service = EchoService()
    personal_bus.start(service.app)
    with personal_bus.client(CLIENT) as client, pytest.raises(CallFailed) as failure:
        client.call(PROVIDER, ECHO, Ping(text="x"), purpose="p", data_subject="ICE:12")
    assert failure.value.code is FaultCode.INVALID_IDENTIFIER
    assert service.seen == []


def test_a_service_not_marked_personal_needs_neither(bus):
    service = EchoService()
    bus.start(service.app)
    with bus.client(CLIENT) as client:
        assert client.call(PROVIDER, ECHO, Ping(text="plain")).text == "plain"
