"""Where a participant keeps its stores: SQLite files in its directory, or PostgreSQL schemas.

The storage URL is a node's ``storage`` argument, ``govbus run --storage``, or ``GOVBUS_STORAGE``:

| URL | stores |
|---|---|
| ``sqlite:`` (the default) | one SQLite file per store in the participant's directory |
| ``postgresql://USER@HOST:PORT/DB`` | one schema per store in that database, named from the participant id |

Schema names are ``<participant>_<hash>__<store>``: the participant id in lower case with every other
character as ``_``, six hex digits of the exact id's SHA-256 (so ids that differ only in case or
punctuation never share a schema), then the store's file name without its extension. Two hosts running
the same participant on the same URL share its schemas.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bus.sql import participant_prefix, schema_name
from sdk.postgres import PostgresDatabase
from sdk.store import Database, SqliteDatabase

STORAGE_ENV = "GOVBUS_STORAGE"
DEFAULT_STORAGE = "sqlite:"
_SCHEMES = ("sqlite", "postgresql", "postgres")


class StorageError(ValueError):
    """A storage URL govbus cannot use."""


def resolve_storage_url(url: str | None = None, environ: Mapping[str, str] = os.environ) -> str:
    """The argument, else ``GOVBUS_STORAGE``, else ``sqlite:``; ``StorageError`` on an unknown scheme."""
    text = (url or environ.get(STORAGE_ENV, "") or DEFAULT_STORAGE).strip()
    scheme = text.split(":", 1)[0].lower()
    if ":" not in text or scheme not in _SCHEMES:
        raise StorageError(f"storage URL {text!r}: expected sqlite: or postgresql://USER@HOST:PORT/DATABASE")
    if scheme == "sqlite" and text.rstrip("/").lower() != "sqlite:":
        raise StorageError(
            f"storage URL {text!r}: sqlite: takes no path (stores live in the participant directory)"
        )
    return text


@dataclass(frozen=True, slots=True)
class Storage:
    """A participant's storage: its directory, and the URL that says where its stores live."""

    data_dir: Path
    participant: str
    url: str = DEFAULT_STORAGE

    @property
    def dialect(self) -> str:
        return "sqlite" if self.url.lower().startswith("sqlite") else "postgresql"

    def database(
        self,
        file_name: str,
        *,
        schema: str = "",
        postgres_schema: str | None = None,
        configure: Callable[[sqlite3.Connection], None] | None = None,
    ) -> Database:
        """The database of one store: ``data_dir/file_name`` under SQLite, its own schema under PostgreSQL.

        ``configure`` applies to SQLite connections only.
        """
        if self.dialect == "sqlite":
            return SqliteDatabase(self.data_dir / file_name, schema=schema, configure=configure)
        return PostgresDatabase(
            self.url, schema_name(self.participant, file_name), schema=schema, postgres_schema=postgres_schema
        )


__all__ = [
    "DEFAULT_STORAGE",
    "STORAGE_ENV",
    "Storage",
    "StorageError",
    "participant_prefix",
    "resolve_storage_url",
    "schema_name",
]
