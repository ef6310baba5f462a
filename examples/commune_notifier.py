"""A notifier to copy: a commune's civil-status office notifies the pension funds of a registered death.

What a notifying agency writes: a ``Client`` that notifies, and an app on the same node whose
``on_receipt`` handler gets the receipts that arrive after the wait (a fund that was down)::

    python examples/commune_notifier.py --act 41/2026 --cin A234517 --last-name "EL AMRANI" \\
        --first-name Mohammed --died 2026-11-18
    python examples/commune_notifier.py --act 41/2026 --cin A234517 --cancel "declared in error"

The pilot's commune (``teleservices.death_notice.commune``) also keeps a civil register and the
receipts of every notice, to tell which funds have not answered.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date

from sdk import App, Client, Context, Receipt, configure_logging, open_node
from teleservices.death_notice import (
    DEATH_NOTICE,
    DEATH_NOTICE_CANCELLATION,
    Act,
    DeathNotice,
    DeathNoticeCancellation,
    Deceased,
    DeclaringAuthority,
)

PARTICIPANT = "MA/COM/RABAT/etat-civil"
REGISTRY = "Bureau d'état civil de Rabat-Hassan"
PURPOSE = "suspension of pensions after a death (civil status law 36-21)"

app = App(PARTICIPANT)


@app.on_receipt(DEATH_NOTICE)
@app.on_receipt(DEATH_NOTICE_CANCELLATION)
def receipt(receipt: Receipt, ctx: Context) -> None:
    """Every signed receipt, verified by the SDK: this run's, and late ones for earlier notices."""
    about = (receipt.header.correlation_id or "?")[:8]
    if receipt.fault is not None:
        print(
            f"receipt for {about} from {receipt.subscriber}: refused, {receipt.fault.code}: {receipt.fault.reason}"
        )
        return
    payload = receipt.payload
    details = " ".join(f"{k}={v}" for k, v in payload.model_dump(exclude_none=True).items() if k != "act")
    print(f"receipt for {about} from {receipt.subscriber}: act {getattr(payload, 'act', '?')} {details}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Notify the pension funds of a death (or cancel a notice).")
    parser.add_argument("--act", required=True, help="civil-status act number, e.g. 41/2026")
    parser.add_argument("--cin", required=True)
    parser.add_argument("--last-name")
    parser.add_argument("--first-name")
    parser.add_argument("--died", type=date.fromisoformat, help="date of death, YYYY-MM-DD")
    parser.add_argument("--place", default="Rabat", help="place of death")
    parser.add_argument("--cancel", metavar="REASON", help="withdraw the notice of --act, declared in error")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to wait for receipts")
    parser.add_argument(
        "--home", default=os.environ.get("GOVBUS_HOME"), help="bus home (default $GOVBUS_HOME)"
    )
    parser.add_argument(
        "--broker", default=os.environ.get("GOVBUS_BROKER", "amqp://guest:guest@127.0.0.1:5672/")
    )
    parser.add_argument("--prefix", default="govbus", help="name prefix of the bus's queues")
    args = parser.parse_args()
    if not args.home:
        parser.error("give --home DIR or set GOVBUS_HOME")
    act = Act(number=args.act, registry=REGISTRY)
    if args.cancel:
        contract, message = (
            DEATH_NOTICE_CANCELLATION,
            DeathNoticeCancellation(act=act, cin=args.cin, reason=args.cancel),
        )
    elif args.last_name and args.first_name and args.died:
        contract, message = (
            DEATH_NOTICE,
            DeathNotice(
                deceased=Deceased(cin=args.cin, last_name=args.last_name, first_name=args.first_name),
                date_of_death=args.died,
                place_of_death=args.place,
                act=act,
                declared_by=DeclaringAuthority(kind="commune", name="Rabat"),
            ),
        )
    else:
        parser.error("a notice needs --last-name, --first-name and --died (or give --cancel REASON)")
    configure_logging("WARNING")
    with open_node(PARTICIPANT, home=args.home, broker=args.broker, prefix=args.prefix) as node:
        running = app.start(node)
        print(f"sending {contract} about act {args.act} ...")
        result = Client(node=node).notify(contract, message, purpose=PURPOSE, timeout=args.wait)
        print(
            f"{result.notification_id[:8]}: {len(result.receipts)} of {len(result.expected)} subscribers answered"
        )
        for fund in result.missing:
            print(f"{fund}: no receipt yet (the notice waits in its queue; its receipt comes later)")
        running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
