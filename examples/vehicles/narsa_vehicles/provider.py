"""NARSA's provider: ``govbus run narsa_vehicles:app`` serves vehicle.lookup/v1 and vehicle.transfer/v1.

Each recorded transfer owes the subscribers of vehicle.registration-changed/v1 a notice: the register
writes it to its outbox in the transfer's transaction, and a pump on its own thread publishes it (again
after a failure, with backoff) until the broker has it. Subscribers may see a notice twice and keep it
once by its certificate number.
"""

from __future__ import annotations

from collections.abc import Iterator

from narsa_vehicles.contract import (
    LOOKUP,
    REGISTRATION_CHANGED,
    TRANSFER,
    OwnershipTransfer,
    RegistrationChanged,
    TransferRecorded,
    VehicleQuery,
    VehicleRecord,
)
from narsa_vehicles.register import TransferRefused, VehicleRegister
from sdk import Context, Environment, OutboxMessage, OutboxPump, Provider, inject

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


@app.resource
def NOTICES(env: Environment) -> Iterator[OutboxPump[OutboxMessage]]:
    """Publishes the register's change notices, woken after every transfer and every 5 s."""
    client = env.client()

    def publish(message: OutboxMessage) -> object:
        change = RegistrationChanged.from_xml(message.body)
        return client.notify(REGISTRATION_CHANGED, change, timeout=0.5)  # later receipts reach the inbox

    pump = OutboxPump("vehicles.notices", env.use(REGISTER).outbox, publish, interval=5.0).start()
    yield pump
    pump.stop()


@app.implement(LOOKUP)
def lookup(query: VehicleQuery, ctx: Context, register: VehicleRegister = inject(REGISTER)) -> VehicleRecord:
    """The vehicle with this plate or VIN, or ``found`` false."""
    vehicle = register.find(plate=query.plate, vin=query.vin)
    return VehicleRecord(found=vehicle is not None, vehicle=vehicle)


@app.implement(TRANSFER)
def transfer(
    request: OwnershipTransfer,
    ctx: Context,
    register: VehicleRegister = inject(REGISTER),
    notices: OutboxPump[OutboxMessage] = inject(NOTICES),
) -> TransferRecorded:
    """Record a sale; an unknown, stolen or scrapped vehicle, or a seller who is not the owner, is refused."""
    vehicle = register.transfer(ctx.message_id, request.plate, request.seller, request.buyer)
    notices.wake()
    return TransferRecorded(plate=vehicle.plate, owner=vehicle.owner, certificate=vehicle.certificate)
