"""NARSA's vehicle register: a SQLite file in the participant's own directory.

Opened per handler call (one short connection is safe across handler threads and worker processes).
A transfer reads and writes in one ``BEGIN IMMEDIATE`` transaction, and is recorded once per message id:
the bus answers a retried request from its idempotency store, and a request handled again after a crash
finds its transfer already recorded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from narsa_vehicles.contract import Owner, Status, Vehicle

FILE_NAME = "vehicles.sqlite"

SCHEMA = """
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


class TransferRefused(Exception):
    """The register cannot record this transfer; ``code`` says why."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class VehicleRegister:
    """The vehicles and the transfers recorded on them."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    @classmethod
    @contextmanager
    def open(cls, directory: Path) -> Iterator[VehicleRegister]:
        directory.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(directory / FILE_NAME, isolation_level=None, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            yield cls(db)
        finally:
            db.close()

    def seed(self, vehicles: list[Vehicle] = SAMPLE) -> None:
        """Add the sample vehicles that are not there yet."""
        with self._transaction():
            for vehicle in vehicles:
                self.db.execute(
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
        column, value = ("plate", plate) if plate is not None else ("vin", vin)
        row = self.db.execute(f"SELECT * FROM vehicles WHERE {column} = ?", (value,)).fetchone()  # noqa: S608
        return None if row is None else _vehicle(row)

    def transfer(self, message_id: str, plate: str, seller: str, buyer: Owner) -> Vehicle:
        """Record the sale of ``plate`` by ``seller`` to ``buyer`` (once per message id)."""
        with self._transaction():
            done = self.db.execute("SELECT 1 FROM transfers WHERE message_id = ?", (message_id,)).fetchone()
            vehicle = self.find(plate=plate)
            if vehicle is None:
                raise TransferRefused("Vehicles.UnknownVehicle", f"no vehicle has the plate {plate}")
            if done:
                return vehicle
            if vehicle.status is not Status.IN_CIRCULATION:
                raise TransferRefused("Vehicles.NotTransferable", f"{plate} is {vehicle.status}")
            if vehicle.owner.cin != seller:
                raise TransferRefused(
                    "Vehicles.NotTheOwner", f"{seller} is not the registered owner of {plate}"
                )
            (count,) = self.db.execute("SELECT count(*) FROM transfers").fetchone()
            certificate = f"CG-{date.today().year}-{100000 + count + 1}"
            self.db.execute(
                "UPDATE vehicles SET owner_cin = ?, owner_name = ?, certificate = ? WHERE plate = ?",
                (buyer.cin, buyer.name, certificate, plate),
            )
            self.db.execute(
                "INSERT INTO transfers VALUES (?, ?, ?, ?, ?)",
                (message_id, plate, seller, buyer.cin, certificate),
            )
        return vehicle.model_copy(update={"owner": buyer, "certificate": certificate})

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")


def _vehicle(row: tuple[str, ...]) -> Vehicle:
    plate, vin, make, model, first, status, cin, name, certificate = row
    return Vehicle(
        plate=plate,
        vin=vin,
        make=make,
        model=model,
        first_registration=date.fromisoformat(first),
        status=Status(status),
        owner=Owner(cin=cin, name=name),
        certificate=certificate,
    )
