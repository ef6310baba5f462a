"""Discovery over the bus: a provider lists its services and describes one with its XSD."""

from __future__ import annotations

import pytest

from bus.faults import FaultCode
from sdk import CallFailed
from tests.sdk.echo import CLIENT, ECHO, OUTSIDER, PROVIDER, EchoService


def test_a_provider_lists_its_services_saying_which_the_caller_may_use(bus):
    bus.start(EchoService().app)
    granted = bus.client(CLIENT).services(PROVIDER)
    outsider = bus.client(OUTSIDER).services(PROVIDER)
    assert [(s.id, s.style, s.allowed) for s in granted] == [
        (str(ECHO.service_of(PROVIDER)), "request-reply", True)
    ]
    assert [s.allowed for s in outsider] == [False]


def test_describe_returns_the_contract_xsd(bus):
    bus.start(EchoService().app)
    description = bus.client(OUTSIDER).describe(ECHO.service_of(PROVIDER))
    assert description.id == str(ECHO.service_of(PROVIDER))
    assert 'targetNamespace="urn:t:echo:1"' in description.schema_text


def test_describing_another_providers_service_is_refused(bus):
    bus.start(EchoService().app)
    with pytest.raises(CallFailed) as failure:
        bus.client(CLIENT).describe(f"{PROVIDER}/echo/v2")
    assert failure.value.code is FaultCode.UNKNOWN_SERVICE


def test_a_participant_outside_the_catalogue_cannot_discover(bus):
    bus.start(EchoService().app)
    stranger = bus.participant("MA/GOV/STRANGER/x")
    bus.catalogue = bus.catalogue.__class__(
        instance=bus.catalogue.instance,
        version=bus.catalogue.version,
        participants={p: n for p, n in bus.catalogue.participants.items() if p != stranger},
        services=bus.catalogue.services,
        grants=bus.catalogue.grants,
    )
    bus.sign_catalogue()
    with pytest.raises(CallFailed) as failure:
        bus.client(str(stranger)).services(PROVIDER)
    assert failure.value.code is FaultCode.ACCESS_DENIED
