"""Server-side sessions and the sign-in throttle.

The cookie holds a random token; the database keeps only its SHA-256, the account (none before sign-in),
the account waiting for its second factor (``pending_user_id``, after a right password when the
account has TOTP) and the session's CSRF token. Signing in replaces the session (new token, new CSRF token), signing out
deletes it, and a session expires after ``lifetime`` seconds of its creation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from web.db import Database

PENDING_LIFETIME = 300.0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user_id: int | None
    csrf: str
    pending_user_id: int | None = None

    @property
    def key(self) -> str:
        """The session's name in the database (the SHA-256 of its token)."""
        return _digest(self.token)

    def csrf_matches(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(self.csrf.encode(), candidate.encode())


class Sessions:
    def __init__(self, db: Database, *, lifetime: float = 8 * 3600, table: str = "sessions") -> None:
        """``table``: ``sessions`` (portal accounts) or ``agent_sessions`` (the agents' workspace)."""
        if table not in ("sessions", "agent_sessions"):
            raise ValueError(f"unknown session table {table!r}")
        self.db = db
        self.lifetime = lifetime
        self.table = table

    def create(self, user_id: int | None = None, *, pending_user_id: int | None = None) -> Session:
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), time.time()
        lifetime = self.lifetime if pending_user_id is None else min(self.lifetime, PENDING_LIFETIME)
        with self.db.transaction() as conn:
            conn.execute(f"DELETE FROM {self.table} WHERE expires_at < ?", (now,))  # noqa: S608 (table checked in __init__)
            conn.execute(
                f"INSERT INTO {self.table} (token_hash, user_id, pending_user_id, csrf, created_at, expires_at) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?, ?)",
                (_digest(token), user_id, pending_user_id, csrf, now, now + lifetime),
            )
        return Session(token, user_id, csrf, pending_user_id)

    def get(self, token: str | None) -> Session | None:
        """The live session of this cookie value, or None."""
        if not token or len(token) > 100:
            return None
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT user_id, pending_user_id, csrf, expires_at FROM {self.table} WHERE token_hash = ?",  # noqa: S608
                (_digest(token),),
            ).fetchone()
        if row is None or row["expires_at"] < time.time():
            return None
        return Session(token, row["user_id"], row["csrf"], row["pending_user_id"])

    def renew(self, old: Session | None, user_id: int) -> Session:
        """Sign in: the old session ends and a new one (new token and CSRF token) belongs to ``user_id``."""
        self.end(old)
        return self.create(user_id)

    def await_second_factor(self, old: Session | None, user_id: int) -> Session:
        """Right password, TOTP to come: a new session that belongs to nobody yet, for a few minutes."""
        self.end(old)
        return self.create(pending_user_id=user_id)

    def end(self, session: Session | None) -> None:
        if session is not None:
            with self.db.transaction() as conn:
                conn.execute(f"DELETE FROM {self.table} WHERE token_hash = ?", (_digest(session.token),))  # noqa: S608


class LoginThrottle:
    """At most ``limit`` failed sign-ins per key (an identifier, a client address) within ``window`` seconds."""

    def __init__(self, db: Database, *, limit: int = 5, window: float = 900.0) -> None:
        self.db = db
        self.limit = limit
        self.window = window

    def blocked(self, *keys: str) -> bool:
        since = time.time() - self.window
        with self.db.read() as conn:
            return any(
                conn.execute(
                    "SELECT COUNT(*) FROM login_failures WHERE key = ? AND at > ?", (key, since)
                ).fetchone()[0]
                >= self.limit
                for key in keys
            )

    def failed(self, *keys: str) -> None:
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM login_failures WHERE at < ?", (now - self.window,))
            conn.executemany("INSERT INTO login_failures (key, at) VALUES (?, ?)", [(k, now) for k in keys])

    def succeeded(self, *keys: str) -> None:
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM login_failures WHERE key = ?", [(k,) for k in keys])
