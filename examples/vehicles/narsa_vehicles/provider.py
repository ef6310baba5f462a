"""NARSA's provider: ``govbus run narsa_vehicles:app`` serves vehicle.lookup/v1 and vehicle.transfer/v1."""

from __future__ import annotations

from collections.abc import Iterator

from narsa_vehicles.contract import (
    LOOKUP,
    TRANSFER,
    OwnershipTransfer,
    TransferRecorded,
    VehicleQuery,
    VehicleRecord,
)
from narsa_vehicles.register import TransferRefused, VehicleRegister
from sdk import Context, Environment, Provider, inject

PARTICIPANT = "MA/GOV/NARSA/vehicles"

app = Provider(PARTICIPANT)
app.refuse(TransferRefused)  # the caller reads its code as CallFailed.service_code


@app.resource
def REGISTER(env: Environment) -> Iterator[VehicleRegister]:
    """The register on each node the app starts on, seeded with the sample vehicles on first start."""
    register = VehicleRegister.open(env.data_dir)
    register.seed()
    yield register
    register.close()


@app.implement(LOOKUP)
def lookup(query: VehicleQuery, ctx: Context, register: VehicleRegister = inject(REGISTER)) -> VehicleRecord:
    """The vehicle with this plate or VIN, or ``found`` false."""
    vehicle = register.find(plate=query.plate, vin=query.vin)
    return VehicleRecord(found=vehicle is not None, vehicle=vehicle)


@app.implement(TRANSFER)
def transfer(
    request: OwnershipTransfer, ctx: Context, register: VehicleRegister = inject(REGISTER)
) -> TransferRecorded:
    """Record a sale; an unknown, stolen or scrapped vehicle, or a seller who is not the owner, is refused."""
    vehicle = register.transfer(ctx.message_id, request.plate, request.seller, request.buyer)
    return TransferRecorded(plate=vehicle.plate, owner=vehicle.owner, certificate=vehicle.certificate)
