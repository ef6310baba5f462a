"""What portal accounts and agent accounts share to sign in: argon2id passwords and one-use TOTP codes.

``Passwords`` hashes and checks passwords, doing the same work whether or not the account exists (a
dummy hash stands in), so response times do not tell which logins exist; a hash made with weaker
parameters is reported for rehashing. ``use_totp_code`` accepts a code of the current, previous or next
30-second step (RFC 6238) once: the step is recorded and no code of it or an earlier step counts again.
The sign-in throttle both use is ``web.sessions.LoginThrottle``.
"""

from __future__ import annotations

import hmac
import sqlite3
import time
from datetime import UTC, datetime
from typing import Literal

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 10
MAX_PASSWORD = 200
AccountTable = Literal["users", "agents"]
"""The tables whose rows carry ``password``, ``totp_secret`` and ``totp_last_step``."""


class Passwords:
    """argon2id password hashes (``argon2-cffi``'s defaults)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy = self.hasher.hash("not a password of anyone")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def matches(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` is the one ``stored`` hashes (False without an account, same work)."""
        try:
            self.hasher.verify(stored if stored is not None else self._dummy, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return False
        return stored is not None

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The 30-second step whose code is ``code`` (this one, the one before or after), or None."""
    code = "".join(code.split())
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.fromtimestamp(now, UTC))
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


_TOTP_SQL: dict[str, tuple[str, str]] = {
    table: (
        f"SELECT totp_secret, totp_last_step FROM {table} WHERE id = ?",  # noqa: S608 (fixed table names)
        f"UPDATE {table} SET totp_last_step = ? WHERE id = ?",  # noqa: S608
    )
    for table in ("users", "agents")
}


def use_totp_code(conn: sqlite3.Connection, table: AccountTable, account_id: int, code: str) -> bool:
    """Whether ``code`` is the account's current TOTP code, not used before; it is used up (call inside
    a write transaction)."""
    select, update = _TOTP_SQL[table]
    row = conn.execute(select, (account_id,)).fetchone()
    if row is None or row[0] is None:
        return False
    step = matching_step(row[0], code, time.time())
    if step is None or step <= row[1]:
        return False
    conn.execute(update, (step, account_id))
    return True
