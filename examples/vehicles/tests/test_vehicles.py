"""NARSA's teleservices on an in-memory bus (``sdk.testing``): no broker, no set-up, one second."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from narsa_vehicles import LOOKUP, PARTICIPANT, REGISTRATION_CHANGED, TRANSFER, app
from narsa_vehicles.consumer import describe
from narsa_vehicles.contract import (
    ChangeNoted,
    Owner,
    OwnershipTransfer,
    RegistrationChanged,
    Status,
    VehicleQuery,
)

from sdk import CallFailed, Context, Subscriber
from sdk.testing import TestBus

POLICE = "MA/GOV/DGSN/circulation"
CENTRE = "MA/GOV/NARSA/centre-rabat"
TAX = "MA/GOV/DGI/vignette"
BUYER = Owner(cin="BE654321", name="Omar TAZI")


class TaxOffice:
    """A subscriber to the change notices: the vehicle tax follows the owner."""

    def __init__(self) -> None:
        self.app = Subscriber(TAX)
        self.changes: list[RegistrationChanged] = []
        self.noticed = threading.Event()
        self.app.on(REGISTRATION_CHANGED)(self.changed)

    def changed(self, change: RegistrationChanged, ctx: Context) -> ChangeNoted:
        self.changes.append(change)
        self.noticed.set()
        return ChangeNoted(certificate=change.certificate)


@pytest.fixture
def bus() -> Iterator[TestBus]:
    with TestBus() as bus:
        bus.publish(LOOKUP, provider=PARTICIPANT, clients=[POLICE, CENTRE])
        bus.publish(TRANSFER, provider=PARTICIPANT, clients=[CENTRE])
        bus.publish(REGISTRATION_CHANGED, provider=PARTICIPANT, clients=[TAX])
        bus.start(app)
        yield bus


def test_the_police_look_a_vehicle_up_by_plate_or_vin(bus):
    police = bus.client(POLICE)
    by_plate = police.call(PARTICIPANT, LOOKUP, VehicleQuery(plate="12345-A-6"))
    by_vin = police.call(PARTICIPANT, LOOKUP, VehicleQuery(vin="VF1RFB00X67123456"))
    assert by_plate == by_vin
    assert by_plate.vehicle is not None and by_plate.vehicle.owner.cin == "AB123456"
    assert "Dacia Logan  in-circulation  owner Fatima Zahra BENNANI" in describe("12345-A-6", by_plate)


def test_an_unknown_vehicle_is_an_answer_not_a_fault(bus):
    record = bus.client(POLICE).call(PARTICIPANT, LOOKUP, VehicleQuery(plate="1-A-1"))
    assert not record.found and record.vehicle is None


def test_a_transfer_changes_the_owner_the_police_see(bus):
    centre = bus.client(CENTRE)
    recorded = centre.call(
        PARTICIPANT, TRANSFER, OwnershipTransfer(plate="12345-A-6", seller="AB123456", buyer=BUYER)
    )
    assert recorded.owner == BUYER and recorded.certificate.startswith("CG-")
    seen = bus.client(POLICE).call(PARTICIPANT, LOOKUP, VehicleQuery(plate="12345-A-6"))
    assert seen.vehicle is not None
    assert (seen.vehicle.owner, seen.vehicle.certificate) == (BUYER, recorded.certificate)


@pytest.mark.parametrize(
    ("plate", "seller", "code"),
    [
        ("8812-B-1", "C345678", "Vehicles.NotTransferable"),
        ("12345-A-6", "ZZ1", "Vehicles.NotTheOwner"),
        ("777-A-7", "AB123456", "Vehicles.UnknownVehicle"),
    ],
)
def test_the_register_refuses_a_transfer_it_cannot_record(bus, plate, seller, code):
    with pytest.raises(CallFailed) as refused:
        bus.client(CENTRE).call(
            PARTICIPANT, TRANSFER, OwnershipTransfer(plate=plate, seller=seller, buyer=BUYER)
        )
    assert refused.value.service_code == code


def test_only_a_registration_centre_may_transfer(bus):
    with pytest.raises(CallFailed) as denied:
        bus.client(POLICE).call(
            PARTICIPANT, TRANSFER, OwnershipTransfer(plate="12345-A-6", seller="AB123456", buyer=BUYER)
        )
    assert denied.value.code == "Client.AccessDenied"


def test_the_sample_register_knows_a_stolen_vehicle(bus):
    record = bus.client(POLICE).call(PARTICIPANT, LOOKUP, VehicleQuery(plate="8812-B-1"))
    assert record.vehicle is not None and record.vehicle.status is Status.REPORTED_STOLEN


def test_the_tax_office_hears_of_a_transfer(bus):
    tax = TaxOffice()
    bus.start(tax.app)
    recorded = bus.client(CENTRE).call(
        PARTICIPANT, TRANSFER, OwnershipTransfer(plate="12345-A-6", seller="AB123456", buyer=BUYER)
    )
    assert tax.noticed.wait(10), "no change notice within 10 s"
    [change] = tax.changes
    assert (change.plate, change.previous_owner, change.owner, change.certificate) == (
        "12345-A-6",
        "AB123456",
        BUYER,
        recorded.certificate,
    )
