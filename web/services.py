"""The portal's calls for "who used my data" (the access tracker) and "tell us once" (MEF procurement).

Both go over the bus from the portal's own participant. The portal always asks about the signed-in
account's own identifier, so nobody sees another person's accesses or applications.
"""

from __future__ import annotations

from dataclasses import dataclass

from bus.audit.trustfiles import TrustFiles
from sdk import Client
from teleservices import access_tracker, procurement
from teleservices.access_tracker import (
    QUERY_ACCESSES,
    Access,
    AccessCheck,
    AccessQuery,
    check_access,
    provider_log,
)
from teleservices.procurement import (
    APPLICATIONS,
    APPLY,
    Application,
    ApplicationItem,
    ApplicationRecord,
    ApplicationsQuery,
)
from web.accounts import AccountKind, User

TIMEOUT = 10.0


def subject_of(user: User) -> str:
    """The account's data subject: ``CIN:...`` for a citizen, ``ICE:...`` for a company."""
    return f"{'ICE' if user.kind is AccountKind.COMPANY else 'CIN'}:{user.identifier}"


@dataclass(frozen=True, slots=True)
class CheckedAccess:
    """An access, and what checking it against the provider's message log found (None: not checkable here)."""

    access: Access
    check: AccessCheck | None


def accesses(client: Client, user: User) -> list[CheckedAccess]:
    """The accesses the tracker recorded about ``user``, each checked when the provider's log is readable."""
    found = client.call(
        access_tracker.PARTICIPANT, QUERY_ACCESSES, AccessQuery(subject=subject_of(user)), timeout=TIMEOUT
    ).accesses
    home = client.node.home
    trust = TrustFiles.from_home(home)
    checked = []
    for access in found:
        log = provider_log(home, access.provider)
        checked.append(CheckedAccess(access, check_access(access, log, trust) if log.is_file() else None))
    return checked


def apply(client: Client, user: User, tender: str) -> ApplicationRecord:
    """Apply for ``tender`` as the signed-in company; the MEF obtains its CNSS certificate itself."""
    return client.call(
        procurement.PARTICIPANT,
        APPLY,
        Application(tender=tender, ice=user.identifier),
        purpose="public procurement application by the company itself",
        timeout=TIMEOUT + 10,
    )


def applications(client: Client, user: User) -> list[ApplicationItem]:
    """The signed-in company's applications, with the MEF's evidence."""
    return client.call(
        procurement.PARTICIPANT, APPLICATIONS, ApplicationsQuery(ice=user.identifier), timeout=TIMEOUT
    ).applications
