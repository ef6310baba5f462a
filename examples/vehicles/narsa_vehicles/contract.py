"""NARSA's vehicle registration contract: the payload models and, beside them, ``vehicle_registration.xsd``.

Both ends import these models: NARSA to serve, the police, insurers and customs to call. The XSD is package
data of this package, so the contract finds it wherever the package is installed.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sdk import Notification, Payload, RequestReply, element

NAMESPACE = "urn:ma:narsa:vehicles:1"
NSMAP = {"v": NAMESPACE}


class Status(StrEnum):
    IN_CIRCULATION = "in-circulation"
    REPORTED_STOLEN = "reported-stolen"
    SCRAPPED = "scrapped"


class Owner(Payload, tag="owner", ns="v", nsmap=NSMAP):
    cin: str = element()
    name: str = element()


class VehicleQuery(Payload, tag="VehicleQuery", ns="v", nsmap=NSMAP, skip_empty=True):
    """Which vehicle: exactly one of its plate (``12345-A-6``) or its VIN."""

    plate: str | None = element(default=None)
    vin: str | None = element(default=None)

    def model_post_init(self, context: object) -> None:
        if (self.plate is None) == (self.vin is None):
            raise ValueError("give exactly one of plate or vin")


class Vehicle(Payload, tag="vehicle", ns="v", nsmap=NSMAP):
    plate: str = element()
    vin: str = element()
    make: str = element()
    model: str = element()
    first_registration: date = element(tag="firstRegistration")
    status: Status = element()
    owner: Owner
    certificate: str = element()


class VehicleRecord(Payload, tag="VehicleRecord", ns="v", nsmap=NSMAP, skip_empty=True):
    """The register's answer: an unknown vehicle is an answer (``found`` false), not a fault."""

    found: bool = element()
    vehicle: Vehicle | None = None


class OwnershipTransfer(Payload, tag="OwnershipTransfer", ns="v", nsmap=NSMAP):
    """A registration centre records a sale: the seller must be the registered owner."""

    plate: str = element()
    seller: str = element()
    buyer: Owner = element(tag="buyer")


class TransferRecorded(Payload, tag="TransferRecorded", ns="v", nsmap=NSMAP):
    """The new registration: the buyer and the new registration certificate (carte grise) number."""

    plate: str = element()
    owner: Owner
    certificate: str = element()


class RegistrationChanged(Payload, tag="RegistrationChanged", ns="v", nsmap=NSMAP):
    """NARSA tells its subscribers (tax, insurers) that a vehicle changed hands."""

    plate: str = element()
    vin: str = element()
    previous_owner: str = element(tag="previousOwner")
    owner: Owner
    certificate: str = element()


class ChangeNoted(Payload, tag="ChangeNoted", ns="v", nsmap=NSMAP):
    """A subscriber's signed receipt for one change."""

    certificate: str = element()


LOOKUP: RequestReply[VehicleQuery, VehicleRecord] = RequestReply(
    "vehicle.lookup", 1, "vehicle_registration.xsd", request=VehicleQuery, response=VehicleRecord
)
TRANSFER: RequestReply[OwnershipTransfer, TransferRecorded] = RequestReply(
    "vehicle.transfer", 1, "vehicle_registration.xsd", request=OwnershipTransfer, response=TransferRecorded
)
REGISTRATION_CHANGED: Notification[RegistrationChanged, ChangeNoted] = Notification(
    "vehicle.registration-changed",
    1,
    "vehicle_registration.xsd",
    notification=RegistrationChanged,
    receipt=ChangeNoted,
)
