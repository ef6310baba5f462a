"""A consumer to copy: a public procurement office checks its bidders with the CNSS.

What a consumer agency writes: a ``Client`` for its participant, the published contract, a purpose::

    python examples/procurement_consumer.py --tender AO-117/2026 001525987000088 002187354000071 3870226

Each bidder is an ICE (15 digits) or a CNSS affiliation number (7 digits). Exit 0 when the CNSS answered
for every bidder, 1 otherwise (with the fault code).
"""

from __future__ import annotations

import argparse
import os
import sys

from sdk import CallFailed, Client, configure_logging
from teleservices.cnss_attestation import ATTESTATION, Attestation, AttestationRequest, Standing

PARTICIPANT = "MA/GOV/MEF/marches-publics"
CNSS = "MA/GOV/CNSS/attestations"


def request_for(bidder: str) -> AttestationRequest:
    return AttestationRequest(ice=bidder) if len(bidder) == 15 else AttestationRequest(affiliation=bidder)


def describe(answer: Attestation) -> str:
    if answer.company is None:
        return "unknown company"
    if answer.outcome is Standing.GOOD and answer.certificate is not None:
        return (
            f"{answer.company.name}: good standing, certificate {answer.certificate.number}"
            f" valid until {answer.certificate.valid_until}"
        )
    return f"{answer.company.name}: NOT in good standing ({answer.reason})"


def main() -> int:
    parser = argparse.ArgumentParser(description="Check bidders' CNSS standing.")
    parser.add_argument("bidders", nargs="+", metavar="ICE_OR_AFFILIATION")
    parser.add_argument("--tender", default="AO-117/2026", help="the tender the bidders answered")
    parser.add_argument(
        "--home", default=os.environ.get("GOVBUS_HOME"), help="bus home (default $GOVBUS_HOME)"
    )
    parser.add_argument(
        "--broker", default=os.environ.get("GOVBUS_BROKER", "amqp://guest:guest@127.0.0.1:5672/")
    )
    parser.add_argument("--prefix", default="govbus", help="name prefix of the bus's queues")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer")
    args = parser.parse_args()
    if not args.home:
        parser.error("give --home DIR or set GOVBUS_HOME")
    configure_logging("WARNING")
    purpose = f"public procurement: bidders of tender {args.tender}"
    with Client(PARTICIPANT, home=args.home, broker=args.broker, prefix=args.prefix) as bus:
        for bidder in args.bidders:
            try:
                answer = bus.call(
                    CNSS, ATTESTATION, request_for(bidder), purpose=purpose, timeout=args.timeout
                )
            except CallFailed as failure:
                print(f"{bidder}: {failure.code}: {failure.reason}", file=sys.stderr)
                return 1
            print(f"{bidder}  {describe(answer)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
