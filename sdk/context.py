"""What a handler knows about the message it handles, and what it may use on its node."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bus.envelope.model import Header
from bus.ids import ParticipantId, ServiceId
from bus.registry.catalogue import Catalogue
from bus.registry.store import CatalogueView
from sdk.resources import Resource, Resources
from sdk.storage import Storage

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Scope:
    """What every handler of one node shares: who it is, its directory, the catalogue, its resources."""

    participant: ParticipantId
    data_dir: Path
    catalogue_view: CatalogueView
    resources: Resources
    storage: Storage
    """Where its stores live (``Store.open(scope.storage)``): SQLite files in ``data_dir`` or PostgreSQL."""


@dataclass(frozen=True, slots=True)
class Context:
    """The verified header of the message being handled, and the handling participant's scope.

    A handler gets no node: it reads the header, the catalogue and its resources (``use``), and sends
    through resources (an outbox) rather than from inside the handler.
    """

    header: Header
    scope: Scope
    redelivered: bool = False
    digest: str | None = None  # SHA-256 (hex) of the message's bytes: the requestHash of its answer

    @property
    def client(self) -> ParticipantId:
        """The verified sender (equal to its certificate's participant id)."""
        return self.header.client

    @property
    def service(self) -> ServiceId:
        return self.header.service

    @property
    def message_id(self) -> str:
        return self.header.id

    @property
    def user_id(self) -> str | None:
        """The official acting, as the sending administration declared."""
        return self.header.user_id

    @property
    def purpose(self) -> str | None:
        """The declared legal basis or purpose of processing."""
        return self.header.purpose

    @property
    def data_subject(self) -> str | None:
        """Whose personal data the message concerns (``CIN:...`` or ``ICE:...``), signed by the sender."""
        return self.header.data_subject

    @property
    def participant(self) -> ParticipantId:
        """The participant running the handler."""
        return self.scope.participant

    @property
    def data_dir(self) -> Path:
        """The handling participant's own directory for its stores."""
        return self.scope.data_dir

    @property
    def catalogue(self) -> Catalogue:
        """The signed catalogue as this participant currently has it."""
        return self.scope.catalogue_view.current

    def use(self, resource: Resource[T]) -> T:
        """The value of a resource this participant's app set up on its node."""
        return self.scope.resources.get(resource)
