"""Where the ``mail`` commands act: a local office directory, or a running office over the bus.

Both desks take and return the contract's payloads, so a command is the same either way:

- ``LocalDesk``: ``MailOffice`` on a directory; the actor is whoever the command says.
- ``BusDesk``: signed calls from a participant (``--as``) to an office's teleservices; the office sees
  the caller as the envelope's signer and the actor as its ``userId``, and the caller's grants decide
  what it may do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from sdk import Client
from teleservices.mail_office.contract import ALERTS, DEPOSIT, REGISTER, contract_for
from teleservices.mail_office.errors import InvalidRequest
from teleservices.mail_office.models import (
    Acknowledgement,
    AlertQuery,
    Alerts,
    Deposit,
    DeskOperation,
    MailRecord,
    Register,
    RegisterQuery,
    Show,
)
from teleservices.mail_office.office import MailOffice


class Desk(Protocol):
    """One office, seen from the commands."""

    office: str  # the office's participant id
    office_name: str

    def deposit(self, letter: Deposit, *, channel: str | None = None) -> Acknowledgement: ...

    def perform(self, operation: DeskOperation, *, actor: str | None) -> MailRecord: ...

    def register(self, query: RegisterQuery) -> Register: ...

    def alerts(self, query: AlertQuery) -> Alerts: ...

    def close(self) -> None: ...


class LocalDesk:
    """An office directory on this machine."""

    def __init__(self, directory: Path) -> None:
        self.mail_office = MailOffice(directory)
        self.office = self.mail_office.participant
        self.office_name = self.mail_office.config.name

    def deposit(self, letter: Deposit, *, channel: str | None = None) -> Acknowledgement:
        return self.mail_office.deposit(letter, channel=channel)

    def perform(self, operation: DeskOperation, *, actor: str | None) -> MailRecord:
        if isinstance(operation, Show):
            return self.mail_office.show(operation.registration_number)
        if actor is None:
            raise InvalidRequest("a desk action on a local office needs an actor (--actor or $GOVBUS_ACTOR)")
        return self.mail_office.perform(operation, actor=actor)

    def register(self, query: RegisterQuery) -> Register:
        return self.mail_office.register(query)

    def alerts(self, query: AlertQuery) -> Alerts:
        return self.mail_office.alert_list(query)

    def close(self) -> None:
        """Nothing to release: the office opens a connection per operation."""


class BusDesk:
    """A running office reached over the bus as participant ``sender``."""

    def __init__(
        self,
        office: str,
        *,
        sender: str,
        home: str | Path,
        broker: str,
        prefix: str = "govbus",
        timeout: float = 10.0,
    ) -> None:
        self.office = office
        self.office_name = office
        self.timeout = timeout
        self.client = Client(sender, home=home, broker=broker, prefix=prefix)

    def deposit(self, letter: Deposit, *, channel: str | None = None) -> Acknowledgement:
        if channel is not None and channel != str(self.client.participant):
            raise InvalidRequest("over the bus the depositing system is the caller: leave out the channel")
        return self.client.call(self.office, DEPOSIT, letter, timeout=self.timeout)

    def perform(self, operation: DeskOperation, *, actor: str | None) -> MailRecord:
        return self.client.call(
            self.office, contract_for(operation), operation, user_id=actor, timeout=self.timeout
        )

    def register(self, query: RegisterQuery) -> Register:
        return self.client.call(self.office, REGISTER, query, timeout=self.timeout)

    def alerts(self, query: AlertQuery) -> Alerts:
        return self.client.call(self.office, ALERTS, query, timeout=self.timeout)

    def close(self) -> None:
        self.client.close()


__all__ = ["BusDesk", "Desk", "LocalDesk"]
