"""What the auditor and bus authority consoles reach: the bus home, the broker, the workers' endpoints.

``BusAccess`` is given to the ``Workspace`` (``Workspace.bus``); without it both consoles say they are
not connected. The home holds the CA (issue, revoke, CRL), the catalogue (draft and signed) and every
participant's message log (``participants/<ID>/messages.sqlite``); the broker is reached through the
transport (``bus.transport.connect``) for the dead-letter queues; ``workers`` names each worker's
metrics address (``http://host:port``, where ``govbus run --metrics-port`` serves ``/metrics`` and
``/healthz``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bus.pki.home import BusHome
from web.workspace.audit.jobs import Verifications


@dataclass
class BusAccess:
    home: BusHome
    broker: str | None = None
    """Broker URL (``amqp://...`` or ``memory://...``); None: no dead-letter page."""
    prefix: str = "govbus"
    workers: dict[str, str] = field(default_factory=dict)
    """Worker name -> base URL of its metrics endpoint (``http://127.0.0.1:9400``)."""
    anchors: Path | None = None
    """The audit participant's ``anchors.sqlite``, read for the anchors' status (None: not shown)."""
    verifications: Verifications = field(default_factory=Verifications)
    """The background log verifications (one per log at a time, a few at once)."""
