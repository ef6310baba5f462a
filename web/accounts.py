"""Citizen and company accounts: registration and password sign-in, passwords hashed with argon2.

A citizen is known by their CIN, a company by its ICE; a company's account is its legal
representative's (whose name it records). Identifiers are unique: one account per CIN or ICE.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher

from web.credentials import MAX_PASSWORD, MIN_PASSWORD, Passwords, matching_step, use_totp_code
from web.db import Database

CIN = re.compile(r"[A-Z]{1,2}[0-9]{1,7}")
"""Carte nationale d'identité électronique: one or two capital letters, then digits."""
ICE = re.compile(r"[0-9]{15}")
"""Identifiant commun de l'entreprise: fifteen digits."""
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")
MAX_NAME = 200
TOTP_ISSUER = "govbus portal"


class AccountKind(StrEnum):
    CITIZEN = "citizen"
    COMPANY = "company"


class FormError(ValueError):
    """Bad input in a form: ``message`` is an English msgid the page translates, ``field`` the input."""

    def __init__(self, message: str, field: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.values = values


@dataclass(frozen=True, slots=True)
class User:
    id: int
    kind: AccountKind
    identifier: str
    name: str
    representative: str | None
    email: str
    totp: bool = False
    """Whether signing in asks for a TOTP code after the password."""


def _user(row: sqlite3.Row) -> User:
    return User(
        row["id"],
        AccountKind(row["kind"]),
        row["identifier"],
        row["name"],
        row["representative"],
        row["email"],
        row["totp_secret"] is not None,
    )


def normalise_identifier(value: str) -> str:
    """A CIN or ICE as typed, without spaces and in capitals."""
    return "".join(value.split()).upper()


def _text(value: str, field: str, *, required: bool = True) -> str:
    value = " ".join(value.split())
    if required and not value:
        raise FormError("This field is required.", field)
    if len(value) > MAX_NAME:
        raise FormError("This field is too long.", field)
    return value


class Accounts:
    """The accounts table; password hashing and checking happen here and nowhere else."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self.db = db
        self.passwords = Passwords(hasher)

    def register(
        self,
        *,
        kind: str,
        identifier: str,
        name: str,
        email: str,
        password: str,
        confirm: str,
        representative: str = "",
    ) -> User:
        """Create an account, or raise ``FormError`` naming the field at fault."""
        try:
            account_kind = AccountKind(kind)
        except ValueError:
            raise FormError("Choose a citizen or a company account.", "kind") from None
        identifier = normalise_identifier(identifier)
        if account_kind is AccountKind.CITIZEN and not CIN.fullmatch(identifier):
            raise FormError(
                "A CIN is one or two capital letters followed by digits, e.g. AB123456.", "identifier"
            )
        if account_kind is AccountKind.COMPANY and not ICE.fullmatch(identifier):
            raise FormError("An ICE is 15 digits.", "identifier")
        name = _text(name, "name")
        representative = _text(representative, "representative", required=account_kind is AccountKind.COMPANY)
        email = email.strip()
        if not EMAIL.fullmatch(email):
            raise FormError("Give a valid e-mail address.", "email")
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise FormError("A password has at least 10 characters.", "password")
        if password != confirm:
            raise FormError("The two passwords differ.", "confirm")
        hashed = self.passwords.hash(password)
        try:
            with self.db.transaction() as conn:
                cursor = conn.execute(
                    "INSERT INTO users (kind, identifier, name, representative, email, password, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        account_kind.value,
                        identifier,
                        name,
                        representative or None,
                        email,
                        hashed,
                        datetime.now(UTC).isoformat(),
                    ),
                )
        except sqlite3.IntegrityError:
            raise FormError("An account already exists for this identifier.", "identifier") from None
        user = self.get(int(cursor.lastrowid or 0))
        assert user is not None
        return user

    def from_identity_provider(self, identifier: str, name: str, email: str) -> User:
        """The citizen account of a CIN an identity provider vouched for, created on first sign-in.

        Such an account has no usable password (a hash of a random secret nobody knows).
        """
        identifier = normalise_identifier(identifier)
        if not CIN.fullmatch(identifier):
            raise FormError("The identity service did not give a CIN.")
        existing = self.by_identifier(identifier)
        if existing is not None:
            return existing
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO users (kind, identifier, name, representative, email, password, created_at) "
                "VALUES ('citizen', ?, ?, NULL, ?, ?, ?)",
                (
                    identifier,
                    " ".join(name.split())[:MAX_NAME] or identifier,
                    email[:320],
                    self.passwords.hash(secrets.token_urlsafe(32)),
                    datetime.now(UTC).isoformat(),
                ),
            )
        user = self.by_identifier(identifier)
        assert user is not None
        return user

    def authenticate(self, identifier: str, password: str) -> User | None:
        """The account when the password is right; None otherwise (same work whether or not it exists)."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT * FROM users WHERE identifier = ?", (normalise_identifier(identifier),)
            ).fetchone()
        if not self.passwords.matches(row["password"] if row else None, password) or row is None:
            return None
        if self.passwords.needs_rehash(row["password"]):
            with self.db.transaction() as conn:
                conn.execute(
                    "UPDATE users SET password = ? WHERE id = ?", (self.passwords.hash(password), row["id"])
                )
        return _user(row)

    def get(self, user_id: int) -> User | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return _user(row) if row else None

    def by_identifier(self, identifier: str) -> User | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM users WHERE identifier = ?", (identifier,)).fetchone()
        return _user(row) if row else None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, user: User) -> str:
    """The ``otpauth://`` address an authenticator application takes."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.identifier, issuer_name=TOTP_ISSUER)


class SecondFactor:
    """TOTP (RFC 6238) for accounts that turn it on; each code is accepted once."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enable(self, user_id: int, secret: str, code: str) -> bool:
        """Turn TOTP on when ``code`` proves the authenticator holds ``secret``."""
        step = matching_step(secret, code, time.time())
        if step is None:
            return False
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE users SET totp_secret = ?, totp_last_step = ? WHERE id = ?", (secret, step, user_id)
            )
        return True

    def check(self, user_id: int, code: str) -> bool:
        """Whether ``code`` is the account's current code, not used before (then it is used up)."""
        with self.db.transaction() as conn:
            return use_totp_code(conn, "users", user_id, code)

    def disable(self, user_id: int, code: str) -> bool:
        if not self.check(user_id, code):
            return False
        with self.db.transaction() as conn:
            conn.execute("UPDATE users SET totp_secret = NULL, totp_last_step = 0 WHERE id = ?", (user_id,))
        return True
