"""Agent accounts: who works in which administration, in which service, with which roles.

An agent belongs to one administration (its mail office's participant id) or, for the bus authority,
to none. Passwords are argon2id hashes; TOTP works as for portal accounts. The agent's ``actor`` (the
name every desk action is recorded under) is derived from the account, never typed by anyone.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from argon2 import PasswordHasher

from web.credentials import MAX_PASSWORD, MIN_PASSWORD, Passwords, use_totp_code
from web.db import Database


class Role(StrEnum):
    CLERK = "clerk"
    """Mail-office clerk: registers counter letters, assigns and redirects, sees all the office's mail."""
    AGENT = "agent"
    """Service agent: works the letters of their service, drafts replies."""
    HEAD = "head"
    """Head of service: what an agent does, plus validating and closing."""
    SIGNER = "signer"
    AUDITOR = "auditor"
    BUS_ADMIN = "bus-admin"
    """The bus authority: no administration's mail, only the authority console."""


class AgentError(ValueError):
    """Refused agent data; the message is shown to the administrator creating the account."""


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    login: str
    name: str
    administration: str | None
    service: str | None
    roles: frozenset[Role]
    totp: bool = False
    disabled: bool = False

    @property
    def actor(self) -> str:
        """The name desk actions are recorded under: ``<login> (<name>)``, from the signed-in account."""
        return f"{self.login} ({self.name})"

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)


def _agent(row: sqlite3.Row) -> Agent:
    return Agent(
        row["id"],
        row["login"],
        row["name"],
        row["administration"],
        row["service"],
        frozenset(Role(r) for r in row["roles"].split(",") if r),
        row["totp_secret"] is not None,
        row["disabled_at"] is not None,
    )


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AgentError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")


def _check_roles(roles: set[Role] | frozenset[Role], administration: str | None) -> None:
    if not roles:
        raise AgentError("an agent has at least one role")
    if (Role.BUS_ADMIN in roles) != (administration is None):
        raise AgentError("the bus administrator, and only they, belongs to no administration")


class Agents:
    """The agents and agent_sessions tables of the portal's database (``web.db``, which creates them).

    A disabled agent (``disabled_at`` set) cannot sign in and has no session: disabling deletes them.
    """

    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self.db = db
        self.passwords = Passwords(hasher)

    def create(
        self,
        *,
        login: str,
        name: str,
        password: str,
        roles: set[Role] | frozenset[Role],
        administration: str | None,
        service: str | None = None,
    ) -> Agent:
        login = login.strip().lower()
        if not login or len(login) > 64 or not login.replace("-", "").replace(".", "").isalnum():
            raise AgentError("a login is letters, digits, '.' and '-'")
        _check_password(password)
        _check_roles(roles, administration)
        if not " ".join(name.split()):
            raise AgentError("an agent has a name")
        try:
            with self.db.transaction() as conn:
                cursor = conn.execute(
                    "INSERT INTO agents (login, name, administration, service, roles, password, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        login,
                        " ".join(name.split()),
                        administration,
                        service,
                        ",".join(sorted(roles)),
                        self.passwords.hash(password),
                        datetime.now(UTC).isoformat(),
                    ),
                )
        except sqlite3.IntegrityError:
            raise AgentError(f"the login {login!r} is taken") from None
        agent = self.get(int(cursor.lastrowid or 0))
        assert agent is not None
        return agent

    def authenticate(self, login: str, password: str) -> Agent | None:
        """The agent when the password is right; None otherwise (same work whether or not it exists)."""
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM agents WHERE login = ?", (login.strip().lower(),)).fetchone()
        if not self.passwords.matches(row["password"] if row else None, password) or row is None:
            return None
        if row["disabled_at"] is not None:
            return None
        if self.passwords.needs_rehash(row["password"]):
            with self.db.transaction() as conn:
                conn.execute(
                    "UPDATE agents SET password = ? WHERE id = ?", (self.passwords.hash(password), row["id"])
                )
        return _agent(row)

    def get(self, agent_id: int) -> Agent | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM agents WHERE id = ?", (agent_id,)).fetchone()
        return _agent(row) if row else None

    def by_login(self, login: str) -> Agent | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM agents WHERE login = ?", (login,)).fetchone()
        return _agent(row) if row else None

    def set_totp(self, agent_id: int, secret: str | None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE agents SET totp_secret = ?, totp_last_step = 0 WHERE id = ?", (secret, agent_id)
            )

    def check_totp(self, agent_id: int, code: str) -> bool:
        """Whether ``code`` is the agent's current TOTP code, not used before (then it is used up)."""
        with self.db.transaction() as conn:
            return use_totp_code(conn, "agents", agent_id, code)

    def all(self) -> list[Agent]:
        """Every agent, by administration then login (the bus administrators first)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM agents ORDER BY administration IS NOT NULL, administration, login"
            ).fetchall()
        return [_agent(row) for row in rows]

    def update(
        self,
        agent_id: int,
        *,
        roles: set[Role] | frozenset[Role],
        administration: str | None,
        service: str | None,
    ) -> Agent:
        """Set the agent's roles, administration and service (their open sessions see it at once)."""
        _check_roles(roles, administration)
        with self.db.transaction() as conn:
            changed = conn.execute(
                "UPDATE agents SET roles = ?, administration = ?, service = ? WHERE id = ?",
                (",".join(sorted(roles)), administration, service or None, agent_id),
            ).rowcount
        agent = self.get(agent_id)
        if not changed or agent is None:
            raise AgentError("no such agent")
        return agent

    def reset_password(self, agent_id: int, password: str) -> None:
        """A new password; the agent's sessions end (whoever held the old one is signed out)."""
        _check_password(password)
        with self.db.transaction() as conn:
            if not conn.execute(
                "UPDATE agents SET password = ? WHERE id = ?", (self.passwords.hash(password), agent_id)
            ).rowcount:
                raise AgentError("no such agent")
            conn.execute(
                "DELETE FROM agent_sessions WHERE user_id = ? OR pending_user_id = ?", (agent_id, agent_id)
            )

    def disable(self, agent_id: int) -> None:
        """The agent can no longer sign in; their sessions are deleted, so their open pages are signed out."""
        with self.db.transaction() as conn:
            if not conn.execute(
                "UPDATE agents SET disabled_at = COALESCE(disabled_at, ?) WHERE id = ?",
                (datetime.now(UTC).isoformat(), agent_id),
            ).rowcount:
                raise AgentError("no such agent")
            conn.execute(
                "DELETE FROM agent_sessions WHERE user_id = ? OR pending_user_id = ?", (agent_id, agent_id)
            )
