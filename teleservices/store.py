"""The SQLite store every pilot participant keeps its business state in, under its own directory.

A store is opened per use (``with Register.open(ctx.data_dir) as register``): one short-lived connection
per handler call is safe across handler threads and worker processes, and cheap. Writes that read first
run in ``transaction()`` (``BEGIN IMMEDIATE``), so two workers never decide on the same row at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self


class SqliteStore:
    """Base of a participant's store: subclasses name their file and their schema."""

    FILE_NAME: ClassVar[str]
    SCHEMA: ClassVar[str]

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, directory: Path) -> Self:
        """Open (creating if needed) the store in ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / cls.FILE_NAME
        db = sqlite3.connect(path, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(cls.SCHEMA)
        return cls(db, path)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction, committed unless the block raises."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
