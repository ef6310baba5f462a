"""NARSA's provider: ``govbus run narsa_vehicles:app`` serves vehicle.lookup/v1 and vehicle.transfer/v1."""

from __future__ import annotations

from narsa_vehicles.contract import (
    LOOKUP,
    TRANSFER,
    OwnershipTransfer,
    TransferRecorded,
    VehicleQuery,
    VehicleRecord,
)
from narsa_vehicles.register import TransferRefused, VehicleRegister
from sdk import Context, Node, Provider, ServiceError

PARTICIPANT = "MA/GOV/NARSA/vehicles"

app = Provider(PARTICIPANT)


@app.on_start
def seed(node: Node) -> None:
    """Create the register on first start, with the sample vehicles."""
    with VehicleRegister.open(node.data_dir) as register:
        register.seed()


@app.implement(LOOKUP)
def lookup(query: VehicleQuery, ctx: Context) -> VehicleRecord:
    """The vehicle with this plate or VIN, or ``found`` false."""
    with VehicleRegister.open(ctx.data_dir) as register:
        vehicle = register.find(plate=query.plate, vin=query.vin)
    return VehicleRecord(found=vehicle is not None, vehicle=vehicle)


@app.implement(TRANSFER)
def transfer(request: OwnershipTransfer, ctx: Context) -> TransferRecorded:
    """Record a sale; refuse an unknown, stolen or scrapped vehicle, or a seller who is not the owner."""
    try:
        with VehicleRegister.open(ctx.data_dir) as register:
            vehicle = register.transfer(ctx.message_id, request.plate, request.seller, request.buyer)
    except TransferRefused as refused:
        raise ServiceError(refused.reason, code=refused.code) from None
    return TransferRecorded(plate=vehicle.plate, owner=vehicle.owner, certificate=vehicle.certificate)
