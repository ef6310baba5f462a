"""The access tracker: who accessed a data subject's personal data, reported by providers over the bus.

Run it with ``govbus run teleservices.access_tracker:app``; providers declare ``access_reporting(app)``
and call ``reporter.report(ctx)`` in handlers of services the catalogue marks personal.
"""

from teleservices.access_tracker.contract import (
    QUERY_ACCESSES,
    REPORT_ACCESS,
    Access,
    Accesses,
    AccessQuery,
    AccessReport,
    Recorded,
)
from teleservices.access_tracker.reporting import AccessReporter, access_reporting
from teleservices.access_tracker.tracker import PARTICIPANT, app
from teleservices.access_tracker.verify import AccessCheck, check_access, provider_log

__all__ = [
    "PARTICIPANT",
    "QUERY_ACCESSES",
    "REPORT_ACCESS",
    "Access",
    "AccessCheck",
    "AccessQuery",
    "AccessReport",
    "AccessReporter",
    "Accesses",
    "Recorded",
    "access_reporting",
    "app",
    "check_access",
    "provider_log",
]
