"""The fault tests' teleservice, run in its own process: ``govbus run tests.faults.service:provider``.

``provider`` (and ``backup``) serve the request/reply WORK; ``subscriber`` (and ``archive``) receive the
EVENT notifications. Every handler run is counted in the participant's ``effects.sqlite``: one row per
message id (the effect itself is idempotent by id, as a real teleservice's must be), with ``started``
and ``runs`` counting how often the handler was entered and finished for that id. A handler waits
``delayMs``; one whose text starts with ``hold-`` waits until a ``release-TEXT`` file appears in the
participant's directory (see ``release``), so a test can act while it is mid-run.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from sdk import Context, Notification, Payload, Provider, RequestReply, Subscriber, element

SCHEMA = "service.xsd"  # a resource of this package
NS = "urn:t:faults:1"
PROVIDER = "MA/GOV/FAULTS/provider"
BACKUP = "MA/GOV/FAULTS/backup"
SUBSCRIBER = "MA/GOV/FAULTS/subscriber"
ARCHIVE = "MA/GOV/FAULTS/archive"
CLIENT = "MA/GOV/FAULTS/client"
NOTIFIER = "MA/COM/FAULTS/notifier"
OUTSIDER = "MA/GOV/FAULTS/outsider"
EFFECTS = "effects.sqlite"
HOLD = "hold-"
HOLD_SECONDS = 120.0


class Work(Payload, tag="Work", ns="f", nsmap={"f": NS}):
    text: str = element()
    delay_ms: int | None = element(tag="delayMs", default=None, ge=0)


class Done(Payload, tag="Done", ns="f", nsmap={"f": NS}):
    text: str = element()
    by: str = element()
    pid: int = element()


class Event(Payload, tag="Event", ns="f", nsmap={"f": NS}):
    text: str = element()
    delay_ms: int | None = element(tag="delayMs", default=None, ge=0)


class Noted(Payload, tag="Noted", ns="f", nsmap={"f": NS}):
    text: str = element()
    by: str = element()
    pid: int = element()


WORK = RequestReply("faults.work", 1, SCHEMA, request=Work, response=Done)
EVENT = Notification("faults.event", 1, SCHEMA, notification=Event, receipt=Noted)


@dataclass(frozen=True, slots=True)
class Effect:
    """What a participant's handlers did for one message id."""

    message_id: str
    kind: str
    text: str
    started: int
    runs: int


class Effects:
    """A participant's ``effects.sqlite``, shared by its handler threads."""

    _open: ClassVar[dict[Path, Effects]] = {}
    _open_lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS effects (id TEXT PRIMARY KEY, kind TEXT NOT NULL, text TEXT NOT NULL,"
            " started INTEGER NOT NULL, runs INTEGER NOT NULL, pid INTEGER NOT NULL)"
        )
        self._lock = threading.Lock()

    @classmethod
    def of(cls, directory: Path) -> Effects:
        with cls._open_lock:
            if directory not in cls._open:
                cls._open[directory] = cls(directory / EFFECTS)
            return cls._open[directory]

    def enter(self, message_id: str, kind: str, text: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO effects VALUES (?, ?, ?, 1, 0, ?)"
                " ON CONFLICT(id) DO UPDATE SET started = started + 1, pid = excluded.pid",
                (message_id, kind, text, os.getpid()),
            )

    def leave(self, message_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE effects SET runs = runs + 1 WHERE id = ?", (message_id,))


def read_effects(data_dir: Path) -> dict[str, Effect]:
    """The effects a participant's handlers recorded, by message id (empty before the first)."""
    path = data_dir / EFFECTS
    if not path.exists():
        return {}
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute("SELECT id, kind, text, started, runs FROM effects").fetchall()
    except sqlite3.OperationalError:  # the worker has not created the table yet
        return {}
    finally:
        db.close()
    return {row[0]: Effect(*row) for row in rows}


def release(data_dir: Path, text: str) -> None:
    """Let the held handlers of ``text`` (started or to come) finish."""
    (data_dir / f"release-{text}").touch()


def _take_effect(ctx: Context, kind: str, text: str, delay_ms: int | None) -> None:
    effects = Effects.of(ctx.data_dir)
    effects.enter(ctx.message_id, kind, text)
    if delay_ms:
        time.sleep(delay_ms / 1000)
    if text.startswith(HOLD):
        deadline = time.monotonic() + HOLD_SECONDS
        while not (ctx.data_dir / f"release-{text}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    effects.leave(ctx.message_id)


def work(request: Work, ctx: Context) -> Done:
    _take_effect(ctx, "request", request.text, request.delay_ms)
    return Done(text=request.text, by=str(ctx.participant), pid=os.getpid())


def event(notice: Event, ctx: Context) -> Noted:
    _take_effect(ctx, "notification", notice.text, notice.delay_ms)
    return Noted(text=notice.text, by=str(ctx.participant), pid=os.getpid())


provider = Provider(PROVIDER)
provider.implement(WORK)(work)
backup = Provider(BACKUP)
backup.implement(WORK)(work)
subscriber = Subscriber(SUBSCRIBER)
subscriber.on(EVENT)(event)
archive = Subscriber(ARCHIVE)
archive.on(EVENT)(event)
