"""What a handler knows about the message it handles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bus.envelope.model import Header
from bus.ids import ParticipantId, ServiceId

if TYPE_CHECKING:
    from sdk.node import Node


@dataclass(frozen=True, slots=True)
class Context:
    """The verified header of the message being handled, and the participant handling it."""

    header: Header
    node: Node
    redelivered: bool = False

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
    def participant(self) -> ParticipantId:
        """The participant running the handler."""
        return self.node.participant

    @property
    def data_dir(self) -> Path:
        """The handling participant's own directory for its stores."""
        return self.node.data_dir
