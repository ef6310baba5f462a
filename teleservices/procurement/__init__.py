"""Tell us once: public procurement applications at the MEF, with the CNSS certificate obtained over the bus."""

from teleservices.procurement.contract import (
    APPLICATIONS,
    APPLY,
    UNAVAILABLE,
    Application,
    ApplicationItem,
    ApplicationRecord,
    Applications,
    ApplicationsQuery,
)
from teleservices.procurement.service import PARTICIPANT, ApplicationStore, app, obtain_certificate

__all__ = [
    "APPLICATIONS",
    "APPLY",
    "PARTICIPANT",
    "UNAVAILABLE",
    "Application",
    "ApplicationItem",
    "ApplicationRecord",
    "ApplicationStore",
    "Applications",
    "ApplicationsQuery",
    "app",
    "obtain_certificate",
]
