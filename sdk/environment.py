"""What an app's start-up code gets: the node's identity, directory and catalogue, a client, its resources.

``resource`` declares a per-node resource from a generator (in the spirit of FastStream's lifespan and
nameko's DependencyProvider)::

    @resource
    def REGISTER(env: Environment) -> Iterator[Register]:
        register = Register.open(env.data_dir)
        yield register            # handlers use it from here on
        register.close()          # after the app's consumers stopped

An app sets up its resources in declaration order when it starts on a node, and tears them down in
reverse order when it stops; a setup may ``env.use`` a resource declared before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from bus.ids import ParticipantId
from bus.pki import BusHome, SigningIdentity, TrustStore
from bus.registry.catalogue import Catalogue
from sdk.client import Client
from sdk.node import Node
from sdk.resources import Resource
from sdk.storage import Storage

T = TypeVar("T")


class Environment:
    """A node as its app's start-up code sees it (resources, hooks); handlers get a ``Context`` instead."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._client: Client | None = None
        self._lock = threading.Lock()

    @property
    def participant(self) -> ParticipantId:
        return self._node.participant

    @property
    def home(self) -> BusHome:
        return self._node.home

    @property
    def data_dir(self) -> Path:
        """The participant's own directory for its stores."""
        return self._node.data_dir

    @property
    def storage(self) -> Storage:
        """Where the participant's stores live: ``Store.open(env.storage)`` (SQLite or PostgreSQL)."""
        return self._node.scope.storage

    @property
    def identity(self) -> SigningIdentity:
        """The participant's signing key and certificate (to seal documents it issues)."""
        return self._node.identity

    @property
    def trust(self) -> TrustStore:
        """The bus CA and CRL (to check documents signed by other participants)."""
        return self._node.trust

    @property
    def catalogue(self) -> Catalogue:
        return self._node.catalogue

    def client(self) -> Client:
        """A client on this node, for the app's own outgoing calls (an outbox pump); shared, not owned."""
        with self._lock:
            if self._client is None:
                self._client = Client(node=self._node)
            return self._client

    def use(self, resource: Resource[T]) -> T:
        """The value of a resource already set up on this node."""
        return self._node.resources.get(resource)


def resource(setup: Callable[[Environment], Iterator[T]]) -> Resource[T]:
    """A per-node resource from a generator: code before ``yield`` sets it up, code after tears it down."""
    return Resource(contextmanager(setup), name=setup.__qualname__)


__all__ = ["Environment", "resource"]
