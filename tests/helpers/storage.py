"""Storages for store tests: a fresh SQLite directory, or fresh schemas in the test PostgreSQL database.

Each PostgreSQL test gets a participant id of its own, so its schemas (``participant_prefix``) are its
own, and they are dropped after the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sdk.postgres import drop_schemas
from sdk.storage import Storage, participant_prefix

POSTGRES_URL = os.environ.get(
    "GOVBUS_TEST_POSTGRES", "postgresql://govbus_test:govbus_test@127.0.0.1:5432/govbus_test"
)
DIALECTS = ("sqlite", "postgresql")


def test_participant() -> str:
    return f"TEST/GOV/T{uuid.uuid4().hex[:12]}"


test_participant.__test__ = False  # type: ignore[attr-defined]


@contextmanager
def fresh_storage(dialect: str, directory: Path, participant: str | None = None) -> Iterator[Storage]:
    """A storage nobody else uses; its PostgreSQL schemas are dropped when the block ends."""
    participant = participant or test_participant()
    if dialect == "sqlite":
        yield Storage(directory, participant)
        return
    try:
        yield Storage(directory, participant, POSTGRES_URL)
    finally:
        drop_schemas(POSTGRES_URL, participant_prefix(participant))
