"""NARSA's vehicle register: a store (``sdk.Store``) in the participant's own directory.

Every read runs in a snapshot and every change in one write transaction (``BEGIN IMMEDIATE`` on SQLite),
so handler threads and worker processes can share the file. A transfer is recorded once per message id:
the bus answers a retried request from its idempotency store, and a request handled again after a crash
finds its transfer already recorded. The change notice a transfer owes the subscribers is written to the
outbox in the same transaction (``sdk.Outbox``), so it is sent even if the process stops right after.
"""

from __future__ import annotations

from datetime import date

from narsa_vehicles.contract import Owner, RegistrationChanged, Status, Vehicle
from sdk import Outbox, Store
from sdk.outbox import OUTBOX_SCHEMA
from sdk.store import Connection

TABLES = """
CREATE TABLE IF NOT EXISTS vehicles (
    plate TEXT PRIMARY KEY,
    vin TEXT NOT NULL UNIQUE,
    make TEXT NOT NULL,
    model TEXT NOT NULL,
    first_registration TEXT NOT NULL,
    status TEXT NOT NULL,
    owner_cin TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    certificate TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transfers (
    message_id TEXT PRIMARY KEY,
    plate TEXT NOT NULL REFERENCES vehicles(plate),
    seller_cin TEXT NOT NULL,
    buyer_cin TEXT NOT NULL,
    certificate TEXT NOT NULL
);
"""

SAMPLE = [
    Vehicle(
        plate="12345-A-6",
        vin="VF1RFB00X67123456",
        make="Dacia",
        model="Logan",
        first_registration=date(2019, 3, 14),
        status=Status.IN_CIRCULATION,
        owner=Owner(cin="AB123456", name="Fatima Zahra BENNANI"),
        certificate="CG-2019-004211",
    ),
    Vehicle(
        plate="8812-B-1",
        vin="WVWZZZ1KZ8W123987",
        make="Volkswagen",
        model="Golf",
        first_registration=date(2008, 7, 2),
        status=Status.REPORTED_STOLEN,
        owner=Owner(cin="C345678", name="Youssef EL IDRISSI"),
        certificate="CG-2008-017702",
    ),
    Vehicle(
        plate="40211-D-33",
        vin="JTDBR32E630012345",
        make="Toyota",
        model="Corolla",
        first_registration=date(2003, 1, 20),
        status=Status.SCRAPPED,
        owner=Owner(cin="J98765", name="Karim OUAZZANI"),
        certificate="CG-2003-000871",
    ),
]


SUBSCRIBERS = "subscribers"
"""The outbox recipient of change notices: every participant the catalogue grants the notification."""


class TransferRefused(Exception):
    """The register cannot record this transfer; ``code`` says why (the caller's ``service_code``)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class VehicleRegister(Store):
    """The vehicles and the transfers recorded on them."""

    FILE_NAME = "vehicles.sqlite"
    SCHEMA = TABLES + OUTBOX_SCHEMA

    @property
    def outbox(self) -> Outbox:
        """The change notices not yet delivered to the subscribers."""
        return Outbox(self.database)

    def seed(self, vehicles: list[Vehicle] = SAMPLE) -> None:
        """Add the sample vehicles that are not there yet."""
        with self.transaction() as db:
            for vehicle in vehicles:
                db.execute(
                    "INSERT OR IGNORE INTO vehicles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        vehicle.plate,
                        vehicle.vin,
                        vehicle.make,
                        vehicle.model,
                        vehicle.first_registration.isoformat(),
                        vehicle.status.value,
                        vehicle.owner.cin,
                        vehicle.owner.name,
                        vehicle.certificate,
                    ),
                )

    def find(self, *, plate: str | None = None, vin: str | None = None) -> Vehicle | None:
        """The vehicle with this plate (or VIN), or None."""
        with self.reading() as db:
            return _find(db, plate=plate, vin=vin)

    def transfer(self, message_id: str, plate: str, seller: str, buyer: Owner) -> Vehicle:
        """Record the sale of ``plate`` by ``seller`` to ``buyer`` (once per message id)."""
        with self.transaction() as db:
            vehicle = _find(db, plate=plate)
            if vehicle is None:
                raise TransferRefused("Vehicles.UnknownVehicle", f"no vehicle has the plate {plate}")
            if db.execute("SELECT 1 FROM transfers WHERE message_id = ?", (message_id,)).fetchone():
                return vehicle
            if vehicle.status is not Status.IN_CIRCULATION:
                raise TransferRefused("Vehicles.NotTransferable", f"{plate} is {vehicle.status}")
            if vehicle.owner.cin != seller:
                raise TransferRefused(
                    "Vehicles.NotTheOwner", f"{seller} is not the registered owner of {plate}"
                )
            (count,) = db.execute("SELECT count(*) FROM transfers").fetchone()
            certificate = f"CG-{date.today().year}-{100000 + count + 1}"
            db.execute(
                "UPDATE vehicles SET owner_cin = ?, owner_name = ?, certificate = ? WHERE plate = ?",
                (buyer.cin, buyer.name, certificate, plate),
            )
            db.execute(
                "INSERT INTO transfers VALUES (?, ?, ?, ?, ?)",
                (message_id, plate, seller, buyer.cin, certificate),
            )
            change = RegistrationChanged(
                plate=plate, vin=vehicle.vin, previous_owner=seller, owner=buyer, certificate=certificate
            )
            body = change.to_xml()
            Outbox.enqueue(
                db,
                message_id=certificate,
                recipient=SUBSCRIBERS,
                kind="registration-changed",
                body=body if isinstance(body, bytes) else body.encode(),
            )
        return vehicle.model_copy(update={"owner": buyer, "certificate": certificate})


def _find(db: Connection, *, plate: str | None = None, vin: str | None = None) -> Vehicle | None:
    column, value = ("plate", plate) if plate is not None else ("vin", vin)
    row = db.execute(f"SELECT * FROM vehicles WHERE {column} = ?", (value,)).fetchone()  # noqa: S608
    if row is None:
        return None
    plate_, vin_, make, model, first, status, cin, name, certificate = row
    return Vehicle(
        plate=plate_,
        vin=vin_,
        make=make,
        model=model,
        first_registration=date.fromisoformat(first),
        status=Status(status),
        owner=Owner(cin=cin, name=name),
        certificate=certificate,
    )
