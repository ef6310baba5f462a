"""A consumer: the police look a vehicle up at a roadside check.

python -m narsa_vehicles.consumer --as MA/GOV/DGSN/circulation --home DIR --broker URL 12345-A-6
"""

from __future__ import annotations

import argparse
import os
import sys

from narsa_vehicles.contract import LOOKUP, VehicleQuery, VehicleRecord
from narsa_vehicles.provider import PARTICIPANT
from sdk import CallFailed, Client


def describe(identifier: str, record: VehicleRecord) -> str:
    """One line a person reads."""
    if record.vehicle is None:
        return f"{identifier}: not registered"
    v = record.vehicle
    return f"{v.plate}  {v.make} {v.model}  {v.status}  owner {v.owner.name} ({v.owner.cin})  {v.certificate}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as", dest="participant", default="MA/GOV/DGSN/circulation")
    parser.add_argument("--home", default=os.environ.get("GOVBUS_HOME"))
    parser.add_argument(
        "--broker", default=os.environ.get("GOVBUS_BROKER", "amqp://guest:guest@127.0.0.1:5672/")
    )
    parser.add_argument("--prefix", default="govbus")
    parser.add_argument("identifiers", nargs="+", metavar="PLATE_OR_VIN")
    args = parser.parse_args(argv)
    with Client(args.participant, home=args.home, broker=args.broker, prefix=args.prefix) as bus:
        for identifier in args.identifiers:
            query = VehicleQuery(plate=identifier) if "-" in identifier else VehicleQuery(vin=identifier)
            try:
                record = bus.call(PARTICIPANT, LOOKUP, query, purpose="roadside check")
            except CallFailed as failure:
                print(f"{identifier}: {failure.code}: {failure.reason}", file=sys.stderr)
                return 1
            print(describe(identifier, record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
