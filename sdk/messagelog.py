"""The settings a ``Node`` opens its message log with, from its arguments or the environment.

| setting | Node argument | environment | default |
|---|---|---|---|
| checkpoint every T seconds (0: never) | ``checkpoint_interval`` | ``GOVBUS_CHECKPOINT_SECONDS`` | 60 |
| per-service mode | ``service_modes`` | ``GOVBUS_LOG_SERVICE_MODES`` (``SERVICE=metadata,...``) | full |
| durability | ``synchronous`` | ``GOVBUS_LOG_SYNCHRONOUS`` (``normal`` or ``full``) | normal |

The log lives where the node's storage URL says (``sdk.storage``): ``messages.sqlite`` in the participant's
directory, or the participant's ``messages`` schema in PostgreSQL, which every host running the participant
appends to as one hash chain.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from bus.audit import MessageLog
from bus.audit.checkpoint import Checkpoint
from bus.audit.connection import PostgresLocation
from bus.pki import SigningIdentity
from sdk.storage import Storage, schema_name

CHECKPOINT_ENV = "GOVBUS_CHECKPOINT_SECONDS"
SERVICE_MODES_ENV = "GOVBUS_LOG_SERVICE_MODES"
SYNCHRONOUS_ENV = "GOVBUS_LOG_SYNCHRONOUS"
DEFAULT_CHECKPOINT_SECONDS = 60.0
LOG_FILE = "messages.sqlite"


@dataclass(frozen=True)
class LogSettings:
    """How a node's message log checkpoints, what it stores per service, and how durably."""

    checkpoint_interval: float | None = DEFAULT_CHECKPOINT_SECONDS
    service_modes: Mapping[str, str] = field(default_factory=dict)
    synchronous: Literal["normal", "full"] = "normal"

    @classmethod
    def resolve(
        cls,
        *,
        checkpoint_interval: float | None = None,
        service_modes: Mapping[str, str] | None = None,
        synchronous: str | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> LogSettings:
        """Arguments first, then the environment, then the defaults; raise ValueError on a bad value."""
        if checkpoint_interval is None:
            text = environ.get(CHECKPOINT_ENV, "").strip()
            checkpoint_interval = float(text) if text else DEFAULT_CHECKPOINT_SECONDS
        if service_modes is None:
            service_modes = parse_service_modes(environ.get(SERVICE_MODES_ENV, ""))
        for service, mode in service_modes.items():
            if mode not in ("full", "metadata"):
                raise ValueError(f"log mode of {service} must be full or metadata, not {mode!r}")
        sync = (synchronous or environ.get(SYNCHRONOUS_ENV, "") or "normal").strip().lower()
        if sync not in ("normal", "full"):
            raise ValueError(f"synchronous must be normal or full, not {sync!r}")
        return cls(
            checkpoint_interval=checkpoint_interval if checkpoint_interval > 0 else None,
            service_modes=dict(service_modes),
            synchronous=cast(Literal["normal", "full"], sync),
        )


def parse_service_modes(text: str) -> dict[str, str]:
    """``"MA/GOV/CNSS/attestations/cnss.attestation/v1=metadata, ..."`` as a dict."""
    modes: dict[str, str] = {}
    for item in text.replace(";", ",").split(","):
        if item.strip():
            service, sep, mode = item.partition("=")
            if not sep:
                raise ValueError(f"{SERVICE_MODES_ENV}: expected SERVICE=MODE, got {item.strip()!r}")
            modes[service.strip()] = mode.strip().lower()
    return modes


def open_message_log(
    data_dir: Path,
    identity: SigningIdentity,
    settings: LogSettings,
    *,
    on_checkpoint: Callable[[Checkpoint], None] | None = None,
    storage: Storage | None = None,
) -> MessageLog:
    """The participant's message log, in its directory or where ``storage`` says; ``on_checkpoint`` gets
    every checkpoint it signs."""
    where: Path | PostgresLocation = data_dir / LOG_FILE
    if storage is not None and storage.dialect == "postgresql":
        where = PostgresLocation(storage.url, schema_name(storage.participant, LOG_FILE))
    return MessageLog.open(
        where,
        identity=identity,
        checkpoint_interval=settings.checkpoint_interval,
        service_modes=settings.service_modes,
        synchronous=settings.synchronous,
        on_checkpoint=on_checkpoint,
    )
